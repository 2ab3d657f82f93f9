// Shapes and tuples in error messages, printed as Python prints them.
#pragma once
#include <string>
#include <vector>

#include "core/tensor.h"

namespace kerasette {

// "(5, 5)" or "(5,)".
inline std::string tuple_str(const std::vector<int64_t>& v) { return shape_str(v); }

// "(None, 3, 3, 1)": a per-sample shape with the batch axis in front, as Keras prints it.
inline std::string batch_shape_str(const Shape& s) {
  std::string out = "(None";
  for (int64_t d : s) out += ", " + std::to_string(d);
  return out + ")";
}

}  // namespace kerasette
