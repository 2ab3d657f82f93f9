// Engine errors. Each maps to the Python exception of the same name in the bindings, so a message
// written here reaches the user unchanged (pybind11 maps std::invalid_argument to ValueError).
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace kerasette {

struct ValueError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

struct TypeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Builds a message from any streamable parts: KS_FAIL("matmul: ", a, " vs ", b).
template <typename... Parts>
std::string str_cat(const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  return os.str();
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
