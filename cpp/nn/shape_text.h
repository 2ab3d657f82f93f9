// Shapes and tuples in error messages, printed as Python prints them.
#pragma once
#include <sstream>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace kerasette {

// "(5, 5)" or "(5,)".
inline std::string tuple_str(const std::vector<int64_t>& v) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
  os << (v.size() == 1 ? ",)" : ")");
  return os.str();
}

// "(None, 3, 3, 1)": a per-sample shape with the batch axis in front, as Keras prints it.
inline std::string batch_shape_str(const Shape& s) {
  std::ostringstream os;
  os << "(None";
  for (int64_t d : s) os << ", " << d;
  os << ")";
  return os.str();
}

}  // namespace kerasette
