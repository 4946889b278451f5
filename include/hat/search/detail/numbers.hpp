// SPDX-License-Identifier: MIT
// Number helpers of the searches: an order that puts NaN last, and round-trip number text.
#pragma once

#include <charconv>  // to_chars: shortest round-trip form, locale-free
#include <cmath>     // isnan
#include <string>

namespace hat::detail {

/// `a < b`, with NaN after every number (so a diverged fitness sorts last): a strict weak
/// order, which `a < b` alone is not once NaN appears.
inline bool less_nan_last(double a, double b) noexcept {
  return !std::isnan(a) && (std::isnan(b) || a < b);
}

/// The shortest text that reads back as the same double ("49152", "0.25", "1e+09").
inline std::string number_text(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

}  // namespace hat::detail
