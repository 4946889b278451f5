// SPDX-License-Identifier: MIT
// bf16: bfloat16 as weights are stored in it (the upper half of an IEEE float), rounded to nearest even.
#pragma once

#include <bit>
#include <cstdint>

namespace hat {

/// A bfloat16 as stored: a binary32's sign, its 8 exponent bits and its top 7 mantissa bits.
/// Storage only: products widen it to float, exactly (to_float).
struct bf16 {
  std::uint16_t bits = 0;
  friend constexpr bool operator==(bf16, bf16) = default;
};
static_assert(sizeof(bf16) == 2);

/// The nearest bf16, ties to even (PyTorch's `.to(torch.bfloat16)`); a NaN stays a (quiet) NaN,
/// and a finite value that rounds past the largest bf16 becomes infinity, as in IEEE rounding.
constexpr bf16 to_bf16(float f) noexcept {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(f);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return {static_cast<std::uint16_t>((u >> 16) | 0x0040u)};
  return {static_cast<std::uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16)};
}

/// The float a bf16 stands for (exact: a bf16 is a float with 16 zero low bits).
constexpr float to_float(bf16 b) noexcept { return std::bit_cast<float>(static_cast<std::uint32_t>(b.bits) << 16); }

}  // namespace hat
