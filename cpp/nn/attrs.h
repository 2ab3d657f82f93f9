// Layer, loss and optimizer settings as handed over by the Python API: a flat name -> value map.
// C++ never sees a Keras config; the Python side translates configs into these few plain values.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "core/error.h"

namespace kerasette {

using AttrValue = std::variant<bool, int64_t, double, std::string, std::vector<int64_t>,
                               std::vector<double>>;

class Attrs {
 public:
  Attrs() = default;
  void set(const std::string& key, AttrValue value) { values_[key] = std::move(value); }
  bool has(const std::string& key) const { return values_.count(key) > 0; }

  int64_t get_int(const std::string& key, int64_t fallback) const;
  int64_t get_int(const std::string& key) const;
  double get_float(const std::string& key, double fallback) const;
  bool get_bool(const std::string& key, bool fallback) const;
  std::string get_str(const std::string& key, const std::string& fallback) const;
  std::vector<int64_t> get_ints(const std::string& key) const;
  std::vector<int64_t> get_ints(const std::string& key, std::vector<int64_t> fallback) const;
  std::vector<double> get_floats(const std::string& key) const;

 private:
  const AttrValue& at(const std::string& key) const;
  std::map<std::string, AttrValue> values_;
};

}  // namespace kerasette
