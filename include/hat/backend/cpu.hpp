// SPDX-License-Identifier: MIT
// hat::cpu: the backend policy on host memory, with OpenBLAS (through xtensor-blas) for GEMMs.
#pragma once

// Compile cost: xtensor-blas pulls in xtensor (~2.4 s per TU). This is the only header that
// may include it (house style b7). It also declares the cblas_* prototypes we call: OpenBLAS's
// own <cblas.h> cannot share a TU with it.
#include <xtensor-blas/xblas.hpp>

#include <algorithm>  // std::copy
#include <cmath>
#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

#include <hat/backend/concepts.hpp>
#include <hat/config.hpp>

extern "C" {
void openblas_set_num_threads(int);  // OpenBLAS extensions, not in xtensor-blas' declarations
int openblas_get_num_threads(void);
char* openblas_get_corename(void);
}

namespace hat {

/// The CPU backend: host memory, OpenBLAS GEMMs on strided views (leading dimension = the
/// super width, so an elastic slice is never copied), plain loops elsewhere. Stateless, so it
/// costs nothing to hold. Thread count is OpenBLAS's, process-wide.
struct cpu {
  template <class T>
  using buffer = std::vector<T>;

  // --- GEMM ---
  template <class T>
  void gemm(matrix_ref<const T> a, op ta, matrix_ref<const T> b, op tb, matrix_ref<T> c, T alpha, T beta) const {
    const std::size_t m = ta == op::none ? a.rows : a.cols;
    const std::size_t k = ta == op::none ? a.cols : a.rows;
    const std::size_t n = tb == op::none ? b.cols : b.rows;
    HAT_ASSERT((tb == op::none ? b.rows : b.cols) == k, "gemm: inner dimensions differ");
    HAT_ASSERT(c.rows == m && c.cols == n, "gemm: output shape differs from op(A) * op(B)");
    if (m == 0 || n == 0) return;
    const auto tra = ta == op::none ? CblasNoTrans : CblasTrans;
    const auto trb = tb == op::none ? CblasNoTrans : CblasTrans;
    const auto i = [](std::size_t v) { return static_cast<CBLAS_INT>(v); };
    if constexpr (std::is_same_v<T, float>)
      cblas_sgemm(CblasRowMajor, tra, trb, i(m), i(n), i(k), alpha, a.data, i(a.ld), b.data, i(b.ld), beta, c.data,
                  i(c.ld));
    else
      cblas_dgemm(CblasRowMajor, tra, trb, i(m), i(n), i(k), alpha, a.data, i(a.ld), b.data, i(b.ld), beta, c.data,
                  i(c.ld));
  }

  // --- element-wise primitives ---
  template <class T>
  void bias_forward(matrix_ref<T> y /*[n, d]*/, const T* bias /*[d]*/, bool relu) const noexcept {
    for (std::size_t r = 0; r < y.rows; ++r) {
      T* row = y.data + r * y.ld;
      for (std::size_t j = 0; j < y.cols; ++j) {
        const T v = row[j] + bias[j];
        row[j] = relu && v < T(0) ? T(0) : v;
      }
    }
  }
  template <class T>
  void relu_backward(matrix_ref<T> g /*[n, d]*/, matrix_ref<const T> act /*[n, d]*/) const noexcept {
    for (std::size_t r = 0; r < g.rows; ++r)
      for (std::size_t j = 0; j < g.cols; ++j)
        if (act.data[r * act.ld + j] <= T(0)) g.data[r * g.ld + j] = T(0);
  }
  template <class T>
  void bias_backward(matrix_ref<const T> g /*[n, d]*/, T* bias_grad /*[d]*/, bool accumulate) const noexcept {
    if (!accumulate)
      for (std::size_t j = 0; j < g.cols; ++j) bias_grad[j] = T(0);
    for (std::size_t r = 0; r < g.rows; ++r)
      for (std::size_t j = 0; j < g.cols; ++j) bias_grad[j] += g.data[r * g.ld + j];
  }
  /// Adam with bias correction; weight decay is decoupled (p -= wd * lr * p), as fairseq's.
  template <class T>
  void adam_step(T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v, std::size_t n, T lr,
                 T beta1, T beta2, T eps, T weight_decay, std::size_t step) const noexcept {
    const T c1 = T(1) - static_cast<T>(std::pow(beta1, static_cast<T>(step)));
    const T c2 = T(1) - static_cast<T>(std::pow(beta2, static_cast<T>(step)));
    const T step_size = lr / c1;
    const T inv_c2_sqrt = T(1) / std::sqrt(c2);
    const T decay = T(1) - weight_decay * lr;  // 1 when there is no weight decay
    // One branch-free loop over restrict pointers, so that the compiler vectorises it.
    for (std::size_t i = 0; i < n; ++i) {
      const T mi = beta1 * m[i] + (T(1) - beta1) * g[i];
      const T vi = beta2 * v[i] + (T(1) - beta2) * g[i] * g[i];
      m[i] = mi;
      v[i] = vi;
      p[i] = p[i] * decay - step_size * mi / (std::sqrt(vi) * inv_c2_sqrt + eps);
    }
  }

  // --- memory ---
  template <class T>
  void upload(const T* host, std::size_t n, T* dev) const noexcept {
    std::copy(host, host + n, dev);
  }
  template <class T>
  void download(const T* dev, std::size_t n, T* host) const noexcept {
    std::copy(dev, dev + n, host);
  }
  void synchronize() const noexcept {}

  // --- OpenBLAS ---
  static void set_threads(int n) noexcept { openblas_set_num_threads(n); }
  static int threads() noexcept { return openblas_get_num_threads(); }
  /// The kernel family OpenBLAS picked for this CPU ("SkylakeX", "Haswell", "Prescott", ...).
  static std::string blas_core() { return openblas_get_corename(); }
  /// A warning when OpenBLAS runs its generic SSE3 kernels on a CPU that has AVX2 or AVX-512
  /// (Debian's OpenBLAS 0.3.21 does not know recent Xeons: GEMMs run about 5x slower); empty
  /// when all is well.
  static std::string blas_warning() {
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
};

static_assert(backend_policy<cpu>);

}  // namespace hat
