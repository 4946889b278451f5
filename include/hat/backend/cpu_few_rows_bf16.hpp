// SPDX-License-Identifier: MIT
// Few-row products y = x W^T on bf16 weights: half of fp32's bytes, each weight widened exactly to float.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include <hat/backend/bf16.hpp>
#include <hat/backend/cpu_lowp_path.hpp>
#include <hat/config.hpp>

namespace hat::detail {

// bf16: x is prepared per block of 2V columns (V floats per vector) as its V even columns then
// its V odd ones, zero past k: a 32-bit lane of W holds the pair (w[2t], w[2t+1]), and shifting
// it up 16 bits gives w[2t] as a float, masking its low half gives w[2t+1], both in place.

// Rows of `width` prepared columns (a multiple of 2 * lanes, >= k), ld_out apart.
inline void prepare_bf16_x(std::size_t m, std::size_t k, const float* x, std::size_t ldx, std::size_t lanes,
                           std::size_t ld_out, float* out, std::size_t width) noexcept {
  for (std::size_t i = 0; i < m; ++i) {
    const float* const xr = x + i * ldx;
    float* const o = out + i * ld_out;
    for (std::size_t b = 0; b < width; b += 2 * lanes)  // block b: its even columns, then its odd ones
      for (std::size_t t = 0; t < lanes; ++t) {
        const std::size_t even = b + 2 * t, odd = even + 1;
        o[b + t] = even < k ? xr[even] : 0.0f;
        o[b + lanes + t] = odd < k ? xr[odd] : 0.0f;
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

// A block over every panel of W (one for a plain matrix): panel p's prepared x segment starts at
// xoff[p] of each row, its W rows are w[p * NR, p * NR + NR); the panels add into the same
// accumulators, with one horizontal sum per output at the end. Split at multiples of 2V columns,
// the lanes add in the order of one panel as wide as all of them (a dense copy's bits).
template <int MR, int NR>
[[gnu::target("avx512f,avx512bw,avx512vl")]] inline void bf16_block_avx512(const float* xp, std::size_t kp,
                                                                            const std::size_t* xoff, const std::size_t* ks,
                                                                            std::size_t panels, const bf16* const* wall,
                                                                            const bf16* const* nall, float* out) noexcept {
  const bool l2 = prefetch_to_l2();
  __m512 acc[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_setzero_ps();
  for (std::size_t p = 0; p < panels; ++p) {
    const float* const x = xp + xoff[p];
    const bf16* const* const w = wall + p * NR;
    const bf16* const* const next = nall + p * NR;
    const std::size_t k = ks[p];
    std::size_t c = 0;
    for (; c + 32 <= k; c += 32) {
      __m512i v[NR];
      for (int j = 0; j < NR; ++j) {
        v[j] = _mm512_loadu_si512(w[j] + c);
        prefetch_line(next[j] + c, l2);
      }
      bf16_step_avx512<MR, NR>(acc, v, x, kp, c);
    }
    if (c < k) {  // the last columns: zero-masked loads (x is zero there too)
      const __mmask32 tail = static_cast<__mmask32>((std::uint64_t{1} << (k - c)) - 1u);
      __m512i v[NR];
      for (int j = 0; j < NR; ++j) v[j] = _mm512_maskz_loadu_epi16(tail, w[j] + c);
      bf16_step_avx512<MR, NR>(acc, v, x, kp, c);
    }
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
[[gnu::target("avx2,fma")]] inline void bf16_block_avx2(const float* xp, std::size_t kp, const std::size_t* xoff,
                                                        const std::size_t* ks, std::size_t panels,
                                                        const bf16* const* wall, const bf16* const* nall,
                                                        float* out) noexcept {
  const bool l2 = prefetch_to_l2();
  __m256 acc[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_setzero_ps();
  for (std::size_t p = 0; p < panels; ++p) {  // as in bf16_block_avx512
    const float* const x = xp + xoff[p];
    const bf16* const* const w = wall + p * NR;
    const bf16* const* const next = nall + p * NR;
    const std::size_t k = ks[p];
    std::size_t c = 0;
    for (; c + 16 <= k; c += 16) {
      __m256i v[NR];
      for (int j = 0; j < NR; ++j) {
        v[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[j] + c));
        prefetch_line(next[j] + c, l2);
      }
      bf16_step_avx2<MR, NR>(acc, v, x, kp, c);
    }
    if (c < k) {  // the last columns, copied next to zeros (x is zero there too)
      alignas(32) bf16 last[NR][16] = {};
      __m256i v[NR];
      for (int j = 0; j < NR; ++j) {
        std::memcpy(static_cast<void*>(last[j]), w[j] + c, (k - c) * sizeof(bf16));
        v[j] = _mm256_load_si256(reinterpret_cast<const __m256i*>(last[j]));
      }
      bf16_step_avx2<MR, NR>(acc, v, x, kp, c);
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) out[i * NR + j] = hsum_avx2(acc[i][j]);
}

#endif  // HAT_FEW_ROWS_X86

/// y [m, n] = alpha x [m, k_0 + k_1 + ...] [W_0 | W_1 | ...]^T + beta y over 1 to
/// few_rows_max_panels bf16 panels W_p [n, k_p], on path `p` (which the CPU must
/// have: lowp_path_available): panel p multiplies the k_p columns of x after those of the panels
/// before it. The vector paths read every panel of a block of W in one pass into the same
/// accumulators, so panels split at multiples of 32 columns (AVX-512; 16 on AVX2) give a dense
/// copy's bits. Any m; meant for few rows (W is read once per MR rows of x).
inline void few_rows_gemm_bf16_panels(lowp_path p, std::size_t m, std::size_t n, float alpha, const float* x,
                                      std::size_t ldx, const few_rows_panel<bf16>* panels, std::size_t count,
                                      float beta, float* y, std::size_t ldy) {
  HAT_ASSERT(count >= 1 && count <= few_rows_max_panels, "few_rows_gemm_bf16_panels: 1 to few_rows_max_panels panels");
  const auto store_one = [&](std::size_t i, std::size_t j, float s) {
    float& out = y[i * ldy + j];
    out = beta == 0.0f ? alpha * s : alpha * s + beta * out;
  };
  if (p == lowp_path::scalar) {
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j) {
        float s = 0.0f;
        for (std::size_t q = 0, col = 0; q < count; col += panels[q].k, ++q)
          for (std::size_t c = 0; c < panels[q].k; ++c)
            s += x[i * ldx + col + c] * to_float(panels[q].w[j * panels[q].ld + c]);
        store_one(i, j, s);
      }
    return;
  }
#ifdef HAT_FEW_ROWS_X86
  const auto run = [&]<std::size_t MR, std::size_t NR, std::size_t Lanes>(auto block) {
    // Each panel's x segment prepared on its own, padded to a multiple of 2 * Lanes columns.
    std::size_t xoff[few_rows_max_panels], ks[few_rows_max_panels], kp = 0, row_bytes = 0;
    for (std::size_t q = 0; q < count; ++q) {
      xoff[q] = kp;
      ks[q] = panels[q].k;
      kp += round_up(panels[q].k, 2 * Lanes);
      row_bytes += panels[q].k * sizeof(bf16);
    }
    auto& xp = lowp_scratch<float>();
    xp.resize(m * kp);
    for (std::size_t q = 0, col = 0; q < count; col += ks[q], ++q)
      prepare_bf16_x(m, ks[q], x + col, ldx, Lanes, kp, xp.data() + xoff[q], round_up(ks[q], 2 * Lanes));
    few_rows_columns(n, row_bytes, [&](std::size_t c0, std::size_t c1) {  // on the worker pool
      few_rows_panel<bf16> part[few_rows_max_panels];
      for (std::size_t q = 0; q < count; ++q) part[q] = {panels[q].w + c0 * panels[q].ld, panels[q].ld, ks[q]};
      few_rows_tiles<MR, NR>(
          m, c1 - c0, part, count,
          [&](std::size_t i0, std::size_t mr, const bf16* const* rows, const bf16* const* next, float* acc) {
            with_row_count<static_cast<int>(MR)>(mr, [&]<int R>() {
              block.template operator()<R>(xp.data() + i0 * kp, kp, xoff, ks, rows, next, acc);
            });
          },
          [&](std::size_t i0, std::size_t mr, std::size_t j0, std::size_t nr, const float* acc) {
            // store_one's arithmetic on a tile; loops the compiler unrolls when nr is the constant NR
            const auto tile = [&](auto cols) {
              for (std::size_t i = 0; i < mr; ++i) {
                float* const out = y + (i0 + i) * ldy + c0 + j0;
                const float* const a = acc + i * NR;
                if (beta == 0.0f)
                  for (std::size_t j = 0; j < cols; ++j) out[j] = alpha * a[j];
                else
                  for (std::size_t j = 0; j < cols; ++j) out[j] = alpha * a[j] + beta * out[j];
              }
            };
            if (nr == NR) return tile(std::integral_constant<std::size_t, NR>{});
            tile(nr);
          });
    });
  };
  // Register budgets: AVX-512 (32 registers): 5 x 4 accumulators + 8 widened W vectors + 2 of x;
  // AVX2 (16): 5 x 2 + 4, x read from memory by the FMAs.
  if (p == lowp_path::avx2)
    run.template operator()<5, 2, 8>([&]<int R>(const float* xr, std::size_t kp, const std::size_t* xoff,
                                                const std::size_t* ks, const bf16* const* rows, const bf16* const* next,
                                                float* acc) { bf16_block_avx2<R, 2>(xr, kp, xoff, ks, count, rows, next, acc); });
  else
    run.template operator()<5, 4, 16>([&]<int R>(const float* xr, std::size_t kp, const std::size_t* xoff,
                                                 const std::size_t* ks, const bf16* const* rows,
                                                 const bf16* const* next, float* acc) {
      bf16_block_avx512<R, 4>(xr, kp, xoff, ks, count, rows, next, acc);
    });
#endif
}

/// y [m, n] = alpha x [m, k] W [n, k]^T + beta y with W in bf16, on path `p` (which the CPU must
/// have: lowp_path_available). Any m; meant for few rows (W is read once per MR rows of x).
inline void few_rows_gemm_bf16(lowp_path p, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* x,
                               std::size_t ldx, const bf16* w, std::size_t ldw, float beta, float* y, std::size_t ldy) {
  const few_rows_panel<bf16> whole{w, ldw, k};
  few_rows_gemm_bf16_panels(p, m, n, alpha, x, ldx, &whole, 1, beta, y, ldy);
}

}  // namespace hat::detail
