// SPDX-License-Identifier: MIT
// Loading YAML with errors that name the file, the line and the key (shared by the io readers).
#pragma once

#include <charconv>
#include <string>
#include <map>
#include <system_error>
#include <vector>

#include <yaml-cpp/yaml.h>

#include <hat/config.hpp>

namespace hat::detail {

/// `file:line` for a node; yaml-cpp marks are 0-based and -1 when unknown.
inline std::string where(const std::string& file, const YAML::Mark& m) {
  return m.line >= 0 ? file + ":" + std::to_string(m.line + 1) : file;
}

/// Parses `text` and requires a non-empty mapping at the top, each key once.
inline YAML::Node load_yaml_mapping(const std::string& text, const std::string& file) {
  if (text.find('\0') != std::string::npos)
    throw config_error(file + ": not a YAML text file (it contains NUL bytes)");
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw config_error(where(file, e.mark) + ":" + std::to_string(e.mark.column + 1) +
                       ": YAML syntax error: " + e.msg);
  } catch (const YAML::Exception& e) {
    throw config_error(where(file, e.mark) + ": cannot read YAML: " + e.msg);
  }
  if (!root || root.IsNull()) throw config_error(file + ": the file is empty (expected YAML keys)");
  if (!root.IsMap())
    throw config_error(where(file, root.Mark()) + ": expected a mapping of 'key: value' lines at the top");
  // One rule for every reader: a key given twice is an error (yaml-cpp keeps both, and which one
  // a reader saw would depend on how it looks keys up).
  std::map<std::string, YAML::Mark> seen;
  for (auto it = root.begin(); it != root.end(); ++it) {
    if (!it->first.IsScalar()) continue;  // each reader names a key that is not plain text
    const auto [at, first] = seen.emplace(it->first.Scalar(), it->first.Mark());
    if (!first)
      throw config_error(where(file, it->first.Mark()) + ": key '" + at->first + "' appears twice (first at " +
                         where(file, at->second) + ")");
  }
  return root;
}

/// Where to report a value: its own position, or its key's when it is empty (yaml-cpp
/// places a null value at the start of the next line).
inline std::string where_value(const std::string& file, const YAML::Node& n, const YAML::Mark& key_mark) {
  return where(file, n.IsNull() ? key_mark : n.Mark());
}

/// An integer scalar; anything else (text, float, list, map, null) is an error naming the key.
inline int yaml_int(const YAML::Node& n, const std::string& file, const std::string& key,
                    const YAML::Mark& key_mark = YAML::Mark::null_mark()) {
  const auto fail = [&](const std::string& why) -> int {
    throw config_error(where_value(file, n, key_mark) + ": key '" + key + "': " + why);
  };
  if (!n.IsScalar()) return fail(n.IsSequence() ? "expected an integer, got a list"
                                 : n.IsMap()    ? "expected an integer, got a mapping"
                                                : "expected an integer, got nothing");
  const std::string& s = n.Scalar();
  int v = 0;
  const char* b = s.data();
  const char* e = b + s.size();
  if (b != e && *b == '+') ++b;
  const auto [p, ec] = std::from_chars(b, e, v);
  if (ec == std::errc::result_out_of_range) return fail("integer out of range: '" + s + "'");
  if (ec != std::errc{} || p != e || b == e) return fail("expected an integer, got '" + s + "'");
  return v;
}

/// A flow or block list of integers.
inline std::vector<int> yaml_int_list(const YAML::Node& n, const std::string& file, const std::string& key,
                                      const YAML::Mark& key_mark = YAML::Mark::null_mark()) {
  if (!n.IsSequence())
    throw config_error(where_value(file, n, key_mark) + ": key '" + key + "': expected a list like [1, 2], got " +
                       (n.IsScalar() ? "'" + n.Scalar() + "'" : n.IsMap() ? std::string("a mapping")
                                                                          : std::string("nothing")));
  std::vector<int> out;
  for (const auto& item : n) out.push_back(yaml_int(item, file, key, key_mark));
  return out;
}

}  // namespace hat::detail
