// SPDX-License-Identifier: MIT
// int8_rows: the int8 arithmetic of low-precision products: weights symmetric with one scale per
// output row, activation rows as 13-bit integers, and the exact integer dot products between them.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

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
  for (std::size_t i = 0; i < n; ++i) {
    const float m = std::fabs(w[i]);
    a = m > a ? m : a;  // fmax's rule (a NaN is skipped), without its library call per weight
  }
  return a / static_cast<float>(int8_weight_max);
}

/// q[i] = round(w[i] / scale), ties to even, clamped to ±127 (0 where scale is 0).
inline void quantize_int8(const float* w, std::size_t n, float scale, std::int8_t* q) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    const float v = scale > 0.0f ? std::nearbyint(w[i] / scale) : 0.0f;
    // fmax(-127, fmin(127, v)) without the library calls: NaN and +inf give 127, -inf -127
    q[i] = static_cast<std::int8_t>(!(v <= 127.0f) ? 127.0f : v < -127.0f ? -127.0f : v);
  }
}

/// An activation row's factor to integers and its scale, from its largest magnitude `a` (the
/// row finite): inv maps a to int8_activation_max; a row of zeros, or one so small (below
/// 4095 / FLT_MAX, ~1e-35) that inv overflows, gets inv = scale = 0 (zeros, as it is in every
/// product). Up to ~5e-35 the scale a / 4095 is subnormal, which the products (run with
/// subnormals flushed) read as 0: zeros there too.
struct activation_scale {
  float inv, scale;
};
inline activation_scale activation_scale_of(float a) noexcept {
  float inv = a > 0.0f ? static_cast<float>(int8_activation_max) / a : 0.0f;
  if (!std::isfinite(inv)) {
    inv = 0.0f;
    a = 0.0f;
  }
  return {inv, a / static_cast<float>(int8_activation_max)};
}

/// q [k] from x [k]: the activation row's integers (see int8_activation_max) and its scale;
/// x = 0 gives scale 0. Each integer is x · inv rounded to nearest even (the product rounded to
/// float first, then rint: no add that a build could fuse with the multiply), which the vector
/// versions (cpu_few_rows_int8.hpp) compute exactly so: the same integers on every path and in
/// every build. A row holding a NaN or an infinity gives a NaN scale (and so a NaN product, as
/// in float arithmetic) and zeros.
inline float quantize_activations(const float* x, std::size_t k, std::int16_t* q) noexcept {
  float a = 0.0f, s = 0.0f;
  for (std::size_t i = 0; i < k; ++i) {
    const float m = std::fabs(x[i]);
    a = m > a ? m : a;  // fmax's NaN rule is not needed (s catches NaN) and it is a call
    s += x[i] - x[i];   // NaN when any x is NaN or infinite
  }
  if (!(s == 0.0f)) {
    for (std::size_t i = 0; i < k; ++i) q[i] = 0;
    return std::numeric_limits<float>::quiet_NaN();
  }
  const activation_scale as = activation_scale_of(a);
  for (std::size_t i = 0; i < k; ++i) q[i] = static_cast<std::int16_t>(std::nearbyint(x[i] * as.inv));
  return as.scale;
}

}  // namespace hat
