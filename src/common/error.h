// Typed errors for every boundary of the library. The CLI maps them to messages and exit codes;
// the library never calls exit().
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace stilts {

// Base of every error stilts throws on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bad input from the user: a file, field, row or argument that is not what was expected.
// The message names the file (and the tensor, field or row) and what is wrong.
class InputError : public Error {
 public:
  using Error::Error;
};

// A broken internal invariant (a bug in stilts, not in the input).
class InternalError : public Error {
 public:
  using Error::Error;
};

namespace detail {
template <typename... Parts>
std::string concat(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  return out.str();
}
}  // namespace detail

// Throws InputError with the parts streamed together: input_error(path, ": tensor '", name, "' ...").
template <typename... Parts>
[[noreturn]] void input_error(Parts&&... parts) {
  throw InputError(detail::concat(std::forward<Parts>(parts)...));
}

}  // namespace stilts

// Internal invariants: STILTS_CHECK(cond, "what", value, ...) throws InternalError naming the place.
#define STILTS_CHECK(cond, ...)                                                          \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      throw ::stilts::InternalError(::stilts::detail::concat(                            \
          __FILE__, ":", __LINE__, ": check failed: " #cond ": ", ##__VA_ARGS__));       \
    }                                                                                    \
  } while (false)
