#include "nn/attrs.h"

namespace kerasette {

const AttrValue& Attrs::at(const std::string& key) const {
  auto it = values_.find(key);
  KS_CHECK(it != values_.end(), "Missing engine attribute `", key, "`");
  return it->second;
}

int64_t Attrs::get_int(const std::string& key) const {
  const AttrValue& v = at(key);
  if (auto p = std::get_if<int64_t>(&v)) return *p;
  if (auto p = std::get_if<bool>(&v)) return *p ? 1 : 0;
  if (auto p = std::get_if<double>(&v)) return static_cast<int64_t>(*p);
  fail("Engine attribute `", key, "` must be an integer");
}

int64_t Attrs::get_int(const std::string& key, int64_t fallback) const {
  return has(key) ? get_int(key) : fallback;
}

double Attrs::get_float(const std::string& key, double fallback) const {
  if (!has(key)) return fallback;
  const AttrValue& v = at(key);
  if (auto p = std::get_if<double>(&v)) return *p;
  if (auto p = std::get_if<int64_t>(&v)) return static_cast<double>(*p);
  if (auto p = std::get_if<bool>(&v)) return *p ? 1.0 : 0.0;
  fail("Engine attribute `", key, "` must be a number");
}

bool Attrs::get_bool(const std::string& key, bool fallback) const {
  if (!has(key)) return fallback;
  const AttrValue& v = at(key);
  if (auto p = std::get_if<bool>(&v)) return *p;
  if (auto p = std::get_if<int64_t>(&v)) return *p != 0;
  fail("Engine attribute `", key, "` must be a boolean");
}

std::string Attrs::get_str(const std::string& key, const std::string& fallback) const {
  if (!has(key)) return fallback;
  const AttrValue& v = at(key);
  if (auto p = std::get_if<std::string>(&v)) return *p;
  fail("Engine attribute `", key, "` must be a string");
}

std::vector<int64_t> Attrs::get_ints(const std::string& key) const {
  const AttrValue& v = at(key);
  if (auto p = std::get_if<std::vector<int64_t>>(&v)) return *p;
  if (auto p = std::get_if<int64_t>(&v)) return {*p};
  if (auto p = std::get_if<std::vector<double>>(&v)) {
    std::vector<int64_t> out;
    for (double d : *p) out.push_back(static_cast<int64_t>(d));
    return out;
  }
  fail("Engine attribute `", key, "` must be a list of integers");
}

std::vector<int64_t> Attrs::get_ints(const std::string& key, std::vector<int64_t> fallback) const {
  return has(key) ? get_ints(key) : fallback;
}

std::vector<double> Attrs::get_floats(const std::string& key) const {
  const AttrValue& v = at(key);
  if (auto p = std::get_if<std::vector<double>>(&v)) return *p;
  if (auto p = std::get_if<double>(&v)) return {*p};
  if (auto p = std::get_if<std::vector<int64_t>>(&v)) return {p->begin(), p->end()};
  fail("Engine attribute `", key, "` must be a list of numbers");
}

}  // namespace kerasette
