// SPDX-License-Identifier: MIT
// The few-row decoding kernel against OpenBLAS on strided views, both instruction sets, and on
// the worker pool's threads against one thread.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <thread>
#include <utility>
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

namespace {

// Sets the worker pool's thread count for a scope, then back to one (the other tests' setting).
struct pool_threads {
  explicit pool_threads(int n) { hat::detail::worker_pool::instance().set_threads(n); }
  ~pool_threads() { hat::detail::worker_pool::instance().set_threads(1); }
  pool_threads(const pool_threads&) = delete;
  pool_threads& operator=(const pool_threads&) = delete;
};

}  // namespace

TEST_CASE("worker pool: every part runs once, on its own thread", "[nn][cpu][few_rows][threads]") {
  const pool_threads scope(3);
  REQUIRE(hat::detail::worker_pool::instance().threads() == 3);
  for (int round = 0; round < 50; ++round) {
    std::vector<std::thread::id> ran(3);
    std::vector<int> count(3, 0);
    auto part = [&](int p) {
      ran[static_cast<std::size_t>(p)] = std::this_thread::get_id();
      ++count[static_cast<std::size_t>(p)];
    };
    hat::detail::worker_pool::instance().run(3, part);
    REQUIRE(count == std::vector<int>{1, 1, 1});
    REQUIRE(ran[0] == std::this_thread::get_id());
    REQUIRE(ran[1] != ran[0]);
    REQUIRE(ran[2] != ran[0]);
    REQUIRE(ran[2] != ran[1]);
  }
}

TEST_CASE("worker pool: more parts than threads (the pool shrank since they were counted) all run",
          "[nn][cpu][few_rows][threads]") {
  const pool_threads scope(2);
  std::vector<int> count(5, 0);
  auto part = [&](int p) { ++count[static_cast<std::size_t>(p)]; };
  hat::detail::worker_pool::instance().run(5, part);
  REQUIRE(count == std::vector<int>{1, 1, 1, 1, 1});
}

TEST_CASE("worker pool: two callers at once both finish (the second runs its parts itself)",
          "[nn][cpu][few_rows][threads]") {
  const pool_threads scope(2);
  std::vector<long> sums(2, 0);
  auto caller = [&](std::size_t c) {
    for (int round = 0; round < 200; ++round) {
      std::vector<long> part_sum(2, 0);
      auto part = [&](int p) {
        for (int i = 0; i < 1000; ++i) part_sum[static_cast<std::size_t>(p)] += i + p;
      };
      hat::detail::worker_pool::instance().run(2, part);
      sums[c] += part_sum[0] + part_sum[1];
    }
  };
  std::thread other(caller, std::size_t{1});
  caller(0);
  other.join();
  const long per_round = 2 * (999L * 1000 / 2) + 1000;
  REQUIRE(sums[0] == 200 * per_round);
  REQUIRE(sums[1] == 200 * per_round);
}

TEST_CASE("few-row columns: ranges cover every column once, on 16-column boundaries", "[nn][cpu][few_rows][threads]") {
  const pool_threads scope(3);
  for (std::size_t n : {1u, 15u, 16u, 33u, 1000u, 4099u, 32768u}) {
    INFO("n " << n);
    std::vector<int> hits(n, 0);
    std::vector<std::pair<std::size_t, std::size_t>> ranges;
    std::mutex m;
    hat::detail::few_rows_columns(n, 512 * sizeof(float), [&](std::size_t j0, std::size_t j1) {
      const std::lock_guard<std::mutex> lock(m);
      ranges.emplace_back(j0, j1);
      for (std::size_t j = j0; j < j1; ++j) ++hits[j];
    });
    for (int h : hits) REQUIRE(h == 1);
    for (const auto& [j0, j1] : ranges) REQUIRE(j0 % 16 == 0);
    // 2 kB rows: a part needs 128 of them, so 1000 columns take 3 threads and 33 take one.
    const std::size_t want = std::min<std::size_t>({3, n * 2048 / hat::detail::few_rows_part_min_bytes, (n + 15) / 16});
    REQUIRE(ranges.size() == std::max<std::size_t>(want, 1));
  }
}

TEST_CASE("cpu::gemm on threads: the same bits on 1, 2, 3 and 4 threads, subnormals flushed alike",
          "[nn][cpu][few_rows][threads]") {
  hat::cpu be;
  hat::rng g(11);
  for (std::size_t m : {1u, 5u, 16u})
    for (std::size_t n : {1000u, 1027u, 4099u})
      for (std::size_t k : {512u, 515u}) {
        INFO("m " << m << " n " << n << " k " << k);
        const std::size_t ldx = k + 1, ldw = k + 3, ldy = n + 5;
        std::vector<float> x(m * ldx), w(n * ldw), y0(m * ldy);
        for (auto& v : x) v = float(g.uniform() * 2 - 1);
        for (auto& v : w) v = float(g.uniform() * 2 - 1);
        for (auto& v : y0) v = float(g.uniform());
        // A subnormal x times a huge weight, in the last column (a worker's): cpu::gemm treats
        // subnormals as zero, and the caller's mode must be the workers' too.
        x[0] = 1e-39f;
        for (std::size_t c = 0; c < k; ++c) w[(n - 1) * ldw + c] = 0.0f;
        w[(n - 1) * ldw] = 1e30f;
        for (float beta : {0.0f, 0.5f}) {
          std::vector<float> want;
          for (int threads : {1, 2, 3, 4}) {
            const pool_threads scope(threads);
            std::vector<float> y = y0;
            be.gemm(hat::matrix_ref<const float>{x.data(), m, k, ldx}, hat::op::none,
                    hat::matrix_ref<const float>{w.data(), n, k, ldw}, hat::op::transpose,
                    hat::matrix_ref<float>{y.data(), m, n, ldy}, 0.75f, beta);
            if (threads == 1) want = y;
            else REQUIRE(y == want);  // bit for bit, the row padding untouched included
          }
          REQUIRE(want[n - 1] == beta * y0[n - 1]);  // flushed (else 0.75e-9 more)
          for (std::size_t i = 0; i < m; ++i)
            for (std::size_t j = n; j < ldy; ++j) REQUIRE(want[i * ldy + j] == y0[i * ldy + j]);
        }
      }
}
