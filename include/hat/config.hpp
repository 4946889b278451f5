// SPDX-License-Identifier: MIT
// Library version, the error types every module throws, and HAT_ASSERT.
#pragma once

#include <stdexcept>
#include <string>

#define HAT_VERSION_MAJOR 0
#define HAT_VERSION_MINOR 1
#define HAT_VERSION_PATCH 0

namespace hat {

inline constexpr const char* version_string = "0.1.0";

/// A value that does not belong to its search space (dimension, layer and value are in the message).
struct invalid_arch : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

/// A configuration file that cannot be used; the message names the file, the line and the key.
struct config_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace detail {
[[noreturn]] inline void assert_fail(const char* expr, const char* file, int line, const char* msg) {
  throw std::logic_error(std::string(file) + ":" + std::to_string(line) + ": HAT_ASSERT(" + expr +
                         ") failed: " + msg);
}
}  // namespace detail

}  // namespace hat

/// Precondition check that stays on in release builds: these guard user input, not hot loops.
#define HAT_ASSERT(expr, msg) \
  ((expr) ? static_cast<void>(0) : ::hat::detail::assert_fail(#expr, __FILE__, __LINE__, msg))
