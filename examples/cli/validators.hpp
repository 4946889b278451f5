// SPDX-License-Identifier: MIT
// validators: number flags that must be finite. CLI11's PositiveNumber and Range let "nan" and "inf"
// through (every comparison with NaN is false), so every real-valued flag of `hat` checks here.
#pragma once

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>

#include <CLI/CLI.hpp>

namespace hat_cli {

/// A finite number in [lo, hi] (`what` names the range in errors), parsed as the option will be.
inline CLI::Validator finite_number(double lo, double hi, const std::string& what) {
  return CLI::Validator(
      [lo, hi, what](std::string& text) -> std::string {
        char* end = nullptr;
        errno = 0;
        const double v = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(v))
          return "expected a finite number, got '" + text + "'";
        if (v < lo || v > hi) return "expected " + what + ", got " + text;
        return {};
      },
      "NUMBER");
}

/// A finite number > 0.
inline CLI::Validator positive_number() {
  return finite_number(std::nextafter(0.0, 1.0), HUGE_VAL, "a positive number").description("NUMBER > 0");
}

/// A whole number > 0 (CLI11's PositiveNumber names a 300-digit range when it refuses one).
inline CLI::Validator positive_count() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        std::size_t digits = 0;
        while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
        if (text.empty() || digits != text.size()) return "expected a whole number > 0, got '" + text + "'";
        if (text.find_first_not_of('0') == std::string::npos) return "expected a whole number > 0, got " + text;
        return {};
      },
      "N > 0");
}

}  // namespace hat_cli
