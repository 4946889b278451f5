// SPDX-License-Identifier: MIT
// The few-row decoding kernel against OpenBLAS on strided views, both instruction sets, and on
// the worker pool's threads against one thread.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <span>
#include <thread>
#include <utility>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/nn/paneled_matrix.hpp>
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

#ifdef HAT_FEW_ROWS_X86
namespace {

// y = alpha x [W_0 | W_1 | ...]^T + beta y over panels of the given widths (each its own block of
// memory, strided), against OpenBLAS panel by panel; and, where every width is a multiple of
// `lanes` (the last excepted), bit for bit against the same kernel on a dense copy (one panel as
// wide as all).
void check_panels(hat::detail::simd_level level, std::size_t lanes) {
  using hat::detail::few_rows_panel;
  hat::rng g(13);
  hat::cpu blas;
  blas.few_rows = false;
  const auto run = [&](std::size_t m, std::size_t n, const few_rows_panel<float>* p, std::size_t count, const float* x,
                       std::size_t ldx, float beta, float* y, std::size_t ldy) {
    if (level == hat::detail::simd_level::avx512)
      hat::detail::few_rows_panels_kernel<hat::detail::simd_level::avx512>(m, n, 0.75f, x, ldx, p, count, beta, y, ldy);
    else
      hat::detail::few_rows_panels_kernel<hat::detail::simd_level::avx2>(m, n, 0.75f, x, ldx, p, count, beta, y, ldy);
  };
  const std::vector<std::vector<std::size_t>> width_sets = {
      {512, 128}, {16, 32, 48}, {1024, 1024, 1024}, {3, 17, 40}, {5, 8}};
  for (const auto& widths : width_sets)
    for (std::size_t m : {1u, 5u, 7u, 16u})
      for (std::size_t n : {1u, 67u, 1000u}) {
        std::size_t k = 0;
        for (std::size_t wd : widths) k += wd;
        INFO("m " << m << " n " << n << " panels " << widths.size() << " k " << k);
        const std::size_t ldx = k + 3, ldy = n + 2;
        std::vector<std::vector<float>> w;
        std::vector<few_rows_panel<float>> panels;
        for (std::size_t wd : widths) {  // each panel with its own padding: ld = width + 5
          w.emplace_back(n * (wd + 5));
          for (auto& v : w.back()) v = float(g.uniform() * 2 - 1);
          panels.push_back({w.back().data(), wd + 5, wd});
        }
        std::vector<float> x(m * ldx), y(m * ldy);
        for (auto& v : x) v = float(g.uniform() * 2 - 1);
        for (auto& v : y) v = float(g.uniform());
        for (float beta : {0.0f, 0.5f}) {
          std::vector<float> got = y, want = y;
          run(m, n, panels.data(), panels.size(), x.data(), ldx, beta, got.data(), ldy);
          for (std::size_t p = 0, s = 0; p < widths.size(); s += widths[p], ++p)
            blas.gemm(hat::matrix_ref<const float>{x.data() + s, m, widths[p], ldx}, hat::op::none,
                      hat::matrix_ref<const float>{w[p].data(), n, widths[p], widths[p] + 5}, hat::op::transpose,
                      hat::matrix_ref<float>{want.data(), m, n, ldy}, 0.75f, p == 0 ? beta : 1.0f);
          for (std::size_t i = 0; i < m; ++i)
            for (std::size_t j = 0; j < ldy; ++j) {
              if (j >= n) REQUIRE(got[i * ldy + j] == y[i * ldy + j]);  // the row padding left alone
              else REQUIRE(got[i * ldy + j] == Approx(want[i * ldy + j]).margin(1e-4 * std::sqrt(double(k))));
            }
          // Split at multiples of the vector width, every lane adds in the order of one dense row.
          if (std::all_of(widths.begin(), widths.end() - 1, [&](std::size_t wd) { return wd % lanes == 0; })) {
            std::vector<float> dense(n * k), one = y;
            for (std::size_t r = 0; r < n; ++r)
              for (std::size_t p = 0, s = 0; p < widths.size(); s += widths[p], ++p)
                std::copy_n(w[p].data() + r * (widths[p] + 5), widths[p], dense.data() + r * k + s);
            const few_rows_panel<float> whole{dense.data(), k, k};
            run(m, n, &whole, 1, x.data(), ldx, beta, one.data(), ldy);
            REQUIRE(got == one);
          }
        }
      }
}

}  // namespace

TEST_CASE("few-row kernel over panels: AVX-512 path equals OpenBLAS panel by panel, and a dense copy bit for bit",
          "[nn][cpu][few_rows]") {
  if (hat::detail::detect_simd() != hat::detail::simd_level::avx512) {
    WARN("this CPU has no AVX-512: its path is not run here");
    return;
  }
  check_panels(hat::detail::simd_level::avx512, 16);
}

TEST_CASE("few-row kernel over panels: AVX2 path equals OpenBLAS panel by panel, and a dense copy bit for bit",
          "[nn][cpu][few_rows]") {
  if (hat::detail::detect_simd() == hat::detail::simd_level::none) {
    WARN("this CPU has no AVX2: its path is not run here");
    return;
  }
  check_panels(hat::detail::simd_level::avx2, 8);
}
#endif

TEST_CASE("paneled_matrix::product: one pass over the panels while decoding, the bits of a dense copy",
          "[nn][cpu][few_rows]") {
  // HAT space0's 640-wide weights: a 512-wide and a 128-wide panel, read by cpu::gemm_panels.
  hat::rng g(17);
  const std::size_t n = 300;
  std::vector<float> wp(n * 640), wd(n * 640);
  for (auto& v : wp) v = float(g.uniform() * 2 - 1);
  const hat::paneled_matrix<float> super(wp.data(), n, {512, 640});
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t c = 0; c < 640; ++c) wd[r * 640 + c] = wp[super.index(r, c)];
  const hat::paneled_matrix<float> dense(wd.data(), n, {640});
  hat::cpu fast, blas, rounding;
  blas.few_rows = false;
  rounding.set_training_precision(hat::precision::bf16);
  for (std::size_t m : {1u, 5u, 16u, 30u})
    for (std::size_t in : {640u, 600u, 512u, 100u}) {
      INFO("rows " << m << " in " << in);
      std::vector<float> x(m * 640);
      for (auto& v : x) v = float(g.uniform() * 2 - 1);
      const hat::matrix_ref<const float> xv{x.data(), m, in, 640};
      const auto product = [&](hat::cpu& be, const hat::paneled_matrix<float>& w) {
        std::vector<float> y(m * 70, 0.25f);
        w.product(be, xv, 7, hat::matrix_ref<float>{y.data(), m, 70, 70}, 0.5f, 2.0f);  // rows 7..76
        return y;
      };
      // Panel by panel, each product in its own gemm: what the backends without gemm_panels do.
      const auto by_panels = [&](hat::cpu& be) {
        std::vector<float> y(m * 70, 0.25f);
        for (std::size_t p = 0; p < 2 && super.panel_start(p) < in; ++p) {
          const std::size_t s = super.panel_start(p), width = std::min<std::size_t>(in, super.bounds()[p]) - s;
          be.gemm(hat::matrix_ref<const float>{x.data() + s, m, width, 640}, hat::op::none,
                  super.panel(p, 7, 70, width), hat::op::transpose, hat::matrix_ref<float>{y.data(), m, 70, 70}, 0.5f,
                  p == 0 ? 2.0f : 1.0f);
        }
        return y;
      };
      const std::vector<float> got = product(fast, super), want = by_panels(blas);
      for (std::size_t i = 0; i < got.size(); ++i) REQUIRE(got[i] == Approx(want[i]).margin(1e-4));
#ifdef HAT_FEW_ROWS_X86
      // One pass, split at 512 (a multiple of both vector widths): a dense copy's bits.
      if (m <= hat::detail::few_rows_max && hat::detail::simd() != hat::detail::simd_level::none)
        REQUIRE(got == product(fast, dense));
#endif
      REQUIRE(product(blas, super) == want);          // no few-row kernel: panel by panel, as before
      REQUIRE(product(rounding, super) == by_panels(rounding));  // bf16 products: panel by panel too
    }
}

TEST_CASE("cpu::gemm_panels: more panels than one pass takes, or other precisions, go panel by panel",
          "[nn][cpu][few_rows]") {
  hat::rng g(19);
  hat::cpu be;
  const std::size_t m = 5, n = 40, width = 16, count = hat::detail::few_rows_max_panels + 1;
  std::vector<float> x(m * width * count), w(count * n * width);
  for (auto& v : x) v = float(g.uniform() * 2 - 1);
  for (auto& v : w) v = float(g.uniform() * 2 - 1);
  std::vector<hat::matrix_ref<const float>> panels;
  for (std::size_t p = 0; p < count; ++p) panels.push_back({w.data() + p * n * width, n, width, width});
  const hat::matrix_ref<const float> xv{x.data(), m, width * count, width * count};
  const auto by_panels = [&](const hat::cpu& b, std::size_t k) {
    std::vector<float> y(m * n, 1.0f);
    for (std::size_t p = 0; p < k; ++p)
      b.gemm(hat::matrix_ref<const float>{x.data() + p * width, m, width, width * count}, hat::op::none, panels[p],
             hat::op::transpose, hat::matrix_ref<float>{y.data(), m, n, n}, 0.5f, p == 0 ? 0.25f : 1.0f);
    return y;
  };
  std::vector<float> y(m * n, 1.0f);
  be.gemm_panels(xv, std::span<const hat::matrix_ref<const float>>(panels), hat::matrix_ref<float>{y.data(), m, n, n},
                 0.5f, 0.25f);
  REQUIRE(y == by_panels(be, count));  // nine panels: one gemm each, the same calls and bits
  hat::cpu rounding;
  rounding.set_training_precision(hat::precision::bf16);
  std::vector<float> r(m * n, 1.0f);
  const hat::matrix_ref<const float> x2{x.data(), m, 2 * width, width * count};
  rounding.gemm_panels(x2, std::span<const hat::matrix_ref<const float>>(panels.data(), 2),
                       hat::matrix_ref<float>{r.data(), m, n, n}, 0.5f, 0.25f);
  REQUIRE(r == by_panels(rounding, 2));  // bf16 products: per panel, each rounded as gemm rounds it
}

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
          // The same product as two panels (k split at 256) in one pass: the same bits on every
          // thread count too, each part of the output columns reading its rows of both panels.
          std::vector<float> w1(n * 256), w2(n * (k - 256));
          for (std::size_t r = 0; r < n; ++r) {
            std::copy_n(w.data() + r * ldw, 256, w1.data() + r * 256);
            std::copy_n(w.data() + r * ldw + 256, k - 256, w2.data() + r * (k - 256));
          }
          const hat::matrix_ref<const float> halves[] = {{w1.data(), n, 256, 256}, {w2.data(), n, k - 256, k - 256}};
          std::vector<float> panels_one;
          for (int threads : {1, 2, 3, 4}) {
            const pool_threads scope(threads);
            std::vector<float> y = y0;
            be.gemm_panels(hat::matrix_ref<const float>{x.data(), m, k, ldx}, std::span(halves),
                           hat::matrix_ref<float>{y.data(), m, n, ldy}, 0.75f, beta);
            if (threads == 1) panels_one = y;
            else REQUIRE(y == panels_one);
          }
#ifdef HAT_FEW_ROWS_X86
          if (hat::detail::simd() != hat::detail::simd_level::none)
            REQUIRE(panels_one == want);  // split at a multiple of 16 (and 8): the bits of one panel
#endif
          for (std::size_t i = 0; i < want.size(); ++i) REQUIRE(panels_one[i] == Approx(want[i]).margin(1e-3));
          REQUIRE(want[n - 1] == beta * y0[n - 1]);  // flushed (else 0.75e-9 more)
          for (std::size_t i = 0; i < m; ++i)
            for (std::size_t j = n; j < ldy; ++j) REQUIRE(want[i * ldy + j] == y0[i * ldy + j]);
        }
      }
}
