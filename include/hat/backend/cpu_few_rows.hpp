// SPDX-License-Identifier: MIT
// Few-row matrix products y = x W^T for decoding: read each weight once, at memory bandwidth.
#pragma once

// Included by cpu.hpp only. No xtensor here: the kernels use the compiler's intrinsics inside
// functions compiled for AVX-512 or AVX2 (target attributes) and are chosen at run time, so a
// binary built without -march flags still streams weights with the widest vectors the CPU has.
#include <cstddef>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAT_FEW_ROWS_X86 1
#endif

namespace hat::detail {

/// Whether y [m, n] = x [m, k] W[n, k]^T should take the few-row path: decoding multiplies 1-5
/// rows (beam hypotheses) by every decoder weight and the vocabulary table. OpenBLAS packs W
/// for such products and runs ~4x above the cost of just reading W; these kernels read W once.
inline constexpr std::size_t few_rows_max = 16;

#ifdef HAT_FEW_ROWS_X86

enum class simd_level { none, avx2, avx512 };

inline simd_level detect_simd() noexcept {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return simd_level::avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return simd_level::avx2;
  return simd_level::none;
}

inline simd_level simd() noexcept {
  static const simd_level level = detect_simd();
  return level;
}

// GCC 12's unmasked 512->256 extracts (and _mm512_reduce_add_ps, which uses them) start from
// _mm256_undefined_pd() and trip -Wuninitialized in its own header; the masked forms with an
// explicit zero source are the same instruction.
[[gnu::target("avx512f")]] inline float hsum_avx512(__m512 v) noexcept {
  const __m512d w = _mm512_castps_pd(v);
  const __m256 lo = _mm256_castpd_ps(_mm512_mask_extractf64x4_pd(_mm256_setzero_pd(), 0xF, w, 0));
  const __m256 hi = _mm256_castpd_ps(_mm512_mask_extractf64x4_pd(_mm256_setzero_pd(), 0xF, w, 1));
  const __m256 s8 = _mm256_add_ps(lo, hi);
  const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
  const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1)));
}

// One block: MR rows of x against 4 rows of W, accumulated over k in 16-float (AVX-512)
// steps. The 4 W rows stream from memory once per block; for MR < m the next row chunk reads
// them again from L1/L2 (a W block row is at most a few kB). Rows past n repeat the last row
// (always in bounds) and are not stored.
template <int MR>
[[gnu::target("avx512f")]] inline void few_rows_block_avx512(const float* x, std::size_t ldx, const float* const* w,
                                                             std::size_t k, float* acc_out /*[MR * 4]*/) noexcept {
  __m512 acc[MR][4];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < 4; ++j) acc[i][j] = _mm512_setzero_ps();
  std::size_t c = 0;
  for (; c + 16 <= k; c += 16) {
    const __m512 w0 = _mm512_loadu_ps(w[0] + c), w1 = _mm512_loadu_ps(w[1] + c), w2 = _mm512_loadu_ps(w[2] + c),
                 w3 = _mm512_loadu_ps(w[3] + c);
    for (int i = 0; i < MR; ++i) {
      const __m512 xv = _mm512_loadu_ps(x + static_cast<std::size_t>(i) * ldx + c);
      acc[i][0] = _mm512_fmadd_ps(xv, w0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(xv, w1, acc[i][1]);
      acc[i][2] = _mm512_fmadd_ps(xv, w2, acc[i][2]);
      acc[i][3] = _mm512_fmadd_ps(xv, w3, acc[i][3]);
    }
  }
  if (c < k) {
    const __mmask16 tail = static_cast<__mmask16>((1u << (k - c)) - 1u);
    const __m512 w0 = _mm512_maskz_loadu_ps(tail, w[0] + c), w1 = _mm512_maskz_loadu_ps(tail, w[1] + c),
                 w2 = _mm512_maskz_loadu_ps(tail, w[2] + c), w3 = _mm512_maskz_loadu_ps(tail, w[3] + c);
    for (int i = 0; i < MR; ++i) {
      const __m512 xv = _mm512_maskz_loadu_ps(tail, x + static_cast<std::size_t>(i) * ldx + c);
      acc[i][0] = _mm512_fmadd_ps(xv, w0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(xv, w1, acc[i][1]);
      acc[i][2] = _mm512_fmadd_ps(xv, w2, acc[i][2]);
      acc[i][3] = _mm512_fmadd_ps(xv, w3, acc[i][3]);
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < 4; ++j) acc_out[i * 4 + j] = hsum_avx512(acc[i][j]);
}

[[gnu::target("avx2,fma")]] inline float hsum_avx2(__m256 v) noexcept {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}

template <int MR>
[[gnu::target("avx2,fma")]] inline void few_rows_block_avx2(const float* x, std::size_t ldx, const float* const* w,
                                                           std::size_t k, float* acc_out /*[MR * 4]*/) noexcept {
  __m256 acc[MR][4];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < 4; ++j) acc[i][j] = _mm256_setzero_ps();
  std::size_t c = 0;
  for (; c + 8 <= k; c += 8) {
    const __m256 w0 = _mm256_loadu_ps(w[0] + c), w1 = _mm256_loadu_ps(w[1] + c), w2 = _mm256_loadu_ps(w[2] + c),
                 w3 = _mm256_loadu_ps(w[3] + c);
    for (int i = 0; i < MR; ++i) {
      const __m256 xv = _mm256_loadu_ps(x + static_cast<std::size_t>(i) * ldx + c);
      acc[i][0] = _mm256_fmadd_ps(xv, w0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(xv, w1, acc[i][1]);
      acc[i][2] = _mm256_fmadd_ps(xv, w2, acc[i][2]);
      acc[i][3] = _mm256_fmadd_ps(xv, w3, acc[i][3]);
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < 4; ++j) {
      float s = hsum_avx2(acc[i][j]);
      for (std::size_t t = c; t < k; ++t) s += x[static_cast<std::size_t>(i) * ldx + t] * w[j][t];
      acc_out[i * 4 + j] = s;
    }
}

// MR = 4 row chunks, then the 1-3 remaining rows, for every block of 4 W rows.
template <simd_level L, int MR>
inline void few_rows_chunk(const float* x, std::size_t ldx, const float* const* w, std::size_t k, float* acc) noexcept {
  if constexpr (L == simd_level::avx512)
    few_rows_block_avx512<MR>(x, ldx, w, k, acc);
  else
    few_rows_block_avx2<MR>(x, ldx, w, k, acc);
}

template <simd_level L>
inline void few_rows_kernel(std::size_t m, std::size_t n, std::size_t k, float alpha, const float* x, std::size_t ldx,
                            const float* w, std::size_t ldw, float beta, float* y, std::size_t ldy) noexcept {
  float acc[4 * 4];
  for (std::size_t j0 = 0; j0 < n; j0 += 4) {
    const float* rows[4];
    const std::size_t nr = n - j0 < 4 ? n - j0 : 4;
    for (std::size_t j = 0; j < 4; ++j) rows[j] = w + (j0 + (j < nr ? j : nr - 1)) * ldw;
    for (std::size_t i0 = 0; i0 < m; i0 += 4) {
      const std::size_t mr = m - i0 < 4 ? m - i0 : 4;
      const float* xi = x + i0 * ldx;
      switch (mr) {
        case 4: few_rows_chunk<L, 4>(xi, ldx, rows, k, acc); break;
        case 3: few_rows_chunk<L, 3>(xi, ldx, rows, k, acc); break;
        case 2: few_rows_chunk<L, 2>(xi, ldx, rows, k, acc); break;
        default: few_rows_chunk<L, 1>(xi, ldx, rows, k, acc); break;
      }
      for (std::size_t i = 0; i < mr; ++i)
        for (std::size_t j = 0; j < nr; ++j) {
          float& out = y[(i0 + i) * ldy + j0 + j];
          out = beta == 0.0f ? alpha * acc[i * 4 + j] : alpha * acc[i * 4 + j] + beta * out;
        }
    }
  }
}

/// y [m, n] = alpha x [m, k] W [n, k]^T + beta y, for m <= few_rows_max, on AVX-512 or AVX2;
/// false (nothing done) when the CPU has neither, so the caller falls back to BLAS.
inline bool few_rows_gemm(std::size_t m, std::size_t n, std::size_t k, float alpha, const float* x, std::size_t ldx,
                          const float* w, std::size_t ldw, float beta, float* y, std::size_t ldy) noexcept {
  switch (simd()) {
    case simd_level::avx512: few_rows_kernel<simd_level::avx512>(m, n, k, alpha, x, ldx, w, ldw, beta, y, ldy); return true;
    case simd_level::avx2: few_rows_kernel<simd_level::avx2>(m, n, k, alpha, x, ldx, w, ldw, beta, y, ldy); return true;
    default: return false;
  }
}

#else
inline bool few_rows_gemm(std::size_t, std::size_t, std::size_t, float, const float*, std::size_t, const float*,
                          std::size_t, float, float*, std::size_t) noexcept {
  return false;
}
#endif

}  // namespace hat::detail
