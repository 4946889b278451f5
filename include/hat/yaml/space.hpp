// SPDX-License-Identifier: MIT
// Compare HAT's SuperTransformer space files (`space0.yml`, latency-dataset configs) with a space type.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <hat/io/read_file.hpp>
#include <hat/space/differences.hpp>
#include <hat/yaml/read.hpp>
#include <hat/space/transformer.hpp>

namespace hat {

/// space_differences on the text of a HAT space YAML file (`space0.yml`, latency-dataset
/// configs). Throws config_error for files that are not YAML mappings or hold non-integer values.
template <class S>
std::vector<std::string> space_yaml_differences(const std::string& text, const std::string& file) {
  const YAML::Node root = detail::load_yaml_mapping(text, file);
  space_description d;
  d.list = [&](const std::string& key) -> std::optional<std::vector<int>> {
    const YAML::Node n = root[key];
    if (!n) return std::nullopt;
    return detail::yaml_int_list(n, file, key);
  };
  d.integer = [&](const std::string& key) -> std::optional<int> {
    const YAML::Node n = root[key];
    if (!n) return std::nullopt;
    return detail::yaml_int(n, file, key);
  };
  d.keys = [&] {
    std::vector<std::string> k;
    for (auto it = root.begin(); it != root.end(); ++it) k.push_back(it->first.Scalar());
    return k;
  };
  d.where = [&](const std::string& key) {
    for (auto it = root.begin(); it != root.end(); ++it)
      if (it->first.Scalar() == key) return detail::where(file, it->first.Mark());
    return file;
  };
  return space_differences<S>(d);
}

template <class S>
std::vector<std::string> space_yaml_differences(const std::filesystem::path& path) {
  return space_yaml_differences<S>(read_file(path), path.string());
}

}  // namespace hat
