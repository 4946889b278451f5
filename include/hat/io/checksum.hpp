// SPDX-License-Identifier: MIT
// checksum: the FNV-1a hash hat's binary files (predictors, checkpoints) end with, and the hash of
// a file a checkpoint binds to (its subword model, its dictionaries).
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

#include <hat/io/read_file.hpp>

namespace hat {

/// 64-bit FNV-1a of `bytes`, continuing from `h` (so a file can be hashed in pieces).
inline std::uint64_t fnv1a(std::string_view bytes, std::uint64_t h = 1469598103934665603ULL) noexcept {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

/// FNV-1a of a file's bytes, as 16 hex digits.
inline std::string file_hash(const std::filesystem::path& path) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a(read_file(path, model_file_limit))));
  return hex;
}

}  // namespace hat
