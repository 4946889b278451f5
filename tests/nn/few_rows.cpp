// SPDX-License-Identifier: MIT
// The few-row decoding kernel against OpenBLAS on strided views, both instruction sets.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/space/random.hpp>

namespace {

using kernel_fn = void (*)(std::size_t, std::size_t, std::size_t, float, const float*, std::size_t, const float*,
                           std::size_t, float, float*, std::size_t);

void check_against_blas(kernel_fn kernel) {
  hat::rng g(3);
  hat::cpu blas;
  blas.few_rows = false;
  for (std::size_t m : {1u, 2u, 3u, 4u, 5u, 7u, 16u})
    for (std::size_t n : {1u, 5u, 64u, 67u})
      for (std::size_t k : {3u, 16u, 17u, 40u, 512u}) {
        INFO("m " << m << " n " << n << " k " << k);
        const std::size_t ldx = k + 3, ldw = k + 5, ldy = n + 2;  // strided views, as elastic slices are
        std::vector<float> x(m * ldx), w(n * ldw), y(m * ldy), ref;
        for (auto& v : x) v = float(g.uniform() * 2 - 1);
        for (auto& v : w) v = float(g.uniform() * 2 - 1);
        for (auto& v : y) v = float(g.uniform());
        ref = y;
        for (float beta : {0.0f, 0.5f}) {
          std::vector<float> got = y, want = ref;
          kernel(m, n, k, 0.75f, x.data(), ldx, w.data(), ldw, beta, got.data(), ldy);
          blas.gemm(hat::matrix_ref<const float>{x.data(), m, k, ldx}, hat::op::none,
                    hat::matrix_ref<const float>{w.data(), n, k, ldw}, hat::op::transpose,
                    hat::matrix_ref<float>{want.data(), m, n, ldy}, 0.75f, beta);
          for (std::size_t i = 0; i < m; ++i)
            for (std::size_t j = 0; j < ldy; ++j) {
              // Columns past n (the row padding) must be left alone.
              if (j >= n) REQUIRE(got[i * ldy + j] == y[i * ldy + j]);
              else REQUIRE(got[i * ldy + j] == Approx(want[i * ldy + j]).margin(1e-4 * std::sqrt(double(k))));
            }
        }
      }
}

}  // namespace

#ifdef HAT_FEW_ROWS_X86
TEST_CASE("few-row kernel: AVX-512 path equals OpenBLAS", "[nn][cpu][few_rows]") {
  if (hat::detail::detect_simd() != hat::detail::simd_level::avx512) {
    WARN("this CPU has no AVX-512: its path is not run here");
    return;
  }
  check_against_blas(&hat::detail::few_rows_kernel<hat::detail::simd_level::avx512>);
}

TEST_CASE("few-row kernel: AVX2 path equals OpenBLAS", "[nn][cpu][few_rows]") {
  if (hat::detail::detect_simd() == hat::detail::simd_level::none) {
    WARN("this CPU has no AVX2: its path is not run here");
    return;
  }
  check_against_blas(&hat::detail::few_rows_kernel<hat::detail::simd_level::avx2>);
}
#endif

TEST_CASE("cpu::gemm: few-row products take the kernel and agree with BLAS", "[nn][cpu][few_rows]") {
  // Through the backend's dispatch, whatever the CPU: the result must not depend on the path.
  hat::cpu fast, blas;
  blas.few_rows = false;
  hat::rng g(5);
  const std::size_t m = 5, n = 300, k = 96;
  std::vector<float> x(m * k), w(n * k), a(m * n), b(m * n);
  for (auto& v : x) v = float(g.uniform() - 0.5);
  for (auto& v : w) v = float(g.uniform() - 0.5);
  fast.gemm(hat::matrix_ref<const float>(hat::dense(x.data(), m, k)), hat::op::none,
            hat::matrix_ref<const float>(hat::dense(w.data(), n, k)), hat::op::transpose, hat::dense(a.data(), m, n), 1.0f,
            0.0f);
  blas.gemm(hat::matrix_ref<const float>(hat::dense(x.data(), m, k)), hat::op::none,
            hat::matrix_ref<const float>(hat::dense(w.data(), n, k)), hat::op::transpose, hat::dense(b.data(), m, n), 1.0f,
            0.0f);
  for (std::size_t i = 0; i < a.size(); ++i) REQUIRE(a[i] == Approx(b[i]).margin(1e-5));
}
