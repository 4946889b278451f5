// SPDX-License-Identifier: MIT
// fairseq_space: which of hat's spaces a fairseq checkpoint's args declare (hat import, hat test),
// and is_torch_save, whether a file is one.
#pragma once

#include <algorithm>
#include <fstream>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include <hat/nn/from_fairseq.hpp>

#include "cli_spaces.hpp"

namespace hat_cli {

/// A torch.save file (zip or legacy pickle) rather than a hat checkpoint or safetensors file.
inline bool is_torch_save(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[4] = {};
  if (!in.read(head, sizeof head)) return false;
  return std::string(head, 4) == "PK\x03\x04" || static_cast<unsigned char>(head[0]) == 0x80;
}

/// The trainable space the checkpoint's args declare: `wanted` itself (checked), or with "auto"
/// the one every list and size of the args agrees with. Differences are printed when none does.
inline std::string fairseq_space(const hat::fairseq_checkpoint& ck, const std::string& checkpoint, const std::string& wanted) {
  if (!ck.args) {
    if (wanted == "auto")
      throw hat::config_error(checkpoint + ": the checkpoint has no args to find its space from; name one with --space");
    return wanted;
  }
  const auto d = hat::fairseq_space_description(ck, checkpoint);
  std::vector<std::string> names = wanted == "auto" ? space_names(space_role::trainable) : std::vector<std::string>{wanted};
  std::vector<std::pair<std::string, std::vector<std::string>>> tried;
  for (const auto& n : names) {
    auto diffs = with_space<space_role::trainable>(n, "--space", [&]<class S>() { return hat::space_differences<S>(d); });
    if (diffs.empty()) return n;
    tried.emplace_back(n, std::move(diffs));
  }
  std::sort(tried.begin(), tried.end(), [](const auto& a, const auto& b) { return a.second.size() < b.second.size(); });
  if (wanted == "auto")
    std::cerr << "hat: error: " << checkpoint << ": its args match no space hat knows; the closest, '" << tried[0].first
              << "', differs in " << tried[0].second.size() << ":\n";
  else
    std::cerr << "hat: error: " << checkpoint << ": its args differ from space '" << wanted << "' in "
              << tried[0].second.size() << ":\n";
  for (const auto& line : tried[0].second) std::cerr << "  " << line << "\n";
  throw exit_code{1};
}

}  // namespace hat_cli
