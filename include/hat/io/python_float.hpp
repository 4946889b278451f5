// SPDX-License-Identifier: MIT
// python_repr: a double printed exactly as Python's repr() prints it (HAT's CSVs are written so).
#pragma once

#include <charconv>
#include <cmath>
#include <string>

namespace hat {

/// Shortest round-trip digits, laid out by Python's rules: fixed notation for decimal
/// exponents in [-4, 16), scientific otherwise, always with a '.' or an exponent
/// (`6.0`, `1962.6666666666667`, `1e-05`, `1e+16`, `nan`, `inf`).
inline std::string python_repr(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x < 0 ? "-inf" : "inf";
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific);
  const std::string s(buf, res.ptr);  // "-d.ddde+XX"
  const auto e_pos = s.find('e');
  std::string sign, digits;
  for (std::size_t i = 0; i < e_pos; ++i) {
    if (s[i] == '-') sign = "-";
    else if (s[i] != '.') digits += s[i];
  }
  const int exp = std::stoi(s.substr(e_pos + 1));
  if (exp < -4 || exp >= 16) {
    std::string out = sign + digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    const int a = exp < 0 ? -exp : exp;
    return out + "e" + (exp < 0 ? "-" : "+") + (a < 10 ? "0" : "") + std::to_string(a);
  }
  if (exp < 0) return sign + "0." + std::string(static_cast<std::size_t>(-exp - 1), '0') + digits;
  const auto int_len = static_cast<std::size_t>(exp) + 1;
  if (digits.size() <= int_len) return sign + digits + std::string(int_len - digits.size(), '0') + ".0";
  return sign + digits.substr(0, int_len) + "." + digits.substr(int_len);
}

}  // namespace hat
