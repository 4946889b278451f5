// SPDX-License-Identifier: MIT
// Products of many rows on bf16 or int8 weights: tiles of W widened to fp32, then the BLAS's sgemm.
#pragma once

// The few-row kernels (cpu_few_rows_bf16.hpp, cpu_few_rows_int8.hpp) read a block of W once for
// all rows of x but hold only MR x NR outputs in registers and widen each weight again for every
// MR rows: at a batch of beams (hat test and hat translate: 32 sentences x beam 5 = 160 rows)
// they ran 1.7-2.5x (bf16) and 1.1-2.0x (int8) slower than OpenBLAS's sgemm on the fp32 weights
// (AMD EPYC Zen 3, AVX2, one thread: docs/performance.md, section 11), so --precision made
// hat test slower. Past lowp_many_rows rows, W goes to sgemm a tile of output rows at a time,
// each tile widened to fp32 in a scratch the last-level cache holds: W still streams once from
// memory, and the arithmetic is the BLAS's compute-bound kernel.
//   bf16: the widening is exact, so the product is fp32 x times the bf16 weights with fp32
//         accumulation, as in the few-row kernel (in the BLAS's order of additions). The tile
//         holds every panel's columns side by side, so a paneled weight gives its dense copy's
//         bits at any split.
//   int8: x is quantised per row and panel exactly as the few-row kernel does (its integers and
//         scales), and both sides are dequantised (integer times scale, one rounding) before an
//         fp32 product: the same quantised values, accumulated in fp32 instead of exact int32.
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include <hat/backend/bf16.hpp>
#include <hat/backend/cpu_few_rows_int8.hpp>
#include <hat/backend/cpu_lowp_path.hpp>
#include <hat/config.hpp>

namespace hat::detail {

/// Products of more rows than this on bf16 or int8 weights go through tiles and sgemm; fewer
/// through the few-row kernels. 32 keeps HAT's latency protocol (beam 5, a 30-token source) on
/// the few-row kernels, which read each weight once at the bandwidth there; at 64 rows the tiles
/// were the faster on one thread (docs/performance.md, section 11). Between 32 and 64 rows, and
/// on CPUs with AVX-512, the crossing point has not been measured.
inline constexpr std::size_t lowp_many_rows = 32;

/// A tile's bytes in fp32: 4 MB, within the last-level cache of the CPUs measured (32 MB), and
/// most of a decoder's matrices in one tile. Tiles of 512 kB (within a core's L2) were as fast
/// on one thread, and up to 1.8x slower than sgemm on the fp32 weights on two, where each call's
/// threading costs more than a small tile's work (AMD EPYC Zen 3; docs/performance.md, section 11).
inline constexpr std::size_t lowp_tile_bytes = std::size_t{4} << 20;

/// Output rows per tile for k input columns: a multiple of 16, at least 64 (narrower tiles
/// leave sgemm too little work per call).
inline std::size_t lowp_tile_rows(std::size_t k) noexcept {
  const std::size_t rows = lowp_tile_bytes / sizeof(float) / (k == 0 ? 1 : k) / 16 * 16;
  return rows < 64 ? 64 : rows;
}

#ifdef HAT_FEW_ROWS_X86
[[gnu::target("avx2")]] inline void widen_bf16_avx2(const bf16* w, std::size_t k, float* out) noexcept {
  std::size_t c = 0;
  for (; c + 8 <= k; c += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + c));
    _mm256_storeu_ps(out + c, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)));
  }
  for (; c < k; ++c) out[c] = to_float(w[c]);
}

[[gnu::target("avx2")]] inline void dequantize_int8_avx2(const std::int8_t* q, std::size_t k, float scale,
                                                         float* out) noexcept {
  const __m256 s = _mm256_set1_ps(scale);
  std::size_t c = 0;
  for (; c + 8 <= k; c += 8) {
    const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + c));
    _mm256_storeu_ps(out + c, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b)), s));
  }
  for (; c < k; ++c) out[c] = static_cast<float>(q[c]) * scale;
}

[[gnu::target("avx2")]] inline void dequantize_int16_avx2(const std::int16_t* q, std::size_t k, float scale,
                                                          float* out) noexcept {
  const __m256 s = _mm256_set1_ps(scale);
  std::size_t c = 0;
  for (; c + 8 <= k; c += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + c));
    _mm256_storeu_ps(out + c, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(h)), s));
  }
  for (; c < k; ++c) out[c] = static_cast<float>(q[c]) * scale;
}
#endif

/// out [k] = the floats of w [k] (exact). Every path gives the same floats.
inline void widen_bf16(lowp_path p, const bf16* w, std::size_t k, float* out) noexcept {
#ifdef HAT_FEW_ROWS_X86
  if (p != lowp_path::scalar) return widen_bf16_avx2(w, k, out);
#else
  (void)p;
#endif
  for (std::size_t c = 0; c < k; ++c) out[c] = to_float(w[c]);
}

/// out [k] = q [k] * scale, one rounding each: the same floats on every path.
template <class Int>
inline void dequantize(lowp_path p, const Int* q, std::size_t k, float scale, float* out) noexcept {
#ifdef HAT_FEW_ROWS_X86
  if (p != lowp_path::scalar) {
    if constexpr (std::is_same_v<Int, std::int8_t>)
      return dequantize_int8_avx2(q, k, scale, out);
    else
      return dequantize_int16_avx2(q, k, scale, out);
  }
#else
  (void)p;
#endif
  for (std::size_t c = 0; c < k; ++c) out[c] = static_cast<float>(q[c]) * scale;
}

// Per-thread scratch of the tiles and of int8's dequantised x, kept for the thread's next
// product (lowp_tile_bytes at most, and x's m x k floats).
inline std::vector<float>& many_rows_tile() {
  thread_local std::vector<float> v;
  return v;
}
inline std::vector<float>& many_rows_x() {
  thread_local std::vector<float> v;
  return v;
}

/// y [m, n] = alpha x' [m, K] T^T + beta y, tile by tile: `fill(j0, rows, tile)` writes output
/// rows j0 .. j0 + rows of the fp32 weight T [n, K] into tile [rows, K], then
/// sgemm(m, rows, K, alpha, x', ldx', tile, K, beta, y + j0, ldy) (c = alpha a b^T + beta c,
/// row-major, b [rows, K]) multiplies them. Tiles of `tile_rows` rows (0: lowp_tile_rows(K)).
template <class Fill, class Sgemm>
void many_rows_tiles(std::size_t m, std::size_t n, std::size_t k, float alpha, const float* x, std::size_t ldx,
                     float beta, float* y, std::size_t ldy, Fill&& fill, Sgemm&& sgemm, std::size_t tile_rows = 0) {
  const std::size_t per = tile_rows > 0 ? tile_rows : lowp_tile_rows(k);
  std::vector<float>& tile = many_rows_tile();
  tile.resize((n < per ? n : per) * k);
  for (std::size_t j0 = 0; j0 < n; j0 += per) {
    const std::size_t rows = n - j0 < per ? n - j0 : per;
    fill(j0, rows, tile.data());
    sgemm(m, rows, k, alpha, x, ldx, static_cast<const float*>(tile.data()), k, beta, y + j0, ldy);
  }
}

/// y [m, n] = alpha x [m, k_0 + k_1 + ...] [W_0 | W_1 | ...]^T + beta y over 1 to
/// few_rows_max_panels bf16 panels W_p [n, k_p] (every k_p > 0), as few_rows_gemm_bf16_panels,
/// for many rows: tiles widened on path `p`, multiplied by `sgemm` (many_rows_tiles, which
/// `tile_rows` passes to).
template <class Sgemm>
void many_rows_gemm_bf16_panels(lowp_path p, std::size_t m, std::size_t n, float alpha, const float* x,
                                std::size_t ldx, const few_rows_panel<bf16>* panels, std::size_t count, float beta,
                                float* y, std::size_t ldy, Sgemm&& sgemm, std::size_t tile_rows = 0) {
  HAT_ASSERT(count >= 1 && count <= few_rows_max_panels, "many_rows_gemm_bf16_panels: 1 to few_rows_max_panels panels");
  std::size_t k = 0;
  for (std::size_t q = 0; q < count; ++q) k += panels[q].k;
  many_rows_tiles(
      m, n, k, alpha, x, ldx, beta, y, ldy,
      [&](std::size_t j0, std::size_t rows, float* tile) {
        for (std::size_t j = 0; j < rows; ++j)
          for (std::size_t q = 0, col = 0; q < count; col += panels[q].k, ++q)
            widen_bf16(p, panels[q].w + (j0 + j) * panels[q].ld, panels[q].k, tile + j * k + col);
      },
      sgemm, tile_rows);
}

/// y [m, n] = alpha x [m, k_0 + k_1 + ...] [W_0 | W_1 | ...]^T + beta y over 1 to
/// few_rows_max_panels int8 panels (every k_p > 0), as few_rows_gemm_int8_panels, for many
/// rows: each row's panel segments quantised as there (quantize_activations_on), x and the
/// tiles dequantised on path `p`, multiplied by `sgemm` (many_rows_tiles, which `tile_rows`
/// passes to). A row of x holding NaN or infinity gives NaN outputs, as there (for alpha other
/// than 0: the BLAS skips the product when alpha is 0).
template <class Sgemm>
void many_rows_gemm_int8_panels(lowp_path p, std::size_t m, std::size_t n, float alpha, const float* x,
                                std::size_t ldx, const int8_panel* panels, std::size_t count, float beta, float* y,
                                std::size_t ldy, Sgemm&& sgemm, std::size_t tile_rows = 0) {
  HAT_ASSERT(count >= 1 && count <= few_rows_max_panels, "many_rows_gemm_int8_panels: 1 to few_rows_max_panels panels");
  std::size_t k = 0, widest = 0;
  for (std::size_t q = 0; q < count; ++q) {
    k += panels[q].k;
    widest = panels[q].k > widest ? panels[q].k : widest;
  }
  std::vector<std::int16_t>& xq = lowp_scratch<std::int16_t>();
  xq.resize(widest);
  std::vector<float>& xd = many_rows_x();
  xd.resize(m * k);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t q = 0, col = 0; q < count; col += panels[q].k, ++q) {
      const float scale = quantize_activations_on(p, x + i * ldx + col, panels[q].k, xq.data());
      dequantize(p, xq.data(), panels[q].k, scale, xd.data() + i * k + col);
    }
  many_rows_tiles(
      m, n, k, alpha, xd.data(), k, beta, y, ldy,
      [&](std::size_t j0, std::size_t rows, float* tile) {
        for (std::size_t j = 0; j < rows; ++j)
          for (std::size_t q = 0, col = 0; q < count; col += panels[q].k, ++q)
            dequantize(p, panels[q].q + (j0 + j) * panels[q].ld, panels[q].k, panels[q].scale[j0 + j],
                       tile + j * k + col);
      },
      sgemm, tile_rows);
}

}  // namespace hat::detail
