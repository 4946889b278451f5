// SPDX-License-Identifier: MIT
// dropout_n: dropout of n consecutive elements under the counter-based mask (dropout_mask.hpp), with AVX-512 where the CPU has it.
#pragma once

// Training draws a mask decision for every activation, gradient and attention probability it
// drops, several per parameter and token. The decision is a 64-bit hash (two 64-bit multiplies,
// shifts and xors); without -march the compiler has only SSE2, which has no 64-bit multiply, so
// the loop stays scalar: dropout took 5-7 % of a bf16 training step (docs/performance.md).
// AVX-512DQ multiplies eight 64-bit lanes at once. Both paths take the same decisions
// (tests/nn/loss_kernels.cpp compares them element by element).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <hat/backend/cpu_few_rows.hpp>  // simd(), HAT_FEW_ROWS_X86
#include <hat/backend/dropout_mask.hpp>

namespace hat::detail {

/// out[j] = x[j] keep_scale where dropout_keeps(key, first + j, p), else 0, for j < n (x may be out).
template <class T>
void dropout_scalar(const T* x, T* out, std::size_t n, std::uint64_t key, std::uint64_t first, float p,
                    T keep_scale) noexcept {
  for (std::size_t j = 0; j < n; ++j) out[j] = dropout_keeps(key, first + j, p) ? x[j] * keep_scale : T(0);
}

#ifdef HAT_FEW_ROWS_X86
/// dropout_keeps's test in integers: float(h >> 40) 2^-24 is exact (24 bits), so it is at least
/// p exactly when h >> 40 is at least ceil(p 2^24), for 0 < p < 1.
inline std::uint64_t dropout_threshold(float p) noexcept {
  return static_cast<std::uint64_t>(std::ceil(static_cast<double>(p) * 16777216.0));
}

// The hash's finaliser (mix64) on eight lanes, then the keep test: a bit per lane.
[[gnu::target("avx512f,avx512dq")]] inline __mmask8 dropout_keeps_avx512(__m512i z, __m512i threshold) noexcept {
  const __mmask8 all = 0xFF;  // the zero-masked shifts: GCC 12 warns on the others' undefined start values
  z = _mm512_xor_si512(z, _mm512_maskz_srli_epi64(all, z, 30));
  z = _mm512_mullo_epi64(z, _mm512_set1_epi64(static_cast<long long>(0xBF58476D1CE4E5B9ull)));
  z = _mm512_xor_si512(z, _mm512_maskz_srli_epi64(all, z, 27));
  z = _mm512_mullo_epi64(z, _mm512_set1_epi64(static_cast<long long>(0x94D049BB133111EBull)));
  z = _mm512_xor_si512(z, _mm512_maskz_srli_epi64(all, z, 31));
  return _mm512_cmpge_epu64_mask(_mm512_maskz_srli_epi64(all, z, 40), threshold);
}

[[gnu::target("avx512f,avx512dq")]] inline void dropout_avx512(const float* x, float* out, std::size_t n, std::uint64_t key,
                                                              std::uint64_t first, float p, float keep_scale) noexcept {
  constexpr std::uint64_t step = 0x9E3779B97F4A7C15ull;  // dropout_keeps' index multiplier
  // Lane l of the 16 holds key + (first + j + l) step (mod 2^64), advanced by 16 steps a block.
  alignas(64) std::uint64_t start[16];
  for (std::size_t l = 0; l < 16; ++l) start[l] = key + (first + l) * step;
  __m512i lo = _mm512_load_si512(start), hi = _mm512_load_si512(start + 8);
  const __m512i advance = _mm512_set1_epi64(static_cast<long long>(16 * step));
  const __m512i threshold = _mm512_set1_epi64(static_cast<long long>(dropout_threshold(p)));
  const __m512 scale = _mm512_set1_ps(keep_scale);
  std::size_t j = 0;
  for (; j + 16 <= n; j += 16) {
    const __mmask16 keep = static_cast<__mmask16>(dropout_keeps_avx512(lo, threshold) |
                                                  (static_cast<unsigned>(dropout_keeps_avx512(hi, threshold)) << 8));
    _mm512_storeu_ps(out + j, _mm512_maskz_mul_ps(keep, _mm512_loadu_ps(x + j), scale));
    lo = _mm512_add_epi64(lo, advance);
    hi = _mm512_add_epi64(hi, advance);
  }
  dropout_scalar(x + j, out + j, n - j, key, first + j, p, keep_scale);
}

inline bool dropout_has_avx512() noexcept {
  static const bool dq = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512dq") != 0;
  }();
  return simd() == simd_level::avx512 && dq;
}
#endif

/// out[j] = x[j] keep_scale where dropout_keeps(key, first + j, p), else 0, for j < n; x may be
/// out. floats take AVX-512 where the CPU has it (0 < p < 1); the same decisions either way.
template <class T>
void dropout_n(const T* x, T* out, std::size_t n, std::uint64_t key, std::uint64_t first, float p, T keep_scale) noexcept {
#ifdef HAT_FEW_ROWS_X86
  if constexpr (std::is_same_v<T, float>)
    if (p > 0 && p < 1 && dropout_has_avx512()) return dropout_avx512(x, out, n, key, first, p, keep_scale);
#endif
  dropout_scalar(x, out, n, key, first, p, keep_scale);
}

}  // namespace hat::detail
