// SPDX-License-Identifier: MIT
// dropout_mask: a counter-based keep/drop decision, so a mask is recomputed, never stored or replayed from a stream.
#pragma once

#include <cstdint>

#include <hat/backend/host_device.hpp>

namespace hat {

/// splitmix64's finaliser: a bijective mix of 64 bits (every output bit depends on every input bit).
HAT_HOST_DEVICE constexpr std::uint64_t mix64(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// The key of dropout site `site` under `base` (for example: the update's key, then a layer's,
/// then one of its dropout sites).
HAT_HOST_DEVICE constexpr std::uint64_t dropout_key(std::uint64_t base, std::uint64_t site) noexcept {
  return mix64(base ^ mix64(site + 0x9E3779B97F4A7C15ull));
}

/// Whether element `index` survives dropout at rate p under `key`: a pure function of both, so
/// the backward, a resumed run and another backend draw the same mask with no state. 24 bits
/// of the hash give the uniform draw (float precision). CUDA kernels call it too.
HAT_HOST_DEVICE constexpr bool dropout_keeps(std::uint64_t key, std::uint64_t index, float p) noexcept {
  const std::uint64_t h = mix64(key + index * 0x9E3779B97F4A7C15ull);
  return static_cast<float>(h >> 40) * (1.0f / 16777216.0f) >= p;
}

/// One dropout site: rate and key. Rate 0 (evaluation, or a rate of 0) is the identity.
struct dropout_site {
  float p = 0;
  std::uint64_t key = 0;
  bool active() const noexcept { return p > 0; }
};

}  // namespace hat
