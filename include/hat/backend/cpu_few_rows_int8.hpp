// SPDX-License-Identifier: MIT
// Few-row products y = x W^T on int8 weights: a quarter of fp32's bytes, exact integer dot products.
#pragma once

// W holds per-row symmetric int8 (int8_rows.hpp) and each x row is quantised on entry to 13-bit
// integers; the dot products are exact int32 sums (vpmaddwd, or AVX512-VNNI's vpdpwssd) over
// chunks of int8_chunk columns, converted to float per chunk: every path gives the same bits.
#include <cstddef>
#include <cstdint>
#include <cmath>
#include <cstring>
#include <type_traits>

#include <hat/backend/cpu_lowp_path.hpp>
#include <hat/backend/int8_rows.hpp>
#include <hat/config.hpp>

namespace hat::detail {

// int8: x rows quantised to int16 (quantize_activations), zero past k up to a multiple of 32;
// the dot product of a chunk of int8_chunk columns is an exact int32, added to a float per chunk.

#ifdef HAT_FEW_ROWS_X86

// The accumulators are GCC vector-extension types of int32 lanes, not __m512i / __m256i: those
// are typed as 64-bit lanes, and the madd, add and dpwssd intrinsics work on 32-bit ones, so with
// __m512i accumulators GCC 12 emitted a register copy per accumulator and step in these loops and
// kept several accumulators on the stack (seen in the disassembly of table_cpu_lowp; the fp32
// kernel's __m512 matches its intrinsics and stays in registers). With int32 lanes every
// accumulator stays in a register: at five rows 1.1-1.4x faster (docs/performance.md, section
// 6). Signed, as the builtins' lanes are: unsigned lanes brought the copies back on the VNNI path.
// The sums never overflow an int32 (int8_rows.hpp).
typedef int i32x16 __attribute__((vector_size(64)));
typedef int i32x8 __attribute__((vector_size(32)));

// {sum a, sum b, sum c, sum d} of four vectors' int32 lanes in one reduction tree: a block's
// epilogue sums MR x 4 accumulators, which for a narrow panel (128 columns: four steps) costs as
// much as its loop when each is summed on its own.
[[gnu::target("avx512f,avx512bw,avx512vl")]] inline __m128i hsum4_epi32_avx512(i32x16 a, i32x16 b, i32x16 c,
                                                                              i32x16 d) noexcept {
  // The zero-masked forms throughout: GCC 12's unmasked ones start from an undefined vector and
  // trip -Wmaybe-uninitialized.
  constexpr __mmask16 all = 0xFFFF;
  const __m512i va = reinterpret_cast<__m512i>(a), vb = reinterpret_cast<__m512i>(b);
  const __m512i vc = reinterpret_cast<__m512i>(c), vd = reinterpret_cast<__m512i>(d);
  // 128-bit quarters: ab = {a0+a2, a1+a3, b0+b2, b1+b3}, cd likewise
  const __m512i ab =
      _mm512_add_epi32(_mm512_maskz_shuffle_i32x4(all, va, vb, 0x44), _mm512_maskz_shuffle_i32x4(all, va, vb, 0xEE));
  const __m512i cd =
      _mm512_add_epi32(_mm512_maskz_shuffle_i32x4(all, vc, vd, 0x44), _mm512_maskz_shuffle_i32x4(all, vc, vd, 0xEE));
  // quarters: a, b, c, d (four partial sums each)
  const __m512i q =
      _mm512_add_epi32(_mm512_maskz_shuffle_i32x4(all, ab, cd, 0x88), _mm512_maskz_shuffle_i32x4(all, ab, cd, 0xDD));
  __m512i t = _mm512_add_epi32(q, _mm512_maskz_shuffle_epi32(all, q, _MM_PERM_BADC));
  t = _mm512_add_epi32(t, _mm512_maskz_shuffle_epi32(all, t, _MM_PERM_CDAB));
  // lane 0 of each quarter
  const __m512i lane0 = _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 8, 4, 0);
  const __m512i first = _mm512_maskz_permutexvar_epi32(all, lane0, t);
  return _mm512_maskz_extracti32x4_epi32(0xF, first, 0);
}

[[gnu::target("avx2")]] inline std::int32_t hsum_epi32_avx2(__m256i v) noexcept {
  __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
  s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
  return _mm_cvtsi128_si32(s4);
}

// quantize_activations (int8_rows.hpp) on 16 or 8 lanes: the row's largest magnitude, its
// NaN/infinity check, then x · inv rounded to float and converted by cvtps2dq in the default
// rounding mode (nearest even, as rint): the scalar version's integers and scale (tested). A
// non-finite row goes to the scalar version, which zeros it.
[[gnu::target("avx512f,avx512bw,avx512vl")]] inline float quantize_activations_avx512(const float* x, std::size_t k,
                                                                                     std::int16_t* q) noexcept {
  // The zero-masked forms: GCC 12's unmasked ones start from an undefined vector (see hsum4_epi32_avx512).
  constexpr __mmask16 all = 0xFFFF;
  const __m512i magnitude = _mm512_set1_epi32(0x7FFFFFFF);
  __m512 amax = _mm512_setzero_ps(), bad = _mm512_setzero_ps();
  const __mmask16 tail = static_cast<__mmask16>((1u << (k % 16)) - 1u);
  for (std::size_t i = 0; i < k; i += 16) {  // the last columns through a zero-masked load
    const __m512 v = _mm512_maskz_loadu_ps(i + 16 <= k ? all : tail, x + i);
    amax = _mm512_maskz_max_ps(all, amax, _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(v), magnitude)));
    bad = _mm512_add_ps(bad, _mm512_sub_ps(v, v));
  }
  if (_mm512_cmp_ps_mask(bad, bad, _CMP_UNORD_Q) != 0) return quantize_activations(x, k, q);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, amax);
  float a = 0.0f;
  for (float v : lanes) a = v > a ? v : a;
  const activation_scale as = activation_scale_of(a);
  const __m512 inv = _mm512_set1_ps(as.inv);
  for (std::size_t i = 0; i < k; i += 16) {
    const __mmask16 m = i + 16 <= k ? all : tail;
    const __m512i r = _mm512_maskz_cvtps_epi32(all, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), inv));
    _mm512_mask_cvtepi32_storeu_epi16(q + i, m, r);
  }
  return as.scale;
}

[[gnu::target("avx2")]] inline float quantize_activations_avx2(const float* x, std::size_t k, std::int16_t* q) noexcept {
  const __m256 magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  __m256 amax = _mm256_setzero_ps(), bad = _mm256_setzero_ps();
  std::size_t i = 0;
  for (; i + 8 <= k; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    amax = _mm256_max_ps(amax, _mm256_and_ps(v, magnitude));
    bad = _mm256_add_ps(bad, _mm256_sub_ps(v, v));
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, amax);
  float a = 0.0f, s = 0.0f;
  for (float v : lanes) a = v > a ? v : a;
  _mm256_store_ps(lanes, bad);
  for (float v : lanes) s += v;
  for (std::size_t t = i; t < k; ++t) {  // the last columns
    const float m = std::fabs(x[t]);
    a = m > a ? m : a;
    s += x[t] - x[t];
  }
  if (!(s == 0.0f)) return quantize_activations(x, k, q);
  const activation_scale as = activation_scale_of(a);
  const __m256 inv = _mm256_set1_ps(as.inv);
  for (i = 0; i + 16 <= k; i += 16) {
    const __m256i lo = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + i), inv));
    const __m256i hi = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + i + 8), inv));
    // packs interleaves 128-bit halves: lo0 hi0 lo1 hi1; the permute restores lo hi (|q| <= 4095: no saturation)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + i), _mm256_permute4x64_epi64(_mm256_packs_epi32(lo, hi), 0xD8));
  }
  for (; i < k; ++i) q[i] = static_cast<std::int16_t>(std::nearbyint(x[i] * as.inv));
  return as.scale;
}

// acc[i][j] += x16 . w8 over 32 columns: vpmaddwd + vpaddd, or AVX512-VNNI's vpdpwssd (the same
// sums in one instruction). Two functions, not one with a flag: the path without VNNI must be
// compiled without it, or the compiler may fuse the pair into vpdpwssd itself.
template <int MR, int NR>
[[gnu::target("avx512f,avx512bw,avx512vl"), gnu::always_inline]] inline void int8_step_avx512(i32x16 (&acc)[MR][NR],
                                                                                           const __m512i* w16,
                                                                                           const std::int16_t* xq,
                                                                                           std::size_t kp,
                                                                                           std::size_t c) noexcept {
  for (int i = 0; i < MR; ++i) {
    const __m512i xv = _mm512_loadu_si512(xq + static_cast<std::size_t>(i) * kp + c);
    for (int j = 0; j < NR; ++j) acc[i][j] += reinterpret_cast<i32x16>(_mm512_madd_epi16(xv, w16[j]));
  }
}
template <int MR, int NR>
[[gnu::target("avx512f,avx512bw,avx512vl,avx512vnni"), gnu::always_inline]] inline void int8_step_avx512_vnni(
    i32x16 (&acc)[MR][NR], const __m512i* w16, const std::int16_t* xq, std::size_t kp, std::size_t c) noexcept {
  for (int i = 0; i < MR; ++i) {
    const __m512i xv = _mm512_loadu_si512(xq + static_cast<std::size_t>(i) * kp + c);
    for (int j = 0; j < NR; ++j)
      acc[i][j] = reinterpret_cast<i32x16>(_mm512_dpwssd_epi32(reinterpret_cast<__m512i>(acc[i][j]), xv, w16[j]));
  }
}

// One body for both int8 AVX-512 blocks (their target attributes differ, which a template
// parameter cannot express). A block runs over every panel of W (one for a plain matrix): panel
// p's x segment starts at xoff[p] of each quantised row, its W rows are w[p * NR, p * NR + NR),
// its sums go to out + p * MR * NR. Each panel has its own x and W scales, so its sums stay
// apart; one pass over all panels reads them together, as the fp32 kernel does.
#define HAT_INT8_BLOCK_AVX512(NAME, TARGET, STEP)                                                                        \
  template <int MR, int NR>                                                                                            \
  [[gnu::target(TARGET)]] inline void NAME(const std::int16_t* xq, std::size_t kp, const std::size_t* xoff,             \
                                           const std::size_t* ks, std::size_t panels, const std::int8_t* const* wall,  \
                                           const std::int8_t* const* nall, float* outall) noexcept {                   \
    static_assert(NR == 4, "the epilogue sums four accumulators at a time (hsum4_epi32_avx512)");                     \
    const bool l2 = prefetch_to_l2();                                                                                  \
    for (std::size_t p = 0; p < panels; ++p) {                                                                         \
      const std::int16_t* const xp = xq + xoff[p];                                                                     \
      const std::int8_t* const* const w = wall + p * NR;                                                               \
      const std::int8_t* const* const next = nall + p * NR;                                                            \
      const std::size_t k = ks[p];                                                                                     \
      float total[MR][NR] = {};                                                                                        \
      for (std::size_t c0 = 0; c0 < k; c0 += int8_chunk) {                                                             \
        const std::size_t end = k - c0 < int8_chunk ? k : c0 + int8_chunk;                                             \
        i32x16 acc[MR][NR];                                                                                            \
        for (int i = 0; i < MR; ++i)                                                                                   \
          for (int j = 0; j < NR; ++j) acc[i][j] = i32x16{};                                                          \
        std::size_t c = c0;                                                                                            \
        for (; c + 32 <= end; c += 32) {                                                                               \
          __m512i w16[NR];                                                                                             \
          for (int j = 0; j < NR; ++j) {                                                                               \
            w16[j] = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[j] + c)));            \
            prefetch_line(next[j] + c, l2);                                                                            \
          }                                                                                                            \
          STEP<MR, NR>(acc, w16, xp, kp, c);                                                                           \
        }                                                                                                              \
        if (c < end) { /* the last columns: zero-masked loads (x is zero there too) */                                 \
          const __mmask32 tail = static_cast<__mmask32>((std::uint64_t{1} << (end - c)) - 1u);                         \
          __m512i w16[NR];                                                                                             \
          for (int j = 0; j < NR; ++j) w16[j] = _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(tail, w[j] + c));        \
          STEP<MR, NR>(acc, w16, xp, kp, c);                                                                           \
        }                                                                                                              \
        for (int i = 0; i < MR; ++i) {                                                                                 \
          alignas(16) std::int32_t sums[4];                                                                            \
          _mm_store_si128(reinterpret_cast<__m128i*>(sums),                                                            \
                          hsum4_epi32_avx512(acc[i][0], acc[i][1], acc[i][2], acc[i][3]));                             \
          for (int j = 0; j < 4; ++j) total[i][j] += static_cast<float>(sums[j]);                                      \
        }                                                                                                              \
      }                                                                                                                \
      float* const out = outall + p * MR * NR;                                                                         \
      for (int i = 0; i < MR; ++i)                                                                                     \
        for (int j = 0; j < NR; ++j) out[i * NR + j] = total[i][j];                                                    \
    }                                                                                                                  \
  }
HAT_INT8_BLOCK_AVX512(int8_block_avx512, "avx512f,avx512bw,avx512vl", int8_step_avx512)
HAT_INT8_BLOCK_AVX512(int8_block_avx512_vnni, "avx512f,avx512bw,avx512vl,avx512vnni", int8_step_avx512_vnni)
#undef HAT_INT8_BLOCK_AVX512

template <int MR, int NR>
[[gnu::target("avx2"), gnu::always_inline]] inline void int8_step_avx2(i32x8 (&acc)[MR][NR], const __m256i* w16,
                                                                      const std::int16_t* xq, std::size_t kp,
                                                                      std::size_t c) noexcept {
  for (int i = 0; i < MR; ++i) {
    const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + static_cast<std::size_t>(i) * kp + c));
    for (int j = 0; j < NR; ++j) acc[i][j] += reinterpret_cast<i32x8>(_mm256_madd_epi16(xv, w16[j]));
  }
}

template <int MR, int NR>
[[gnu::target("avx2")]] inline void int8_block_avx2(const std::int16_t* xq, std::size_t kp, const std::size_t* xoff,
                                                   const std::size_t* ks, std::size_t panels,
                                                   const std::int8_t* const* wall, const std::int8_t* const* nall,
                                                   float* outall) noexcept {
  const bool l2 = prefetch_to_l2();
  for (std::size_t p = 0; p < panels; ++p) {  // as in HAT_INT8_BLOCK_AVX512
    const std::int16_t* const xp = xq + xoff[p];
    const std::int8_t* const* const w = wall + p * NR;
    const std::int8_t* const* const next = nall + p * NR;
    const std::size_t k = ks[p];
    float total[MR][NR] = {};
    for (std::size_t c0 = 0; c0 < k; c0 += int8_chunk) {
      const std::size_t end = k - c0 < int8_chunk ? k : c0 + int8_chunk;
      i32x8 acc[MR][NR];
      for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NR; ++j) acc[i][j] = i32x8{};
      std::size_t c = c0;
      for (; c + 16 <= end; c += 16) {
        __m256i w16[NR];
        for (int j = 0; j < NR; ++j) {
          w16[j] = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w[j] + c)));
          prefetch_line(next[j] + c, l2);
        }
        int8_step_avx2<MR, NR>(acc, w16, xp, kp, c);
      }
      if (c < end) {  // the last columns, copied next to zeros (x is zero there too)
        alignas(16) std::int8_t last[NR][16] = {};
        __m256i w16[NR];
        for (int j = 0; j < NR; ++j) {
          std::memcpy(last[j], w[j] + c, end - c);
          w16[j] = _mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(last[j])));
        }
        int8_step_avx2<MR, NR>(acc, w16, xp, kp, c);
      }
      for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NR; ++j)
          total[i][j] += static_cast<float>(hsum_epi32_avx2(reinterpret_cast<__m256i>(acc[i][j])));
    }
    float* const out = outall + p * MR * NR;
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) out[i * NR + j] = total[i][j];
  }
}

#endif  // HAT_FEW_ROWS_X86

/// quantize_activations (int8_rows.hpp) on path `p`: the same integers and scale on every path.
inline float quantize_activations_on(lowp_path p, const float* row, std::size_t k, std::int16_t* out) noexcept {
#ifdef HAT_FEW_ROWS_X86
  if (p == lowp_path::avx2) return quantize_activations_avx2(row, k, out);
  if (p != lowp_path::scalar) return quantize_activations_avx512(row, k, out);
#else
  (void)p;
#endif
  return quantize_activations(row, k, out);
}

/// One panel of int8 weights for few_rows_gemm_int8_panels: q [n, k] (leading dimension ld) and
/// its rows' scales [n], W ≈ diag(scale) q.
struct int8_panel {
  const std::int8_t* q;
  std::size_t ld, k;
  const float* scale;
};

/// y [m, n] = alpha x [m, k_0 + k_1 + ...] [W_0 | W_1 | ...]^T + beta y over 1 to
/// few_rows_max_panels int8 panels W_p [n, k_p] (int8_rows.hpp), on path `p` (which the CPU must
/// have). Panel p multiplies the k_p columns of x after those of the panels before it; each
/// panel's x segment is quantised on its own, so the result has the bits of one product per
/// panel accumulated into y in panel order (beta on the first), and every path gives the same
/// bits. The vector paths read every panel of a block of W in one pass: a paneled weight's
/// narrow panel costs a pass over y and a block epilogue per 128 columns otherwise. Any m;
/// meant for few rows.
inline void few_rows_gemm_int8_panels(lowp_path p, std::size_t m, std::size_t n, float alpha, const float* x,
                                      std::size_t ldx, const int8_panel* panels, std::size_t count, float beta,
                                      float* y, std::size_t ldy) {
  HAT_ASSERT(count >= 1 && count <= few_rows_max_panels, "few_rows_gemm_int8_panels: 1 to few_rows_max_panels panels");
  // Each panel's quantised x segment starts at a multiple of 32 columns of the row (zeros past k_p).
  std::size_t xoff[few_rows_max_panels], ks[few_rows_max_panels], kp = 0;
  for (std::size_t q = 0; q < count; ++q) {
    xoff[q] = kp;
    ks[q] = panels[q].k;
    kp += round_up(panels[q].k, 32);
  }
  auto& xq = lowp_scratch<std::int16_t>();
  xq.assign(m * kp, 0);
  auto& x_scale = lowp_scratch<float>();  // [count, m]
  x_scale.resize(count * m);
  for (std::size_t q = 0, col = 0; q < count; col += ks[q], ++q)
    for (std::size_t i = 0; i < m; ++i)
      x_scale[q * m + i] = quantize_activations_on(p, x + i * ldx + col, ks[q], xq.data() + i * kp + xoff[q]);
  // y for a tile of mr rows and nr (at most NR) output columns from `col`, from panel q's sums
  // at acc[q * mr * NR + i * NR + j]: alpha (sum (x scale · w scale)) per panel, folded in panel
  // order with beta on the first, as one product per panel accumulates. Every path stores
  // through here (the same arithmetic, so the same bits); loops the compiler unrolls when nr is
  // the constant NR (as one call per element it cost a fifth of the int8 products), y read
  // only where beta needs it.
  const auto store_block = [&]<std::size_t NR>(std::size_t i0, std::size_t mr, std::size_t col, auto nr,
                                                   const float* acc) {
    for (std::size_t i = 0; i < mr; ++i) {
      float* const out = y + (i0 + i) * ldy + col;
      float o[NR] = {};
      for (std::size_t q = 0; q < count; ++q) {
        const float xs = x_scale[q * m + i0 + i];
        const float* const ws = panels[q].scale + col;
        const float* const d = acc + q * mr * NR + i * NR;
        if (q > 0)
          for (std::size_t j = 0; j < nr; ++j) o[j] = alpha * (d[j] * (xs * ws[j])) + o[j];
        else if (beta == 0.0f)
          for (std::size_t j = 0; j < nr; ++j) o[j] = alpha * (d[j] * (xs * ws[j]));
        else
          for (std::size_t j = 0; j < nr; ++j) o[j] = alpha * (d[j] * (xs * ws[j])) + beta * out[j];
      }
      for (std::size_t j = 0; j < nr; ++j) out[j] = o[j];
    }
  };
  if (p == lowp_path::scalar) {  // one output at a time: its panel sums, then store_block
    float acc[few_rows_max_panels];
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j) {
        for (std::size_t q = 0; q < count; ++q) {
          const std::int16_t* xr = xq.data() + i * kp + xoff[q];
          const std::int8_t* wr = panels[q].q + j * panels[q].ld;
          float total = 0.0f;
          for (std::size_t c0 = 0; c0 < ks[q]; c0 += int8_chunk) {
            std::int32_t s = 0;
            for (std::size_t c = c0; c < ks[q] && c < c0 + int8_chunk; ++c)
              s += static_cast<std::int32_t>(xr[c]) * static_cast<std::int32_t>(wr[c]);
            total += static_cast<float>(s);
          }
          acc[q] = total;
        }
        store_block.template operator()<1>(i, 1, j, std::integral_constant<std::size_t, 1>{}, acc);
      }
    return;
  }
#ifdef HAT_FEW_ROWS_X86
  const auto run = [&]<std::size_t MR, std::size_t NR>(auto block) {
    std::size_t row_bytes = 0;
    for (std::size_t q = 0; q < count; ++q) row_bytes += ks[q];
    few_rows_columns(n, row_bytes, [&](std::size_t c0, std::size_t c1) {  // on the worker pool
      few_rows_panel<std::int8_t> part[few_rows_max_panels];
      for (std::size_t q = 0; q < count; ++q) part[q] = {panels[q].q + c0 * panels[q].ld, panels[q].ld, ks[q]};
      few_rows_tiles<MR, NR, few_rows_max_panels>(
          m, c1 - c0, part, count,
          [&](std::size_t i0, std::size_t mr, const std::int8_t* const* rows, const std::int8_t* const* next, float* acc) {
            with_row_count<static_cast<int>(MR)>(
                mr, [&]<int R>() { block.template operator()<R>(xq.data() + i0 * kp, rows, next, acc); });
          },
          [&](std::size_t i0, std::size_t mr, std::size_t j0, std::size_t nr, const float* acc) {
            if (nr == NR)
              return store_block.template operator()<NR>(i0, mr, c0 + j0, std::integral_constant<std::size_t, NR>{}, acc);
            store_block.template operator()<NR>(i0, mr, c0 + j0, nr, acc);
          });
    });
  };
  // Register budgets: AVX-512: 6 x 4 int32 accumulators + 4 widened W vectors; AVX2: 5 x 2 + 2.
  switch (p) {
    case lowp_path::avx2:
      run.template operator()<5, 2>([&]<int R>(const std::int16_t* xr, const std::int8_t* const* rows,
                                               const std::int8_t* const* next, float* acc) {
        int8_block_avx2<R, 2>(xr, kp, xoff, ks, count, rows, next, acc);
      });
      break;
    case lowp_path::avx512:
      run.template operator()<6, 4>([&]<int R>(const std::int16_t* xr, const std::int8_t* const* rows,
                                               const std::int8_t* const* next, float* acc) {
        int8_block_avx512<R, 4>(xr, kp, xoff, ks, count, rows, next, acc);
      });
      break;
    default:
      run.template operator()<6, 4>([&]<int R>(const std::int16_t* xr, const std::int8_t* const* rows,
                                               const std::int8_t* const* next, float* acc) {
        int8_block_avx512_vnni<R, 4>(xr, kp, xoff, ks, count, rows, next, acc);
      });
      break;
  }
#endif
}

/// y [m, n] = alpha x [m, k] W [n, k]^T + beta y with W ≈ diag(w_scale) q, q int8 [n, k]
/// (int8_rows.hpp) and w_scale [n] one per row of W as passed, on path `p` (which the CPU must
/// have). Every path gives the same bits. Any m; meant for few rows.
inline void few_rows_gemm_int8(lowp_path p, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* x,
                               std::size_t ldx, const std::int8_t* w, std::size_t ldw, const float* w_scale, float beta,
                               float* y, std::size_t ldy) {
  const int8_panel whole{w, ldw, k, w_scale};
  few_rows_gemm_int8_panels(p, m, n, alpha, x, ldx, &whole, 1, beta, y, ldy);
}

}  // namespace hat::detail
