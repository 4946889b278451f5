// SPDX-License-Identifier: MIT
// Few-row products y = x W^T on int8 weights: a quarter of fp32's bytes, exact integer dot products.
#pragma once

// W holds per-row symmetric int8 (int8_rows.hpp) and each x row is quantised on entry to 13-bit
// integers; the dot products are exact int32 sums (vpmaddwd, or AVX512-VNNI's vpdpwssd) over
// chunks of int8_chunk columns, converted to float per chunk: every path gives the same bits.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <hat/backend/cpu_lowp_path.hpp>
#include <hat/backend/int8_rows.hpp>

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
// parameter cannot express).
#define HAT_INT8_BLOCK_AVX512(NAME, TARGET, STEP)                                                                        \
  template <int MR, int NR>                                                                                            \
  [[gnu::target(TARGET)]] inline void NAME(const std::int16_t* xq, std::size_t kp, const std::int8_t* const* w,         \
                                           const std::int8_t* const* next, std::size_t k, float* out) noexcept {       \
    static_assert(NR == 4, "the epilogue sums four accumulators at a time (hsum4_epi32_avx512)");                     \
    const bool l2 = prefetch_to_l2();                                                                                  \
    float total[MR][NR] = {};                                                                                          \
    for (std::size_t c0 = 0; c0 < k; c0 += int8_chunk) {                                                               \
      const std::size_t end = k - c0 < int8_chunk ? k : c0 + int8_chunk;                                               \
      i32x16 acc[MR][NR];                                                                                              \
      for (int i = 0; i < MR; ++i)                                                                                     \
        for (int j = 0; j < NR; ++j) acc[i][j] = i32x16{};                                                            \
      std::size_t c = c0;                                                                                              \
      for (; c + 32 <= end; c += 32) {                                                                                 \
        __m512i w16[NR];                                                                                               \
        for (int j = 0; j < NR; ++j) {                                                                                 \
          w16[j] = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w[j] + c)));              \
          prefetch_line(next[j] + c, l2);                                       \
        }                                                                                                              \
        STEP<MR, NR>(acc, w16, xq, kp, c);                                                                             \
      }                                                                                                                \
      if (c < end) { /* the last columns: zero-masked loads (x is zero there too) */                                   \
        const __mmask32 tail = static_cast<__mmask32>((std::uint64_t{1} << (end - c)) - 1u);                           \
        __m512i w16[NR];                                                                                               \
        for (int j = 0; j < NR; ++j) w16[j] = _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(tail, w[j] + c));          \
        STEP<MR, NR>(acc, w16, xq, kp, c);                                                                             \
      }                                                                                                                \
      for (int i = 0; i < MR; ++i) {                                                                                   \
        alignas(16) std::int32_t sums[4];                                                                              \
        _mm_store_si128(reinterpret_cast<__m128i*>(sums),                                                              \
                        hsum4_epi32_avx512(acc[i][0], acc[i][1], acc[i][2], acc[i][3]));                               \
        for (int j = 0; j < 4; ++j) total[i][j] += static_cast<float>(sums[j]);                                        \
      }                                                                                                                \
    }                                                                                                                  \
    for (int i = 0; i < MR; ++i)                                                                                       \
      for (int j = 0; j < NR; ++j) out[i * NR + j] = total[i][j];                                                      \
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
[[gnu::target("avx2")]] inline void int8_block_avx2(const std::int16_t* xq, std::size_t kp, const std::int8_t* const* w,
                                                   const std::int8_t* const* next, std::size_t k, float* out) noexcept {
  const bool l2 = prefetch_to_l2();
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
      int8_step_avx2<MR, NR>(acc, w16, xq, kp, c);
    }
    if (c < end) {  // the last columns, copied next to zeros (x is zero there too)
      alignas(16) std::int8_t last[NR][16] = {};
      __m256i w16[NR];
      for (int j = 0; j < NR; ++j) {
        std::memcpy(last[j], w[j] + c, end - c);
        w16[j] = _mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(last[j])));
      }
      int8_step_avx2<MR, NR>(acc, w16, xq, kp, c);
    }
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j)
        total[i][j] += static_cast<float>(hsum_epi32_avx2(reinterpret_cast<__m256i>(acc[i][j])));
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) out[i * NR + j] = total[i][j];
}

#endif  // HAT_FEW_ROWS_X86

/// y [m, n] = alpha x [m, k] W [n, k]^T + beta y with W ≈ diag(w_scale) q, q int8 [n, k]
/// (int8_rows.hpp) and w_scale [n] one per row of W as passed, on path `p` (which the CPU must
/// have). Every path gives the same bits. Any m; meant for few rows.
inline void few_rows_gemm_int8(lowp_path p, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* x,
                               std::size_t ldx, const std::int8_t* w, std::size_t ldw, const float* w_scale, float beta,
                               float* y, std::size_t ldy) {
  const std::size_t kp = round_up(k, 32);
  auto& xq = lowp_scratch<std::int16_t>();
  xq.assign(m * kp, 0);
  auto& x_scale = lowp_scratch<float>();
  x_scale.resize(m);
  for (std::size_t i = 0; i < m; ++i) x_scale[i] = quantize_activations(x + i * ldx, k, xq.data() + i * kp);
  const auto store_one = [&](std::size_t i, std::size_t j, float dot) {
    float& out = y[i * ldy + j];
    const float s = alpha * (dot * (x_scale[i] * w_scale[j]));
    out = beta == 0.0f ? s : s + beta * out;
  };
  if (p == lowp_path::scalar) {
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j) {
        float total = 0.0f;
        for (std::size_t c0 = 0; c0 < k; c0 += int8_chunk) {
          std::int32_t s = 0;
          for (std::size_t c = c0; c < k && c < c0 + int8_chunk; ++c)
            s += static_cast<std::int32_t>(xq[i * kp + c]) * static_cast<std::int32_t>(w[j * ldw + c]);
          total += static_cast<float>(s);
        }
        store_one(i, j, total);
      }
    return;
  }
#ifdef HAT_FEW_ROWS_X86
  const auto run = [&]<std::size_t MR, std::size_t NR>(auto block) {
    few_rows_columns(n, k, [&](std::size_t c0, std::size_t c1) {  // on the worker pool
      const few_rows_panel<std::int8_t> part{w + c0 * ldw, ldw, k};
      few_rows_tiles<MR, NR>(
          m, c1 - c0, &part, 1,
          [&](std::size_t i0, std::size_t mr, const std::int8_t* const* rows, const std::int8_t* const* next, float* acc) {
            with_row_count<static_cast<int>(MR)>(
                mr, [&]<int R>() { block.template operator()<R>(xq.data() + i0 * kp, rows, next, acc); });
          },
          [&](std::size_t i0, std::size_t mr, std::size_t j0, std::size_t nr, const float* acc) {
            for (std::size_t i = 0; i < mr; ++i)
              for (std::size_t j = 0; j < nr; ++j) store_one(i0 + i, c0 + j0 + j, acc[i * NR + j]);
          });
    });
  };
  // Register budgets: AVX-512: 6 x 4 int32 accumulators + 4 widened W vectors; AVX2: 5 x 2 + 2.
  switch (p) {
    case lowp_path::avx2:
      run.template operator()<5, 2>([&]<int R>(const std::int16_t* xr, const std::int8_t* const* rows, const std::int8_t* const* next,
                                               float* acc) { int8_block_avx2<R, 2>(xr, kp, rows, next, k, acc); });
      break;
    case lowp_path::avx512:
      run.template operator()<6, 4>([&]<int R>(const std::int16_t* xr, const std::int8_t* const* rows, const std::int8_t* const* next,
                                               float* acc) { int8_block_avx512<R, 4>(xr, kp, rows, next, k, acc); });
      break;
    default:
      run.template operator()<6, 4>([&]<int R>(const std::int16_t* xr, const std::int8_t* const* rows, const std::int8_t* const* next,
                                               float* acc) { int8_block_avx512_vnni<R, 4>(xr, kp, rows, next, k, acc); });
      break;
  }
#endif
}

}  // namespace hat::detail
