// SPDX-License-Identifier: MIT
// checksum: the FNV-1a hash hat's binary files (predictors, checkpoints) end with.
#pragma once

#include <cstdint>
#include <string_view>

namespace hat {

/// 64-bit FNV-1a of `bytes`, continuing from `h` (so a file can be hashed in pieces).
inline std::uint64_t fnv1a(std::string_view bytes, std::uint64_t h = 1469598103934665603ULL) noexcept {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

}  // namespace hat
