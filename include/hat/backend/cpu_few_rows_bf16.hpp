// SPDX-License-Identifier: MIT
// Few-row products y = x W^T on bf16 weights: half of fp32's bytes, each weight widened exactly to float.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <hat/backend/bf16.hpp>
#include <hat/backend/cpu_lowp_path.hpp>

namespace hat::detail {

// bf16: x is prepared per block of 2V columns (V floats per vector) as its V even columns then
// its V odd ones, zero past k: a 32-bit lane of W holds the pair (w[2t], w[2t+1]), and shifting
// it up 16 bits gives w[2t] as a float, masking its low half gives w[2t+1], both in place.

inline void prepare_bf16_x(std::size_t m, std::size_t k, const float* x, std::size_t ldx, std::size_t lanes,
                           std::size_t kp, float* out) noexcept {
  for (std::size_t i = 0; i < m; ++i) {
    float* o = out + i * kp;
    for (std::size_t c = 0; c < kp; ++c) {
      const std::size_t block = c / (2 * lanes), t = c % (2 * lanes);
      const std::size_t col = block * 2 * lanes + (t < lanes ? 2 * t : 2 * (t - lanes) + 1);
      o[c] = col < k ? x[i * ldx + col] : 0.0f;
    }
  }
}

#ifdef HAT_FEW_ROWS_X86

// The steps are functions of their own, not lambdas: GCC does not give a lambda the target
// attribute of the function it is written in, and intrinsics need it.
template <int MR, int NR>
[[gnu::target("avx512f,avx512bw,avx512vl")]] inline void bf16_step_avx512(__m512 (&acc)[MR][NR], const __m512i* v,
                                                                           const float* xp, std::size_t kp,
                                                                           std::size_t c) noexcept {
  const __m512i high = _mm512_set1_epi32(static_cast<int>(0xFFFF0000u));
  __m512 even[NR], odd[NR];
  for (int j = 0; j < NR; ++j) {
    even[j] = _mm512_castsi512_ps(_mm512_maskz_slli_epi32(0xFFFF, v[j], 16));  // (the unmasked form: see hsum_avx512)
    odd[j] = _mm512_castsi512_ps(_mm512_and_si512(v[j], high));
  }
  for (int i = 0; i < MR; ++i) {
    const __m512 xe = _mm512_loadu_ps(xp + static_cast<std::size_t>(i) * kp + c);
    const __m512 xo = _mm512_loadu_ps(xp + static_cast<std::size_t>(i) * kp + c + 16);
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_fmadd_ps(xo, odd[j], _mm512_fmadd_ps(xe, even[j], acc[i][j]));
  }
}

template <int MR, int NR>
[[gnu::target("avx512f,avx512bw,avx512vl")]] inline void bf16_block_avx512(const float* xp, std::size_t kp,
                                                                            const bf16* const* w, const bf16* const* next,
                                                                            std::size_t k, float* out) noexcept {
  const bool l2 = prefetch_to_l2();
  __m512 acc[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_setzero_ps();
  std::size_t c = 0;
  for (; c + 32 <= k; c += 32) {
    __m512i v[NR];
    for (int j = 0; j < NR; ++j) {
      v[j] = _mm512_loadu_si512(w[j] + c);
      prefetch_line(next[j] + c, l2);
    }
    bf16_step_avx512<MR, NR>(acc, v, xp, kp, c);
  }
  if (c < k) {  // the last columns: zero-masked loads (x is zero there too)
    const __mmask32 tail = static_cast<__mmask32>((std::uint64_t{1} << (k - c)) - 1u);
    __m512i v[NR];
    for (int j = 0; j < NR; ++j) v[j] = _mm512_maskz_loadu_epi16(tail, w[j] + c);
    bf16_step_avx512<MR, NR>(acc, v, xp, kp, c);
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) out[i * NR + j] = hsum_avx512(acc[i][j]);
}

template <int MR, int NR>
[[gnu::target("avx2,fma")]] inline void bf16_step_avx2(__m256 (&acc)[MR][NR], const __m256i* v, const float* xp, std::size_t kp,
                                                      std::size_t c) noexcept {
  const __m256i high = _mm256_set1_epi32(static_cast<int>(0xFFFF0000u));
  __m256 even[NR], odd[NR];
  for (int j = 0; j < NR; ++j) {
    even[j] = _mm256_castsi256_ps(_mm256_slli_epi32(v[j], 16));
    odd[j] = _mm256_castsi256_ps(_mm256_and_si256(v[j], high));
  }
  for (int i = 0; i < MR; ++i) {
    const __m256 xe = _mm256_loadu_ps(xp + static_cast<std::size_t>(i) * kp + c);
    const __m256 xo = _mm256_loadu_ps(xp + static_cast<std::size_t>(i) * kp + c + 8);
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_fmadd_ps(xo, odd[j], _mm256_fmadd_ps(xe, even[j], acc[i][j]));
  }
}

template <int MR, int NR>
[[gnu::target("avx2,fma")]] inline void bf16_block_avx2(const float* xp, std::size_t kp, const bf16* const* w,
                                                        const bf16* const* next, std::size_t k, float* out) noexcept {
  const bool l2 = prefetch_to_l2();
  __m256 acc[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_setzero_ps();
  std::size_t c = 0;
  for (; c + 16 <= k; c += 16) {
    __m256i v[NR];
    for (int j = 0; j < NR; ++j) {
      v[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[j] + c));
      prefetch_line(next[j] + c, l2);
    }
    bf16_step_avx2<MR, NR>(acc, v, xp, kp, c);
  }
  if (c < k) {  // the last columns, copied next to zeros (x is zero there too)
    alignas(32) bf16 last[NR][16] = {};
    __m256i v[NR];
    for (int j = 0; j < NR; ++j) {
      std::memcpy(last[j], w[j] + c, (k - c) * sizeof(bf16));
      v[j] = _mm256_load_si256(reinterpret_cast<const __m256i*>(last[j]));
    }
    bf16_step_avx2<MR, NR>(acc, v, xp, kp, c);
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) out[i * NR + j] = hsum_avx2(acc[i][j]);
}

#endif  // HAT_FEW_ROWS_X86

/// y [m, n] = alpha x [m, k] W [n, k]^T + beta y with W in bf16, on path `p` (which the CPU must
/// have: lowp_path_available). Any m; meant for few rows (W is read once per MR rows of x).
inline void few_rows_gemm_bf16(lowp_path p, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* x,
                               std::size_t ldx, const bf16* w, std::size_t ldw, float beta, float* y, std::size_t ldy) {
  const auto store_one = [&](std::size_t i, std::size_t j, float s) {
    float& out = y[i * ldy + j];
    out = beta == 0.0f ? alpha * s : alpha * s + beta * out;
  };
  if (p == lowp_path::scalar) {
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j) {
        float s = 0.0f;
        for (std::size_t c = 0; c < k; ++c) s += x[i * ldx + c] * to_float(w[j * ldw + c]);
        store_one(i, j, s);
      }
    return;
  }
#ifdef HAT_FEW_ROWS_X86
  const auto run = [&]<std::size_t MR, std::size_t NR, std::size_t Lanes>(auto block) {
    const std::size_t kp = round_up(k, 2 * Lanes);
    auto& xp = lowp_scratch<float>();
    xp.resize(m * kp);
    prepare_bf16_x(m, k, x, ldx, Lanes, kp, xp.data());
    few_rows_columns(n, k * sizeof(bf16), [&](std::size_t c0, std::size_t c1) {  // on the worker pool
      const few_rows_panel<bf16> part{w + c0 * ldw, ldw, k};
      few_rows_tiles<MR, NR>(
          m, c1 - c0, &part, 1,
          [&](std::size_t i0, std::size_t mr, const bf16* const* rows, const bf16* const* next, float* acc) {
            with_row_count<static_cast<int>(MR)>(
                mr, [&]<int R>() { block.template operator()<R>(xp.data() + i0 * kp, kp, rows, next, acc); });
          },
          [&](std::size_t i0, std::size_t mr, std::size_t j0, std::size_t nr, const float* acc) {
            for (std::size_t i = 0; i < mr; ++i)
              for (std::size_t j = 0; j < nr; ++j) store_one(i0 + i, c0 + j0 + j, acc[i * NR + j]);
          });
    });
  };
  // Register budgets: AVX-512 (32 registers): 5 x 4 accumulators + 8 widened W vectors + 2 of x;
  // AVX2 (16): 5 x 2 + 4, x read from memory by the FMAs.
  if (p == lowp_path::avx2)
    run.template operator()<5, 2, 8>([&]<int R>(const float* xp, std::size_t kp, const bf16* const* rows, const bf16* const* next,
                                                float* acc) { bf16_block_avx2<R, 2>(xp, kp, rows, next, k, acc); });
  else
    run.template operator()<5, 4, 16>([&]<int R>(const float* xp, std::size_t kp, const bf16* const* rows,
                                                 const bf16* const* next, float* acc) {
      bf16_block_avx512<R, 4>(xp, kp, rows, next, k, acc);
    });
#endif
}

}  // namespace hat::detail
