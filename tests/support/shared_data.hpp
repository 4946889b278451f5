// SPDX-License-Identifier: MIT
// Paths to ../shared reference data and helpers to list HAT's released configs.
#pragma once

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace hat_test {

inline std::filesystem::path shared_dir() { return HAT_SHARED_DIR; }
inline std::filesystem::path hat_configs() { return shared_dir() / "reference" / "hat-configs"; }
inline std::filesystem::path test_data() { return HAT_TEST_DATA_DIR; }

/// The released SubTransformer configs of one task (`HAT_*.yml`), sorted.
inline std::vector<std::filesystem::path> released_configs(const std::string& task) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(hat_configs() / task / "subtransformer"))
    if (e.path().filename().string().starts_with("HAT_")) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace hat_test
