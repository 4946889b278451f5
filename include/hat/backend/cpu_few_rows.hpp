// SPDX-License-Identifier: MIT
// Few-row matrix products y = x W^T for decoding: read each weight once, at memory bandwidth.
#pragma once

// Included by cpu.hpp only. No xtensor here: the kernels use the compiler's intrinsics inside
// functions compiled for AVX-512 or AVX2 (target attributes) and are chosen at run time, so a
// binary built without -march flags still streams weights with the widest vectors the CPU has.
#include <cstddef>

#include <cstdlib>
#include <cstring>

#include <hat/backend/cpu_worker_pool.hpp>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAT_FEW_ROWS_X86 1
#endif

namespace hat::detail {

/// Whether y [m, n] = x [m, k] W[n, k]^T should take the few-row path: decoding multiplies 1-5
/// rows (beam hypotheses) by every decoder weight and the vocabulary table. OpenBLAS packs W
/// for such products and runs ~4x above the cost of just reading W; these kernels read W once.
inline constexpr std::size_t few_rows_max = 16;

/// Products with less than this many bytes of W per thread stay on one thread: waking a worker
/// costs about what it saves below it (benchmarks/table_cpu_gemm.cpp, the thread rows).
inline constexpr std::size_t few_rows_part_min_bytes = std::size_t{256} << 10;

/// One panel of W as the few-row kernels read it: n rows of k elements, ld apart. A product over
/// several panels (a paneled_matrix's corner) multiplies panel p by the k columns of x that
/// follow those of the panels before it, and sums all panels of a block of W in registers.
template <class W>
struct few_rows_panel {
  const W* w;
  std::size_t ld, k;
};
/// The most panels one fused product takes (cpu::gemm_panels calls panel by panel beyond it).
inline constexpr std::size_t few_rows_max_panels = 8;
/// How far ahead, in bytes of W, the kernels prefetch: at least the next block, and as many
/// blocks as this many bytes. A block of 4 rows (AVX-512) of a 512-wide fp32 panel is 8 kB, but
/// one of the 128-wide panel that 640-wide weights keep after their 512 columns is 2 kB, and
/// prefetched one block ahead it streamed at 9.8-10.2 GB/s at 5 rows on an AMD EPYC (Zen 4),
/// against 16.4-17.8 GB/s 8 kB ahead (docs/performance.md, section 5).
inline constexpr std::size_t few_rows_prefetch_bytes = std::size_t{8} << 10;

/// Calls part(j0, j1) on ranges of output columns [j0, j1) that cover [0, n), one range per
/// thread of the worker pool (cpu::set_threads), each range starting at a multiple of 16 columns
/// (no cache line of y written by two threads); one range when W (n rows of row_bytes) is small.
/// Each column is computed whole by one thread, so y does not depend on the number of threads.
template <class Part>
inline void few_rows_columns(std::size_t n, std::size_t row_bytes, Part&& part) noexcept {
  auto& pool = worker_pool::instance();
  const std::size_t blocks = (n + 15) / 16;
  std::size_t parts = static_cast<std::size_t>(pool.threads());
  if (const std::size_t by_size = n * row_bytes / few_rows_part_min_bytes; by_size < parts) parts = by_size;
  if (blocks < parts) parts = blocks;
  if (parts <= 1) return part(std::size_t{0}, n);
  auto range = [&](int p) {
    const auto at = [&](std::size_t q) { return q * blocks / parts * 16 < n ? q * blocks / parts * 16 : n; };
    const std::size_t j0 = at(static_cast<std::size_t>(p)), j1 = at(static_cast<std::size_t>(p) + 1);
    if (j0 < j1) part(j0, j1);
  };
  pool.run(static_cast<int>(parts), range);
}

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

/// Which cache the kernels prefetch the next block of W into. Intel Xeon: L1 (prefetcht0; the
/// kernel reached 83-92 % of the bandwidth roofline so). AMD Zen 4: L2 (prefetcht1): with
/// prefetcht0 the 32768 x 512 vocabulary product at 5 rows read 11-12 GB/s, with prefetcht1
/// 20-21 GB/s (docs/performance.md). HAT_FEW_ROWS_PREFETCH=l1 or l2 overrides (benchmarks).
inline bool prefetch_to_l2() noexcept {
  static const bool l2 = [] {
    if (const char* v = std::getenv("HAT_FEW_ROWS_PREFETCH")) {
      if (std::strcmp(v, "l1") == 0) return false;
      if (std::strcmp(v, "l2") == 0) return true;
    }
    __builtin_cpu_init();
    return __builtin_cpu_is("amd") != 0;
  }();
  return l2;
}

/// Prefetches the cache line at p into L2 (`l2`) or L1: a branch the loop predicts every time.
/// always_inline: inlined by GCC 12's later passes into the always_inline loops below, the
/// prefetches vanished from the machine code (and the fp32 kernel lost a third of its speed).
[[gnu::always_inline]] inline void prefetch_line(const void* p, bool l2) noexcept {
  if (l2)
    _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T1);
  else
    _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0);
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

// One panel of one block: MR rows of x against NR rows of W, accumulated over the panel's k
// columns, every x row in the same pass so each W element is loaded once. While it runs, the
// rows of a block ahead are prefetched (`next`: one pointer per row; past the end they repeat
// the current rows): without this the loop reaches a third of the read bandwidth (measured: 8.7
// vs 24.9 GB/s for the 32768 x 512 vocabulary projection at 5 rows), as the hardware prefetcher
// does not follow NR interleaved streams that jump every 2 kB.
template <int MR, int NR>
[[gnu::target("avx512f"), gnu::always_inline]] inline void few_rows_accumulate_avx512(
    const float* x, std::size_t ldx, const float* const* w, const float* const* next, std::size_t k, bool l2,
    __m512 (&acc)[MR][NR]) noexcept {
  std::size_t c = 0;
  for (; c + 16 <= k; c += 16) {
    __m512 wv[NR];
    for (int j = 0; j < NR; ++j) {
      wv[j] = _mm512_loadu_ps(w[j] + c);
      prefetch_line(next[j] + c, l2);
    }
    for (int i = 0; i < MR; ++i) {
      const __m512 xv = _mm512_loadu_ps(x + static_cast<std::size_t>(i) * ldx + c);
      for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_fmadd_ps(xv, wv[j], acc[i][j]);
    }
  }
  if (c < k) {
    const __mmask16 tail = static_cast<__mmask16>((1u << (k - c)) - 1u);
    __m512 wv[NR];
    for (int j = 0; j < NR; ++j) wv[j] = _mm512_maskz_loadu_ps(tail, w[j] + c);
    for (int i = 0; i < MR; ++i) {
      const __m512 xv = _mm512_maskz_loadu_ps(tail, x + static_cast<std::size_t>(i) * ldx + c);
      for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_fmadd_ps(xv, wv[j], acc[i][j]);
    }
  }
}

// One block over all panels: panel p's rows are w[p * NR, p * NR + NR), its width ks[p]; one
// horizontal sum per output at the end. Split at multiples of 16 columns, the lanes add in the
// order of one panel as wide as all of them (a dense copy gives the same bits).
template <int MR, int NR>
[[gnu::target("avx512f")]] inline void few_rows_block_avx512(const float* x, std::size_t ldx, const std::size_t* ks,
                                                             std::size_t panels, const float* const* w,
                                                             const float* const* next,
                                                             float* acc_out /*[MR * NR]*/) noexcept {
  const bool l2 = prefetch_to_l2();
  __m512 acc[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_setzero_ps();
  for (std::size_t p = 0, off = 0; p < panels; off += ks[p], ++p)
    few_rows_accumulate_avx512<MR, NR>(x + off, ldx, w + p * NR, next + p * NR, ks[p], l2, acc);
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) acc_out[i * NR + j] = hsum_avx512(acc[i][j]);
}

[[gnu::target("avx2,fma")]] inline float hsum_avx2(__m256 v) noexcept {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}

// The same on AVX2; the tail (k not a multiple of 8) through masked loads, so that panels chain.
template <int MR, int NR>
[[gnu::target("avx2,fma"), gnu::always_inline]] inline void few_rows_accumulate_avx2(
    const float* x, std::size_t ldx, const float* const* w, const float* const* next, std::size_t k, bool l2,
    __m256 (&acc)[MR][NR]) noexcept {
  std::size_t c = 0;
  for (; c + 8 <= k; c += 8) {
    __m256 wv[NR];
    for (int j = 0; j < NR; ++j) {
      wv[j] = _mm256_loadu_ps(w[j] + c);
      prefetch_line(next[j] + c, l2);
    }
    for (int i = 0; i < MR; ++i) {
      const __m256 xv = _mm256_loadu_ps(x + static_cast<std::size_t>(i) * ldx + c);
      for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_fmadd_ps(xv, wv[j], acc[i][j]);
    }
  }
  if (c < k) {
    const __m256i tail =
        _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(k - c)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    __m256 wv[NR];
    for (int j = 0; j < NR; ++j) wv[j] = _mm256_maskload_ps(w[j] + c, tail);
    for (int i = 0; i < MR; ++i) {
      const __m256 xv = _mm256_maskload_ps(x + static_cast<std::size_t>(i) * ldx + c, tail);
      for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_fmadd_ps(xv, wv[j], acc[i][j]);
    }
  }
}

template <int MR, int NR>
[[gnu::target("avx2,fma")]] inline void few_rows_block_avx2(const float* x, std::size_t ldx, const std::size_t* ks,
                                                           std::size_t panels, const float* const* w,
                                                           const float* const* next,
                                                           float* acc_out /*[MR * NR]*/) noexcept {
  const bool l2 = prefetch_to_l2();
  __m256 acc[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_setzero_ps();
  for (std::size_t p = 0, off = 0; p < panels; off += ks[p], ++p)
    few_rows_accumulate_avx2<MR, NR>(x + off, ldx, w + p * NR, next + p * NR, ks[p], l2, acc);
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) acc_out[i * NR + j] = hsum_avx2(acc[i][j]);
}

// Register budgets: AVX-512 has 32 vector registers, so 6 x rows x 4 W rows of accumulators
// (24) plus the 4 W vectors and one x; AVX2 has 16, so 5 x 2 (10) plus 2 and one.
template <simd_level L>
struct few_rows_tile {
  static constexpr int mr = L == simd_level::avx512 ? 6 : 5;
  static constexpr int nr = L == simd_level::avx512 ? 4 : 2;
};

template <simd_level L, int MR>
inline void few_rows_chunk(const float* x, std::size_t ldx, const std::size_t* ks, std::size_t panels,
                           const float* const* w, const float* const* next, float* acc) noexcept {
  constexpr int NR = few_rows_tile<L>::nr;
  if constexpr (L == simd_level::avx512)
    few_rows_block_avx512<MR, NR>(x, ldx, ks, panels, w, next, acc);
  else
    few_rows_block_avx2<MR, NR>(x, ldx, ks, panels, w, next, acc);
}

// Calls f.template operator()<R>() for R = rows (1..Max): a block kernel instantiated per row count.
template <int Max, class F>
inline void with_row_count(std::size_t rows, F&& f) {
  if constexpr (Max == 1) {
    f.template operator()<1>();
  } else {
    if (rows >= static_cast<std::size_t>(Max)) return f.template operator()<Max>();
    with_row_count<Max - 1>(rows, f);
  }
}

// Blocks of NR rows of W (of any element type: the low-precision kernels use them too) against
// tiles of up to MR rows of x, over 1 to few_rows_max_panels panels (the caller checks: the
// pointer arrays are that long); rows past n repeat the last row (in bounds, not stored). The
// block's kernel prefetches the rows few_rows_prefetch_bytes ahead (`next`, see
// few_rows_accumulate_avx512). `rows` and `next` hold NR pointers per panel, panel by panel.
// block(i0, rows, w_rows, next_rows, acc [Outs * MR * NR]); store(i0, rows, j0, cols, acc). Outs:
// how many sums per output a block may write (the int8 kernels keep one per panel).
template <std::size_t MR, std::size_t NR, std::size_t Outs = 1, class W, class Block, class Store>
inline void few_rows_tiles(std::size_t m, std::size_t n, const few_rows_panel<W>* panels, std::size_t count,
                           Block&& block, Store&& store) {
  std::size_t block_bytes = 0;
  for (std::size_t p = 0; p < count; ++p) block_bytes += NR * panels[p].k * sizeof(W);
  const std::size_t ahead = NR * (block_bytes >= few_rows_prefetch_bytes || block_bytes == 0
                                      ? 1
                                      : (few_rows_prefetch_bytes + block_bytes - 1) / block_bytes);
  float acc[Outs * MR * NR];
  const W* rows[few_rows_max_panels * NR];
  const W* next[few_rows_max_panels * NR];
  for (std::size_t j0 = 0; j0 < n; j0 += NR) {
    const std::size_t nr = n - j0 < NR ? n - j0 : NR;
    for (std::size_t p = 0; p < count; ++p)
      for (std::size_t j = 0; j < NR; ++j) {
        const W* w = panels[p].w;
        const std::size_t ld = panels[p].ld;
        rows[p * NR + j] = w + (j0 + (j < nr ? j : nr - 1)) * ld;
        next[p * NR + j] = j0 + ahead + j < n ? w + (j0 + ahead + j) * ld : rows[p * NR + j];
      }
    for (std::size_t i0 = 0; i0 < m; i0 += MR) {
      const std::size_t mr = m - i0 < MR ? m - i0 : MR;
      block(i0, mr, rows, next, acc);
      store(i0, mr, j0, nr, acc);
    }
  }
}

template <simd_level L>
inline void few_rows_panels_kernel(std::size_t m, std::size_t n, float alpha, const float* x, std::size_t ldx,
                                   const few_rows_panel<float>* panels, std::size_t count, float beta, float* y,
                                   std::size_t ldy) noexcept {
  constexpr std::size_t MR = few_rows_tile<L>::mr, NR = few_rows_tile<L>::nr;
  std::size_t ks[few_rows_max_panels];
  for (std::size_t p = 0; p < count; ++p) ks[p] = panels[p].k;
  few_rows_tiles<MR, NR>(
      m, n, panels, count,
      [&](std::size_t i0, std::size_t mr, const float* const* rows, const float* const* next, float* acc) {
        with_row_count<static_cast<int>(MR)>(
            mr, [&]<int R>() { few_rows_chunk<L, R>(x + i0 * ldx, ldx, ks, count, rows, next, acc); });
      },
      [&](std::size_t i0, std::size_t mr, std::size_t j0, std::size_t nr, const float* acc) {
        for (std::size_t i = 0; i < mr; ++i)
          for (std::size_t j = 0; j < nr; ++j) {
            float& out = y[(i0 + i) * ldy + j0 + j];
            out = beta == 0.0f ? alpha * acc[i * NR + j] : alpha * acc[i * NR + j] + beta * out;
          }
      });
}

/// One panel, one thread, one instruction set (the tests run each path).
template <simd_level L>
inline void few_rows_kernel(std::size_t m, std::size_t n, std::size_t k, float alpha, const float* x, std::size_t ldx,
                            const float* w, std::size_t ldw, float beta, float* y, std::size_t ldy) noexcept {
  const few_rows_panel<float> whole{w, ldw, k};
  few_rows_panels_kernel<L>(m, n, alpha, x, ldx, &whole, 1, beta, y, ldy);
}

/// y [m, n] = alpha x [m, k_0 + k_1 + ...] [W_0 | W_1 | ...]^T + beta y over 1 to
/// few_rows_max_panels panels W_p [n, k_p] (every k_p > 0), for m <= few_rows_max, on AVX-512 or
/// AVX2; false (nothing done) when the CPU has neither or there are too many panels, so the caller
/// falls back to BLAS. The output columns are split across the worker pool's threads
/// (few_rows_columns).
inline bool few_rows_gemm_panels(std::size_t m, std::size_t n, float alpha, const float* x, std::size_t ldx,
                                 const few_rows_panel<float>* panels, std::size_t count, float beta, float* y,
                                 std::size_t ldy) noexcept {
  const simd_level level = simd();
  if (level == simd_level::none || count == 0 || count > few_rows_max_panels) return false;
  std::size_t row_bytes = 0;
  for (std::size_t p = 0; p < count; ++p) row_bytes += panels[p].k * sizeof(float);
  few_rows_columns(n, row_bytes, [&](std::size_t j0, std::size_t j1) {
    few_rows_panel<float> part[few_rows_max_panels];
    for (std::size_t p = 0; p < count; ++p) part[p] = {panels[p].w + j0 * panels[p].ld, panels[p].ld, panels[p].k};
    if (level == simd_level::avx512)
      few_rows_panels_kernel<simd_level::avx512>(m, j1 - j0, alpha, x, ldx, part, count, beta, y + j0, ldy);
    else
      few_rows_panels_kernel<simd_level::avx2>(m, j1 - j0, alpha, x, ldx, part, count, beta, y + j0, ldy);
  });
  return true;
}

/// y [m, n] = alpha x [m, k] W [n, k]^T + beta y: few_rows_gemm_panels with one panel.
inline bool few_rows_gemm(std::size_t m, std::size_t n, std::size_t k, float alpha, const float* x, std::size_t ldx,
                          const float* w, std::size_t ldw, float beta, float* y, std::size_t ldy) noexcept {
  const few_rows_panel<float> whole{w, ldw, k};
  return few_rows_gemm_panels(m, n, alpha, x, ldx, &whole, 1, beta, y, ldy);
}

#else
inline bool few_rows_gemm_panels(std::size_t, std::size_t, float, const float*, std::size_t,
                                 const few_rows_panel<float>*, std::size_t, float, float*, std::size_t) noexcept {
  return false;
}
inline bool few_rows_gemm(std::size_t, std::size_t, std::size_t, float, const float*, std::size_t, const float*,
                          std::size_t, float, float*, std::size_t) noexcept {
  return false;
}
#endif

}  // namespace hat::detail
