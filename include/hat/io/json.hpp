// SPDX-License-Identifier: MIT
// json: every JSON file or line hat writes or reads goes through nlohmann::json (keys in the order
// written), with errors that name the file and key. Needs nlohmann-json (part of hat::text).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <type_traits>
#include <string>

#include <nlohmann/json.hpp>

#include <hat/config.hpp>
#include <hat/io/atomic_file.hpp>
#include <hat/io/read_file.hpp>

namespace hat {

using json = nlohmann::ordered_json;

namespace detail {
/// Throws config_error naming the first value of j that is not a finite number (`at`: its path).
inline void require_finite_json(const json& j, const std::string& at) {
  if (j.is_number_float() && !std::isfinite(j.get<double>()))
    throw config_error("refusing to write " + (at.empty() ? std::string("a JSON value") : "'" + at + "'") + " = " +
                       std::to_string(j.get<double>()) + ": JSON has no such number (a result that is not a number is no result)");
  if (j.is_object())
    for (const auto& [key, value] : j.items()) require_finite_json(value, at.empty() ? key : at + "." + key);
  if (j.is_array())
    for (std::size_t i = 0; i < j.size(); ++i) require_finite_json(j[i], at + "[" + std::to_string(i) + "]");
}
}  // namespace detail

/// j's text, on one line (indent -1) or indented, and a newline. Strings that are not valid
/// UTF-8 get U+FFFD instead of an exception. A NaN or an infinity anywhere in j is a
/// config_error naming its key: JSON has neither, and every JSON hat writes passes here.
inline std::string json_text(const json& j, int indent) {
  detail::require_finite_json(j, "");
  return j.dump(indent, ' ', false, json::error_handler_t::replace) + "\n";
}

/// j as one line of JSON Lines.
inline std::string json_line(const json& j) { return json_text(j, -1); }

/// Writes j to path atomically (a temporary file, then a rename), indented for people.
inline void write_json_atomic(const std::filesystem::path& path, const json& j) { write_file_atomic(path, json_text(j, 2)); }

/// Parses a JSON document; a syntax error, or a number JSON can hold but a double cannot
/// (`4E4444`, found by tests/fuzz/json_record.cpp), is a config_error naming the file (and
/// nlohmann's line and column).
inline json parse_json(const std::string& text, const std::string& file) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw config_error(file + ": not valid JSON: " + e.what());
  }
}

/// Reads and parses a JSON file (errors name the file).
inline json read_json(const std::filesystem::path& path) { return parse_json(read_file(path), path.string()); }

/// j[key] as a T; a missing key or a value of another type is a config_error naming the file.
/// An integer T takes a whole number in its range only: nlohmann casts any float to it, which is
/// undefined beyond the range (1e104 as a count; found by tests/fuzz/json_record.cpp).
template <class T>
T json_get(const json& j, const std::string& key, const std::string& file) {
  try {
    const json& v = j.at(key);
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      const auto fail = [&](const std::string& what) -> T { throw config_error(file + ": key '" + key + "': " + what); };
      if (v.is_number_float()) {
        const double d = v.get<double>();
        const double lo = static_cast<double>(std::numeric_limits<T>::min());
        const double hi = std::ldexp(1.0, std::numeric_limits<T>::digits);  // exclusive
        if (!(d >= lo && d < hi) || d != std::trunc(d)) return fail("expected a whole number in range, got " + v.dump());
        return static_cast<T>(d);
      }
      if (v.is_number_unsigned()) {
        if (v.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) return fail("out of range: " + v.dump());
      } else if (v.is_number_integer()) {
        const std::int64_t i = v.get<std::int64_t>();
        if (i < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
            (i > 0 && static_cast<std::uint64_t>(i) > static_cast<std::uint64_t>(std::numeric_limits<T>::max())))
          return fail("out of range: " + v.dump());
      }
    }
    return v.get<T>();
  } catch (const json::exception& e) {
    throw config_error(file + ": key '" + key + "': " + e.what());
  }
}

}  // namespace hat
