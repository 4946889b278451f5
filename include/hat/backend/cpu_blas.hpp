// SPDX-License-Identifier: MIT
// OpenBLAS as hat::cpu calls it: row-major sgemm/dgemm on strided views, the product of bf16 and
// int8 weights (few-row kernels, or tiles widened for sgemm), and OpenBLAS's threads and kernels.
#pragma once

// Compile cost: xtensor-blas pulls in xtensor (~2.4 s per TU). This is the only backend header
// that includes it (docs/architecture.md, module layering). It also declares the cblas_* prototypes
// we call: OpenBLAS's own <cblas.h> cannot share a TU with it.
#include <xtensor-blas/xblas.hpp>

#include <cstddef>
#include <string>
#include <type_traits>

#include <hat/backend/cpu_few_rows.hpp>
#include <hat/backend/cpu_few_rows_bf16.hpp>
#include <hat/backend/cpu_few_rows_int8.hpp>
#include <hat/backend/cpu_lowp_many_rows.hpp>
#include <hat/backend/cpu_lowp_path.hpp>

extern "C" {
void openblas_set_num_threads(int);  // OpenBLAS extensions, not in xtensor-blas' declarations
int openblas_get_num_threads(void);
char* openblas_get_corename(void);
}

namespace hat::detail {

/// c [m, n] = alpha op(a) op(b) + beta c, row-major, op = transpose where ta / tb say so, by the
/// BLAS's sgemm (float) or dgemm (double): leading dimensions as given, so a slice is never copied.
template <class T>
void blas_gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a, std::size_t lda,
               const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "blas_gemm: float or double");
  const auto tra = ta ? CblasTrans : CblasNoTrans;
  const auto trb = tb ? CblasTrans : CblasNoTrans;
  const auto i = [](std::size_t v) { return static_cast<CBLAS_INT>(v); };
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, tra, trb, i(m), i(n), i(k), alpha, a, i(lda), b, i(ldb), beta, c, i(ldc));
  else
    cblas_dgemm(CblasRowMajor, tra, trb, i(m), i(n), i(k), alpha, a, i(lda), b, i(ldb), beta, c, i(ldc));
}

/// c [m, n] = alpha a [m, k] b [n, k]^T + beta c, row-major, by the BLAS's sgemm: the product
/// many_rows_tiles (cpu_lowp_many_rows.hpp) hands its tiles to.
struct blas_sgemm_nt {
  void operator()(std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a, std::size_t lda,
                  const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc) const {
    blas_gemm(false, true, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
};

/// y [m, n] = alpha x [m, k_0 + ...] [W_0 | ...]^T + beta y on bf16 or int8 panels (a weight's
/// converted twins: few_rows_panel<bf16> or int8_panel, 1 to few_rows_max_panels, every k_p > 0):
/// the few-row kernel, or past lowp_many_rows rows tiles of W widened for the BLAS's sgemm
/// (cpu_lowp_many_rows.hpp), on the CPU's best path. What cpu::gemm and cpu::gemm_panels run on
/// a model's converted weights.
template <class Panel>
void lowp_product(std::size_t m, std::size_t n, float alpha, const float* x, std::size_t ldx, const Panel* panels,
                  std::size_t count, float beta, float* y, std::size_t ldy) {
  constexpr bool int8 = std::is_same_v<Panel, int8_panel>;
  const lowp_path p = best_lowp_path();
  if (m <= lowp_many_rows) {
    if constexpr (int8)
      few_rows_gemm_int8_panels(p, m, n, alpha, x, ldx, panels, count, beta, y, ldy);
    else
      few_rows_gemm_bf16_panels(p, m, n, alpha, x, ldx, panels, count, beta, y, ldy);
    return;
  }
  if constexpr (int8)
    many_rows_gemm_int8_panels(p, m, n, alpha, x, ldx, panels, count, beta, y, ldy, blas_sgemm_nt{});
  else
    many_rows_gemm_bf16_panels(p, m, n, alpha, x, ldx, panels, count, beta, y, ldy, blas_sgemm_nt{});
}

// --- OpenBLAS's threads and kernels (process-wide) ---
inline void blas_set_threads(int n) noexcept { openblas_set_num_threads(n); }
inline int blas_threads() noexcept { return openblas_get_num_threads(); }
/// The kernel family OpenBLAS picked for this CPU ("SkylakeX", "Haswell", "Prescott", ...).
inline std::string blas_core() { return openblas_get_corename(); }

/// A warning when OpenBLAS runs its generic SSE3 kernels on a CPU that has AVX2 or AVX-512
/// (Debian's OpenBLAS 0.3.21 does not know recent Xeons: GEMMs run about 5x slower); empty
/// when all is well.
inline std::string blas_warning() {
  const std::string core = blas_core();
  if (core != "Prescott" && core != "Core2" && core != "Nehalem" && core != "Katmai") return {};
#if defined(__x86_64__) || defined(__i386__)
  const char* fix = __builtin_cpu_supports("avx512f") ? "SkylakeX" : __builtin_cpu_supports("avx2") ? "Haswell" : nullptr;
  if (fix)
    return "OpenBLAS uses its generic '" + core + "' kernels on a CPU with " +
           (std::string(fix) == "SkylakeX" ? "AVX-512" : "AVX2") + "; run with OPENBLAS_CORETYPE=" + fix +
           " for about 5x faster matrix products";
#endif
  return {};
}

/// An error when OpenBLAS was told (OPENBLAS_CORETYPE) to run kernels whose instructions this
/// CPU lacks: OpenBLAS 0.3.21 accepts SkylakeX on an AVX2-only CPU (an AMD EPYC Zen 3, seen
/// 2026-12-07) and stops at the first product with an illegal instruction. Empty when all is
/// well.
inline std::string blas_error() {
#if defined(__x86_64__) || defined(__i386__)
  const std::string core = blas_core();
  const bool avx512 = core == "SkylakeX" || core == "Cooperlake" || core == "SapphireRapids";
  const bool avx2 = avx512 || core == "Haswell" || core == "Zen";
  if ((avx512 && !__builtin_cpu_supports("avx512f")) || (avx2 && !__builtin_cpu_supports("avx2"))) {
    const char* fix = __builtin_cpu_supports("avx512f") ? "SkylakeX" : __builtin_cpu_supports("avx2") ? "Haswell" : nullptr;
    return "OpenBLAS runs its '" + core + "' kernels (set by OPENBLAS_CORETYPE, or by its build), whose " +
           (avx512 ? "AVX-512" : "AVX2") + " instructions this CPU lacks: unset OPENBLAS_CORETYPE" +
           (fix ? std::string(" or set it to ") + fix : std::string());
  }
#endif
  return {};
}

}  // namespace hat::detail
