// SPDX-License-Identifier: MIT
// bf16 and int8 weights: the conversions, and the few-row kernels on every path this CPU has
// (scalar, AVX2, AVX-512, AVX512-VNNI) against double-precision references, and on the worker
// pool's threads against one thread.
#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include <hat/backend/cpu_few_rows_bf16.hpp>
#include <hat/backend/cpu_few_rows_int8.hpp>
#include <hat/space/random.hpp>

namespace {

using hat::detail::lowp_path;

std::vector<lowp_path> paths_here() {
  std::vector<lowp_path> v;
  for (lowp_path p : {lowp_path::scalar, lowp_path::avx2, lowp_path::avx512, lowp_path::avx512_vnni})
    if (hat::detail::lowp_path_available(p)) v.push_back(p);
    else WARN("this CPU lacks the " << hat::detail::lowp_path_name(p) << " path: not run here");
  return v;
}

float bits_float(std::uint32_t u) { return std::bit_cast<float>(u); }

struct problem {
  std::size_t m, n, k, ldx, ldw, ldy;
  std::vector<float> x, w, y;
};

problem random_problem(std::size_t m, std::size_t n, std::size_t k, hat::rng& g) {
  problem p{m, n, k, k + 3, k + 5, n + 2, {}, {}, {}};  // strided, as elastic slices are
  p.x.resize(m * p.ldx);
  p.w.resize(n * p.ldw);
  p.y.resize(m * p.ldy);
  for (auto& v : p.x) v = static_cast<float>(g.uniform() * 2 - 1);
  for (auto& v : p.w) v = static_cast<float>(g.uniform() * 2 - 1);
  for (auto& v : p.y) v = static_cast<float>(g.uniform());
  return p;
}

}  // namespace

TEST_CASE("bf16: round to nearest even, NaN and infinity kept", "[nn][cpu][lowp]") {
  using hat::to_bf16;
  using hat::to_float;
  CHECK(to_float(to_bf16(1.0f)) == 1.0f);
  CHECK(to_float(to_bf16(-2.5f)) == -2.5f);
  // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1).
  CHECK(to_float(to_bf16(1.0f + 0x1p-8f)) == 1.0f);
  CHECK(to_float(to_bf16(1.0f + 3 * 0x1p-8f)) == 1.0f + 0x1p-6f);  // tie, to the even 1 + 2^-6
  CHECK(to_float(to_bf16(1.0f + 0x1p-8f + 0x1p-20f)) == 1.0f + 0x1p-7f);  // above the tie: up
  CHECK(to_bf16(bits_float(0x3F80FFFFu)).bits == 0x3F81);
  CHECK(std::isnan(to_float(to_bf16(std::numeric_limits<float>::quiet_NaN()))));
  CHECK(std::isnan(to_float(to_bf16(bits_float(0x7F800001u)))));  // a NaN whose payload is all in the low half
  CHECK(to_float(to_bf16(std::numeric_limits<float>::infinity())) == std::numeric_limits<float>::infinity());
  CHECK(to_float(to_bf16(std::numeric_limits<float>::max())) == std::numeric_limits<float>::infinity());
  CHECK(to_float(to_bf16(-0.0f)) == 0.0f);
  CHECK(std::signbit(to_float(to_bf16(-0.0f))));
  CHECK(to_float(to_bf16(bits_float(0x00000001u))) == 0.0f);  // the smallest subnormal rounds to 0
}

TEST_CASE("int8 rows: symmetric per-row scales; activations as 13-bit integers", "[nn][cpu][lowp]") {
  const float w[4] = {0.5f, -1.27f, 0.01f, 0.0f};
  const float s = hat::int8_row_scale(w, 4);
  CHECK(s == Approx(0.01f));
  std::int8_t q[4];
  hat::quantize_int8(w, 4, s, q);
  CHECK(q[0] == 50);
  CHECK(q[1] == -127);
  CHECK(q[2] == 1);
  CHECK(q[3] == 0);
  const float zeros[3] = {};
  CHECK(hat::int8_row_scale(zeros, 3) == 0.0f);
  hat::quantize_int8(zeros, 3, 0.0f, q);
  CHECK((q[0] == 0 && q[1] == 0 && q[2] == 0));

  const float x[5] = {2.0f, -1.0f, 0.5f, 1e-6f, -2.0f};
  std::int16_t xq[5];
  const float xs = hat::quantize_activations(x, 5, xq);
  CHECK(xs == 2.0f / 4095.0f);
  CHECK(xq[0] == 4095);
  CHECK(xq[1] == -2048);  // -2047.5 rounds to the even -2048
  CHECK(xq[2] == 1024);   // 1023.75
  CHECK(xq[3] == 0);
  CHECK(xq[4] == -4095);
  const float bad[3] = {1.0f, std::numeric_limits<float>::infinity(), 0.0f};
  CHECK(std::isnan(hat::quantize_activations(bad, 3, xq)));
  CHECK(hat::quantize_activations(zeros, 3, xq) == 0.0f);
}

TEST_CASE("few-row bf16 kernel: every path equals the double product of the bf16 weights", "[nn][cpu][lowp]") {
  hat::rng g(7);
  for (lowp_path path : paths_here())
    for (std::size_t m : {1u, 2u, 5u, 6u, 7u, 16u})
      for (std::size_t n : {1u, 3u, 4u, 9u, 64u})
        for (std::size_t k : {1u, 15u, 16u, 17u, 31u, 32u, 33u, 100u, 512u}) {
          INFO("path " << hat::detail::lowp_path_name(path) << " m " << m << " n " << n << " k " << k);
          problem p = random_problem(m, n, k, g);
          std::vector<hat::bf16> w(p.w.size());
          for (std::size_t i = 0; i < w.size(); ++i) w[i] = hat::to_bf16(p.w[i]);
          for (float beta : {0.0f, 0.5f}) {
            std::vector<float> got = p.y;
            hat::detail::few_rows_gemm_bf16(path, m, n, k, 0.75f, p.x.data(), p.ldx, w.data(), p.ldw, beta, got.data(), p.ldy);
            for (std::size_t i = 0; i < m; ++i)
              for (std::size_t j = 0; j < p.ldy; ++j) {
                if (j >= n) {  // the row padding is left alone
                  REQUIRE(got[i * p.ldy + j] == p.y[i * p.ldy + j]);
                  continue;
                }
                double want = 0;
                for (std::size_t c = 0; c < k; ++c)
                  want += static_cast<double>(p.x[i * p.ldx + c]) * hat::to_float(w[j * p.ldw + c]);
                want = 0.75 * want + beta * p.y[i * p.ldy + j];
                REQUIRE(got[i * p.ldy + j] == Approx(want).margin(2e-6 * static_cast<double>(k)));
              }
          }
        }
}

TEST_CASE("few-row int8 kernel: every path gives the scalar path's bits, within the quantisation bound", "[nn][cpu][lowp]") {
  hat::rng g(11);
  const auto paths = paths_here();
  for (std::size_t m : {1u, 2u, 5u, 6u, 7u, 13u})
    for (std::size_t n : {1u, 3u, 4u, 9u, 33u})
      for (std::size_t k : {1u, 15u, 16u, 17u, 31u, 32u, 33u, 100u, 512u, 4096u + 40u}) {
        INFO("m " << m << " n " << n << " k " << k);
        problem p = random_problem(m, n, k, g);
        std::vector<std::int8_t> q(p.w.size());
        std::vector<float> scale(n);
        for (std::size_t j = 0; j < n; ++j) {
          scale[j] = hat::int8_row_scale(p.w.data() + j * p.ldw, k);
          hat::quantize_int8(p.w.data() + j * p.ldw, k, scale[j], q.data() + j * p.ldw);
        }
        for (float beta : {0.0f, 0.5f}) {
          std::vector<float> reference = p.y;
          hat::detail::few_rows_gemm_int8(lowp_path::scalar, m, n, k, 0.75f, p.x.data(), p.ldx, q.data(), p.ldw, scale.data(),
                                          beta, reference.data(), p.ldy);
          for (lowp_path path : paths) {
            INFO("path " << hat::detail::lowp_path_name(path));
            std::vector<float> got = p.y;
            hat::detail::few_rows_gemm_int8(path, m, n, k, 0.75f, p.x.data(), p.ldx, q.data(), p.ldw, scale.data(), beta,
                                            got.data(), p.ldy);
            REQUIRE(got == reference);  // the padding columns included: left alone
          }
          // Against the float product: x and W each off by at most half a step per element.
          for (std::size_t i = 0; i < m; ++i) {
            double xmax = 0;
            for (std::size_t c = 0; c < k; ++c) xmax = std::max(xmax, std::fabs(static_cast<double>(p.x[i * p.ldx + c])));
            const double xstep = xmax / hat::int8_activation_max;
            for (std::size_t j = 0; j < n; ++j) {
              double want = 0, bound = 0;
              for (std::size_t c = 0; c < k; ++c) {
                const double xv = p.x[i * p.ldx + c], wv = p.w[j * p.ldw + c];
                want += xv * wv;
                bound += std::fabs(xv) * scale[j] / 2 + (std::fabs(wv) + scale[j] / 2) * xstep / 2;
              }
              want = 0.75 * want + beta * p.y[i * p.ldy + j];
              REQUIRE(std::fabs(reference[i * p.ldy + j] - want) <= 0.75 * bound + 1e-5 * (1 + std::fabs(want)));
            }
          }
        }
      }
}

TEST_CASE("few-row int8 kernel: the largest values over several chunks sum exactly", "[nn][cpu][lowp]") {
  // Every product 4095 x 127 over 2.5 chunks: an int32 per chunk must not overflow.
  const std::size_t m = 2, n = 3, k = 2 * hat::int8_chunk + hat::int8_chunk / 2;
  std::vector<float> x(m * k, -3.0f), y(m * n, 1.0f);
  std::vector<std::int8_t> q(n * k, 127);
  const std::vector<float> scale(n, 0.5f);
  for (lowp_path path : paths_here()) {
    INFO("path " << hat::detail::lowp_path_name(path));
    hat::detail::few_rows_gemm_int8(path, m, n, k, 1.0f, x.data(), k, q.data(), k, scale.data(), 0.0f, y.data(), n);
    for (float v : y) REQUIRE(v == Approx(-3.0 * 63.5 * static_cast<double>(k)).epsilon(1e-6));
  }
}

TEST_CASE("few-row low-precision kernels: a NaN or an infinity in x reaches y", "[nn][cpu][lowp]") {
  const std::size_t k = 40;
  std::vector<float> x(k, 0.5f), y(2, 0.0f);
  x[7] = std::numeric_limits<float>::infinity();
  std::vector<std::int8_t> q(2 * k, 3);
  std::vector<hat::bf16> b(2 * k, hat::to_bf16(0.25f));
  const std::vector<float> scale(2, 0.1f);
  for (lowp_path path : paths_here()) {
    INFO("path " << hat::detail::lowp_path_name(path));
    hat::detail::few_rows_gemm_int8(path, 1, 2, k, 1.0f, x.data(), k, q.data(), k, scale.data(), 0.0f, y.data(), 2);
    CHECK(std::isnan(y[0]));
    hat::detail::few_rows_gemm_bf16(path, 1, 2, k, 1.0f, x.data(), k, b.data(), k, 0.0f, y.data(), 2);
    CHECK(std::isinf(y[1]));
  }
}

TEST_CASE("few-row low-precision kernels on threads: the same bits on 1, 2 and 3 threads, every path",
          "[nn][cpu][lowp][threads]") {
  hat::rng g(17);
  auto& pool = hat::detail::worker_pool::instance();
  const auto paths = paths_here();
  for (std::size_t m : {1u, 5u})
    for (std::size_t n : {2100u, 4099u}) {
      const std::size_t k = 512;  // 2-4 MB of bf16, 1-2 MB of int8: split on every thread count here
      INFO("m " << m << " n " << n);
      problem p = random_problem(m, n, k, g);
      std::vector<hat::bf16> b(p.w.size());
      for (std::size_t i = 0; i < b.size(); ++i) b[i] = hat::to_bf16(p.w[i]);
      std::vector<std::int8_t> q(p.w.size());
      std::vector<float> scale(n);
      for (std::size_t j = 0; j < n; ++j) {
        scale[j] = hat::int8_row_scale(p.w.data() + j * p.ldw, k);
        hat::quantize_int8(p.w.data() + j * p.ldw, k, scale[j], q.data() + j * p.ldw);
      }
      for (lowp_path path : paths) {
        INFO("path " << hat::detail::lowp_path_name(path));
        std::vector<float> want_b, want_q;
        for (int threads : {1, 2, 3}) {
          pool.set_threads(threads);
          std::vector<float> yb = p.y, yq = p.y;
          hat::detail::few_rows_gemm_bf16(path, m, n, k, 0.75f, p.x.data(), p.ldx, b.data(), p.ldw, 0.5f, yb.data(), p.ldy);
          hat::detail::few_rows_gemm_int8(path, m, n, k, 0.75f, p.x.data(), p.ldx, q.data(), p.ldw, scale.data(), 0.5f,
                                          yq.data(), p.ldy);
          if (threads == 1) {
            want_b = yb;
            want_q = yq;
          } else {
            CHECK(yb == want_b);
            CHECK(yq == want_q);
          }
        }
        pool.set_threads(1);
      }
    }
}
