// SPDX-License-Identifier: MIT
// to_bf16_rows: a strided float matrix rounded to dense bf16 storage, with AVX-512 where the CPU has it.
#pragma once

// The bf16 products of training convert both operands of every product (the weights change
// every update), so the conversion runs once per product over as many bytes as the product reads:
// at the scalar loop's speed it would take a third of the time oneDNN takes for the product.
// The vector path computes to_bf16's integer rounding lane by lane, so both give the same bits.
#include <cstddef>
#include <vector>

#include <hat/backend/bf16.hpp>
#include <hat/backend/concepts.hpp>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAT_BF16_CONVERT_X86 1
#endif

namespace hat::detail {

inline void to_bf16_scalar(const float* x, std::size_t n, bf16* out) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = to_bf16(x[i]);
}

#ifdef HAT_BF16_CONVERT_X86
[[gnu::target("avx512f,avx512bw")]] inline void to_bf16_avx512(const float* x, std::size_t n, bf16* out) noexcept {
  const __m512i abs_mask = _mm512_set1_epi32(0x7FFFFFFF), inf = _mm512_set1_epi32(0x7F800000);
  const __m512i half = _mm512_set1_epi32(0x7FFF), one = _mm512_set1_epi32(1), quiet = _mm512_set1_epi32(0x0040);
  const __mmask16 all = 0xFFFF;  // the zero-masked forms: GCC 12 warns on the others' undefined start values
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512i u = _mm512_loadu_si512(x + i);
    const __m512i high = _mm512_maskz_srli_epi32(all, u, 16);
    const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, abs_mask), inf);
    const __m512i even = _mm512_add_epi32(_mm512_add_epi32(u, half), _mm512_and_si512(high, one));
    const __m512i r = _mm512_mask_mov_epi32(_mm512_maskz_srli_epi32(all, even, 16), nan, _mm512_or_si512(high, quiet));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm512_maskz_cvtepi32_epi16(all, r));
  }
  to_bf16_scalar(x + i, n - i, out + i);
}
#endif

/// n floats at x rounded to the nearest bf16 (ties to even, as to_bf16) into out.
inline void to_bf16_n(const float* x, std::size_t n, bf16* out) noexcept {
#ifdef HAT_BF16_CONVERT_X86
  static const bool avx512 = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  }();
  if (avx512) return to_bf16_avx512(x, n, out);
#endif
  to_bf16_scalar(x, n, out);
}

/// x [rows, cols] (row stride x.ld) rounded to bf16, written densely (row stride cols) into
/// `out`, which grows to rows x cols and is kept for the caller's next conversion. On the calling
/// thread: split over the worker pool, its spinning threads and oneDNN's OpenMP threads took
/// turns on two cores, and a 512 x 256 x 256 product ran 10x slower (docs/performance.md).
inline const bf16* to_bf16_rows(matrix_ref<const float> x, std::vector<bf16>& out) {
  if (out.size() < x.rows * x.cols) out.resize(x.rows * x.cols);
  if (x.ld == x.cols) {
    to_bf16_n(x.data, x.rows * x.cols, out.data());
  } else {
    for (std::size_t i = 0; i < x.rows; ++i) to_bf16_n(x.data + i * x.ld, x.cols, out.data() + i * x.cols);
  }
  return out.data();
}

}  // namespace hat::detail
