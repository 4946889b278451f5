// SPDX-License-Identifier: MIT
// same_file: outputs never overwrite inputs. Files are compared by identity (device and inode, through
// std::filesystem::equivalent), so another spelling, a symbolic link or a hard link of an input counts.
#pragma once

#include <filesystem>
#include <initializer_list>
#include <string>
#include <system_error>

#include <hat/config.hpp>

namespace hat {

/// Whether `a` and `b` name one existing file (false when either does not exist).
inline bool same_file(const std::filesystem::path& a, const std::filesystem::path& b) {
  if (a.empty() || b.empty()) return false;
  std::error_code ec;
  const bool same = std::filesystem::equivalent(a, b, ec);
  return !ec && same;
}

/// Throws config_error when output `out` (described as `what`: "the predictor file") is one of
/// `inputs`, naming both; an output that does not exist yet cannot be an input.
template <class Paths>
void refuse_to_overwrite(const std::filesystem::path& out, const std::string& what, const Paths& inputs) {
  for (const auto& in : inputs)
    if (same_file(out, in))
      throw config_error(what + " " + out.string() + " is the input " + std::filesystem::path(in).string() +
                         "; refusing to overwrite it (choose another output)");
}
inline void refuse_to_overwrite(const std::filesystem::path& out, const std::string& what,
                                std::initializer_list<std::filesystem::path> inputs) {
  refuse_to_overwrite<std::initializer_list<std::filesystem::path>>(out, what, inputs);
}

}  // namespace hat
