// SPDX-License-Identifier: MIT
// Row kernels of the CPU backend: lane sums, dot products, row statistics, and x <- e^(x - shift) with run-time ISA dispatch.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>  // std::pair

#include <hat/backend/cpu_few_rows.hpp>  // simd(), HAT_FEW_ROWS_X86

namespace hat::detail {

/// e^x for any other type (double: the tests' finite differences), exact.
template <class T>
T exp_nonpositive(T x) noexcept {
  return std::exp(x);
}
/// Sum of n values in 8 independent lanes (a dependency chain of adds would run at one add per
/// 4 cycles; the compiler may not reassociate floats by itself).
template <class T>
double sum_lanes(const T* x, std::size_t n) noexcept {
  T lane[8] = {};
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (std::size_t k = 0; k < 8; ++k) lane[k] += x[i + k];
  double total = 0;
  for (std::size_t k = 0; k < 8; ++k) total += static_cast<double>(lane[k]);
  for (; i < n; ++i) total += static_cast<double>(x[i]);
  return total;
}

/// A float dot product the compiler vectorises without -ffast-math: eight independent partial
/// sums are eight lanes, not a reassociated reduction.
template <class T>
T dot(const T* __restrict a, const T* __restrict b, std::size_t n) noexcept {
  T acc[8] = {};
  std::size_t c = 0;
  for (; c + 8 <= n; c += 8)
    for (std::size_t u = 0; u < 8; ++u) acc[u] += a[c + u] * b[c + u];
  T s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; c < n; ++c) s += a[c] * b[c];
  return s;
}
/// Sums of f(j) over j < n in double, in 8 independent lanes (lane j mod 8, the tail in lane 0):
/// one chain of dependent double adds costs 4 cycles an element, which made LayerNorm's
/// statistics and backward about 5 % of a bf16 training step (docs/performance.md).
template <std::size_t Sums, class F>
std::array<double, Sums> lane_sums(std::size_t n, F&& f) noexcept {
  double lane[Sums][8] = {};
  std::size_t j = 0;
  for (; j + 8 <= n; j += 8)
    for (std::size_t u = 0; u < 8; ++u) {
      const std::array<double, Sums> v = f(j + u);
      for (std::size_t s = 0; s < Sums; ++s) lane[s][u] += v[s];
    }
  for (; j < n; ++j) {
    const std::array<double, Sums> v = f(j);
    for (std::size_t s = 0; s < Sums; ++s) lane[s][0] += v[s];
  }
  std::array<double, Sums> total{};
  for (std::size_t s = 0; s < Sums; ++s)
    total[s] = ((lane[s][0] + lane[s][1]) + (lane[s][2] + lane[s][3])) + ((lane[s][4] + lane[s][5]) + (lane[s][6] + lane[s][7]));
  return total;
}

/// Mean and 1/sqrt(biased variance + eps) of one row of d values, in double (LayerNorm).
template <class T>
std::pair<double, double> row_stats(const T* x, std::size_t d, T eps) noexcept {
  const double mean = lane_sums<1>(d, [&](std::size_t j) { return std::array<double, 1>{static_cast<double>(x[j])}; })[0] /
                      static_cast<double>(d);
  const double sq = lane_sums<1>(d, [&](std::size_t j) {
    const double c = x[j] - mean;
    return std::array<double, 1>{c * c};
  })[0];
  return {mean, 1.0 / std::sqrt(sq / static_cast<double>(d) + static_cast<double>(eps))};
}

/// e^x for x <= 0 (softmax and log-sum-exp arguments after subtracting the row maximum), in
/// float, branch-free: Cody-Waite range reduction and Cephes' degree-6 polynomial, relative
/// error below 2e-7 (measured against std::exp over [-87, 0] in the tests). std::exp costs a
/// library call per element: the loss over a [tokens, vocabulary] logit matrix spent more time
/// there than in its GEMM.
inline float exp_nonpositive(float x) noexcept {
  if (x != x) return x;  // NaN stays NaN (and never reaches the float-to-int conversion below)
  x = x < -87.0f ? -87.0f : x;
  const float t = x * 1.44269504088896341f + 0.5f;
  int n = static_cast<int>(t);
  n -= static_cast<float>(n) > t;  // floor
  const float fn = static_cast<float>(n);
  const float r = x - fn * 0.693359375f + fn * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * r * r + r + 1.0f;
  const std::uint32_t bits = static_cast<std::uint32_t>(n + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return y * scale;
}

#ifdef HAT_FEW_ROWS_X86
// The same polynomial, 16 lanes at a time (the compiler does not vectorise the scalar form).
// The masked forms with an explicit zero source are the same instructions as the plain ones,
// whose GCC 12 definitions start from an undefined register and trip -Wmaybe-uninitialized.
[[gnu::target("avx512f")]] inline void exp_shift_avx512(float* x, std::size_t n, float shift) noexcept {
  const __m512 lo = _mm512_set1_ps(-87.0f), log2e = _mm512_set1_ps(1.44269504088896341f), half = _mm512_set1_ps(0.5f),
               c1 = _mm512_set1_ps(0.693359375f), c2 = _mm512_set1_ps(-2.12194440e-4f), one = _mm512_set1_ps(1.0f),
               s = _mm512_set1_ps(shift);
  const __m512 p0 = _mm512_set1_ps(1.9875691500e-4f), p1 = _mm512_set1_ps(1.3981999507e-3f),
               p2 = _mm512_set1_ps(8.3334519073e-3f), p3 = _mm512_set1_ps(4.1665795894e-2f),
               p4 = _mm512_set1_ps(1.6666665459e-1f), p5 = _mm512_set1_ps(5.0000001201e-1f);
  const __m512 zero = _mm512_setzero_ps();
  const __m512i zero_i = _mm512_setzero_si512();
  const __mmask16 all = 0xFFFF;
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_mask_max_ps(zero, all, _mm512_sub_ps(_mm512_loadu_ps(x + i), s), lo);
    const __m512 fn = _mm512_mask_roundscale_ps(zero, all, _mm512_fmadd_ps(v, log2e, half),
                                                _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    const __m512 r = _mm512_fnmadd_ps(fn, c2, _mm512_fnmadd_ps(fn, c1, v));
    __m512 p = _mm512_fmadd_ps(p0, r, p1);
    p = _mm512_fmadd_ps(p, r, p2);
    p = _mm512_fmadd_ps(p, r, p3);
    p = _mm512_fmadd_ps(p, r, p4);
    p = _mm512_fmadd_ps(p, r, p5);
    const __m512 y = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(p, r), r, r), one);
    const __m512i e = _mm512_mask_slli_epi32(
        zero_i, all, _mm512_add_epi32(_mm512_mask_cvtps_epi32(zero_i, all, fn), _mm512_set1_epi32(127)), 23);
    _mm512_storeu_ps(x + i, _mm512_mul_ps(y, _mm512_castsi512_ps(e)));
  }
  for (; i < n; ++i) x[i] = exp_nonpositive(x[i] - shift);
}
#endif

/// x[i] = e^(x[i] - shift) for i < n, where every x[i] <= shift.
inline void exp_shift(float* x, std::size_t n, float shift) noexcept {
#ifdef HAT_FEW_ROWS_X86
  if (simd() == simd_level::avx512) return exp_shift_avx512(x, n, shift);
#endif
  for (std::size_t i = 0; i < n; ++i) x[i] = exp_nonpositive(x[i] - shift);
}

}  // namespace hat::detail
