// SPDX-License-Identifier: MIT
// int8_rows: the int8 arithmetic of low-precision products: weights symmetric with one scale per
// output row, activation rows as 13-bit integers, and the exact integer dot products between them.
#pragma once

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace hat {

/// Weight rows are w ≈ scale · q with q in [-127, 127] and scale = max |w| / 127 over the whole
/// row (of the super weight: a slice of the row reuses its scale, so slicing never requantises).
inline constexpr int int8_weight_max = 127;

/// An activation row x [k] enters an int8 product as integers in [-4095, 4095] with one scale,
/// x ≈ scale · q: 12 bits of magnitude (PyTorch's dynamic quantisation keeps 8). 4095 · 127 ·
/// int8_chunk fits in an int32, so a chunk's dot product is exact integer arithmetic: the same
/// bits whatever the vector width or the order of the additions.
inline constexpr int int8_activation_max = 4095;
inline constexpr std::size_t int8_chunk = 4096;
static_assert(static_cast<std::int64_t>(int8_activation_max) * int8_weight_max * static_cast<std::int64_t>(int8_chunk) <=
              INT32_MAX);

/// max |w| / 127 over w [n]: the row's scale (0 for a row of zeros).
inline float int8_row_scale(const float* w, std::size_t n) noexcept {
  float a = 0.0f;
  for (std::size_t i = 0; i < n; ++i) a = std::fmax(a, std::fabs(w[i]));
  return a / static_cast<float>(int8_weight_max);
}

/// q[i] = round(w[i] / scale), ties to even, clamped to ±127 (0 where scale is 0).
inline void quantize_int8(const float* w, std::size_t n, float scale, std::int8_t* q) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    const float v = scale > 0.0f ? std::nearbyint(w[i] / scale) : 0.0f;
    q[i] = static_cast<std::int8_t>(std::fmax(-127.0f, std::fmin(127.0f, v)));
  }
}

/// q [k] from x [k]: the activation row's integers (see int8_activation_max) and its scale;
/// x = 0 gives scale 0. Rounds to nearest even by adding 1.5 · 2^23 (exact for |v| < 2^22), so
/// a vectorised loop gives the same integers as a scalar one (a build that fuses the multiply
/// and the add, -ffp-contract with FMA, may round a few ties apart: same bits within one
/// binary, every path); a non-finite x gives a non-finite scale, and so a non-finite product,
/// as in float arithmetic.
inline float quantize_activations(const float* x, std::size_t k, std::int16_t* q) noexcept {
  float a = 0.0f, s = 0.0f;
  for (std::size_t i = 0; i < k; ++i) {
    a = std::fmax(a, std::fabs(x[i]));
    s += x[i] - x[i];  // NaN when any x is NaN or infinite
  }
  a += s;  // then the scale is NaN, and so is the product, as in float arithmetic
  float inv = a > 0.0f && std::isfinite(a) ? static_cast<float>(int8_activation_max) / a : 0.0f;
  if (!std::isfinite(inv)) {  // a row below 4095 / FLT_MAX (~1e-35): zeros, as it is in every product
    inv = 0.0f;
    a = 0.0f;
  }
  for (std::size_t i = 0; i < k; ++i) {
    const float t = x[i] * inv + 12582912.0f;
    q[i] = static_cast<std::int16_t>(static_cast<std::int32_t>(std::bit_cast<std::uint32_t>(t) - 0x4B400000u));
  }
  return a / static_cast<float>(int8_activation_max);
}

}  // namespace hat
