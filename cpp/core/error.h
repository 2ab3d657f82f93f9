// Engine errors. Each maps to the Python exception of the same name in the bindings, so a message
// written here reaches the user unchanged (pybind11 maps std::invalid_argument to ValueError).
#pragma once
#include <cstdio>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace kerasette {

struct ValueError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

struct TypeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Python's NotImplementedError: a layer or option that the chosen device does not support.
struct NotImplementedError : std::logic_error {
  using std::logic_error::logic_error;
};

// Python's MemoryError: a device allocation that failed even after the cache was released.
struct OutOfMemoryError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Message building without iostreams: numbers go through to_string/snprintf, so formatting an
// error never depends on the C++ runtime's locale machinery (a toolchain that links a second,
// static libstdc++ into the module crashes inside ostream's number formatting).
inline void append_part(std::string& out, const std::string& v) { out += v; }
inline void append_part(std::string& out, const char* v) { out += v; }
inline void append_part(std::string& out, char v) { out += v; }
template <typename T>
void append_part(std::string& out, const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    out += v ? "true" : "false";
  } else if constexpr (std::is_integral_v<T>) {
    out += std::to_string(v);
  } else if constexpr (std::is_floating_point_v<T>) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", static_cast<double>(v));
    out += buf;
  } else {
    static_assert(std::is_convertible_v<T, std::string>, "str_cat: unsupported type");
    out += std::string(v);
  }
}

// Builds a message from parts: str_cat("matmul: ", a, " vs ", b).
template <typename... Parts>
std::string str_cat(const Parts&... parts) {
  std::string out;
  (append_part(out, parts), ...);
  return out;
}

template <typename... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  throw ValueError(str_cat(parts...));
}

#define KS_CHECK(cond, ...)                  \
  do {                                       \
    if (!(cond)) ::kerasette::fail(__VA_ARGS__); \
  } while (0)

}  // namespace kerasette
