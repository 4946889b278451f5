// SPDX-License-Identifier: MIT
// bf16 products on oneDNN (cpu_onednn.hpp) against the same products summed in double, every
// layout, strided operands and outputs; cpu::gemm's choice between oneDNN and the rounding path;
// the vector bf16 conversion against to_bf16 (its AVX-512 path where the CPU has one). The
// [onednn] cases run as their own ctest (train.onednn), reported skipped where oneDNN's library
// or header or the CPU's bf16 arithmetic is missing, failed where oneDNN is there and unusable.
#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/space/random.hpp>

namespace {

std::vector<float> random_values(std::size_t n, std::uint64_t seed) {
  hat::rng g(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(2 * g.uniform() - 1);
  return v;
}

float bf16_value(float x) { return hat::to_float(hat::to_bf16(x)); }

struct product {
  std::size_t m, n, k;
  hat::op ta, tb;
  std::size_t pad;  // extra columns of every row stride: an elastic slice of wider matrices
  float alpha, beta;
};

// The largest error of c against alpha op(a) op(b) + beta c0 over the bf16-rounded operands in
// double, relative to the sum of the terms' magnitudes; op(a) [m, k], op(b) [k, n].
double worst_error(const product& p, const std::vector<float>& a, std::size_t lda, const std::vector<float>& b,
                   std::size_t ldb, const std::vector<float>& c0, const std::vector<float>& c, std::size_t ldc) {
  double worst = 0;
  for (std::size_t i = 0; i < p.m; ++i)
    for (std::size_t j = 0; j < p.n; ++j) {
      double exact = 0, size = 0;
      for (std::size_t q = 0; q < p.k; ++q) {
        const float x = p.ta == hat::op::none ? a[i * lda + q] : a[q * lda + i];
        const float y = p.tb == hat::op::none ? b[q * ldb + j] : b[j * ldb + q];
        exact += static_cast<double>(bf16_value(x)) * bf16_value(y);
        size += std::abs(static_cast<double>(bf16_value(x)) * bf16_value(y));
      }
      exact = p.alpha * exact + p.beta * c0[i * ldc + j];
      size = std::abs(p.alpha) * size + std::abs(p.beta * c0[i * ldc + j]);
      worst = std::max(worst, std::abs(c[i * ldc + j] - exact) / size);
    }
  return worst;
}

// Runs `p` through `gemm(a, b, c)` on fresh operands and returns the output and its error.
template <class Gemm>
std::pair<std::vector<float>, double> run(const product& p, Gemm&& gemm) {
  const std::size_t ar = p.ta == hat::op::none ? p.m : p.k, ac = p.ta == hat::op::none ? p.k : p.m;
  const std::size_t br = p.tb == hat::op::none ? p.k : p.n, bc = p.tb == hat::op::none ? p.n : p.k;
  const std::size_t lda = ac + p.pad, ldb = bc + p.pad, ldc = p.n + p.pad;
  const auto a = random_values(ar * lda, 1 + p.m), b = random_values(br * ldb, 2 + p.n), c0 = random_values(p.m * ldc, 3);
  auto c = c0;
  gemm(hat::matrix_ref<const float>{a.data(), ar, ac, lda}, hat::matrix_ref<const float>{b.data(), br, bc, ldb},
       hat::matrix_ref<float>{c.data(), p.m, p.n, ldc});
  for (std::size_t i = 0; i < p.m; ++i)  // the padding between rows is never written
    for (std::size_t j = p.n; j < ldc; ++j) REQUIRE(c[i * ldc + j] == c0[i * ldc + j]);
  return {c, worst_error(p, a, lda, b, ldb, c0, c, ldc)};
}

std::vector<product> products() {
  std::vector<product> all;
  for (const hat::op ta : {hat::op::none, hat::op::transpose})
    for (const hat::op tb : {hat::op::none, hat::op::transpose}) {
      all.push_back({300, 96, 80, ta, tb, 0, 1.0f, 0.0f});     // dense, written in place
      all.push_back({257, 33, 129, ta, tb, 7, 0.125f, 0.0f});  // strided, odd sizes, a scale
      all.push_back({130, 70, 200, ta, tb, 0, 1.0f, 1.0f});    // summed into (weight gradients): oneDNN's sum
      all.push_back({200, 40, 90, ta, tb, 5, 2.0f, 1.0f});     // summed into a strided output
      all.push_back({90, 50, 77, ta, tb, 3, -0.5f, 0.25f});
    }
  // split over threads (2^26): written in place, summed into (the sum post-op), strided
  all.push_back({1024, 256, 256, hat::op::none, hat::op::transpose, 0, 1.0f, 0.0f});
  all.push_back({1024, 256, 256, hat::op::transpose, hat::op::none, 0, 1.0f, 1.0f});
  all.push_back({1024, 256, 256, hat::op::none, hat::op::transpose, 3, 0.5f, 1.0f});
  return all;
}

bool onednn_ready() { return hat::cpu{}.bf16_products_engine().rfind("oneDNN", 0) == 0; }

// Why oneDNN may be missing on a machine without a fault of hat's: no library file, no header at
// build time, a CPU without bf16 arithmetic, or switched off. Any other reason (a library that
// does not load, another version, a failing or slow primitive) is a failure.
bool onednn_absent_by_design(const std::string& engine) {
  for (const char* why : {"No such file or directory", "has no AVX512-BF16", "built without oneDNN", "built with oneDNN",
                          "HAT_ONEDNN="})
    if (engine.find(why) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("to_bf16_n, round_to_bf16_n: the vector paths give to_bf16's bits, special values included", "[train][bf16]") {
  std::vector<float> x = random_values(1000, 7);
  const float specials[] = {0.0f, -0.0f, 1.0f, -1.0f, std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::signaling_NaN(), std::numeric_limits<float>::max(),
                            std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::min(),
                            std::bit_cast<float>(0x3F808000u),   // a tie, even below: rounds down
                            std::bit_cast<float>(0x3F818000u),   // a tie, odd below: rounds up
                            std::bit_cast<float>(0x7F7FFFFFu),   // rounds past the largest bf16: infinity
                            std::bit_cast<float>(0xFF800001u)};  // a negative NaN with low payload only
  for (std::size_t i = 0; i < std::size(specials); ++i) x[3 * i + 1] = specials[i];
  x[50] = -std::numeric_limits<float>::denorm_min();  // a negative subnormal
  x[51] = std::bit_cast<float>(0x80400000u);           // a negative subnormal rounding to a bf16 one
  // and the specials again in 32-value blocks of their own with no subnormal, which AVX512-BF16's
  // instruction converts (a block holding one takes the integer path)
  std::size_t at = 512;
  for (const float v : specials)
    if (std::fpclassify(v) != FP_SUBNORMAL) x[at++] = v;
  for (const std::size_t n : {std::size_t{0}, std::size_t{5}, std::size_t{16}, std::size_t{1000}}) {
    std::vector<hat::bf16> got(n);
    hat::detail::to_bf16_n(x.data(), n, got.data());
    for (std::size_t i = 0; i < n; ++i) REQUIRE(got[i] == hat::to_bf16(x[i]));
#ifdef HAT_BF16_CONVERT_X86
    // to_bf16_n takes AVX512-BF16's instruction where the CPU has it: the integer path alone too
    if (hat::detail::bf16_convert_has_avx512()) {
      std::vector<hat::bf16> integer(n);
      hat::detail::to_bf16_avx512(x.data(), n, integer.data());
      for (std::size_t i = 0; i < n; ++i) REQUIRE(integer[i] == hat::to_bf16(x[i]));
    }
#endif
    std::vector<float> rounded(n);
    hat::detail::round_to_bf16_n(x.data(), n, rounded.data());
    for (std::size_t i = 0; i < n; ++i)
      REQUIRE(std::bit_cast<std::uint32_t>(rounded[i]) == std::bit_cast<std::uint32_t>(hat::to_float(hat::to_bf16(x[i]))));
  }
  CHECK(hat::to_bf16(std::bit_cast<float>(0x7F7FFFFFu)).bits == 0x7F80u);
  CHECK(hat::to_bf16(std::bit_cast<float>(0xFF800001u)).bits == 0xFFC0u);
}

TEST_CASE("bf16 products on oneDNN: every layout, strided, scaled and summed into, within fp32 sums of bf16 operands",
          "[train][bf16][onednn]") {
  const std::string engine = hat::cpu{}.bf16_products_engine();
  if (!onednn_ready() && onednn_absent_by_design(engine)) {
    WARN("oneDNN unavailable: " << engine);
    return;
  }
  INFO(engine);
  REQUIRE(onednn_ready());
  struct restore_threads {  // whatever a REQUIRE interrupts
    int n = hat::cpu::threads();
    ~restore_threads() { hat::cpu::set_threads(n); }
  } restore;
  hat::cpu rounding, onednn;
  rounding.set_training_precision(hat::precision::bf16);
  rounding.onednn = false;
  onednn.set_training_precision(hat::precision::bf16);
  for (const product& p : products()) {
    INFO("m " << p.m << " n " << p.n << " k " << p.k << " ta " << (p.ta == hat::op::transpose) << " tb "
              << (p.tb == hat::op::transpose) << " pad " << p.pad << " alpha " << p.alpha << " beta " << p.beta);
    REQUIRE(p.m * p.n * p.k >= hat::detail::onednn_min_work);
    // fp32 sums of k exact products (and one more addition for beta): within k + 2 ulps
    const double bound = static_cast<double>(p.k + 2) * std::ldexp(1.0, -24);
    for (const int threads : {2, 1}) {  // primitives made for two threads, run on one too
      INFO("threads " << threads);
      const auto [direct, direct_error] = run(p, [&](auto a, auto b, auto c) {
        REQUIRE(hat::detail::onednn_bf16_gemm(a, p.ta == hat::op::transpose, b, p.tb == hat::op::transpose, c, p.alpha,
                                              p.beta, threads));
      });
      CHECK(direct_error < bound);
      // the same split over the threads every time: the same bits again (exact resume)
      const auto [again, again_error] = run(p, [&](auto a, auto b, auto c) {
        REQUIRE(hat::detail::onednn_bf16_gemm(a, p.ta == hat::op::transpose, b, p.tb == hat::op::transpose, c, p.alpha,
                                              p.beta, threads));
      });
      CHECK(again == direct);
      // cpu::gemm on as many threads sends it to oneDNN: the same bits as the call above
      hat::cpu::set_threads(threads);
      const auto [through_cpu, cpu_error] = run(p, [&](auto a, auto b, auto c) { onednn.gemm(a, p.ta, b, p.tb, c, p.alpha, p.beta); });
      CHECK(through_cpu == direct);
      // the rounding path: the same products, other sums, within the same bound
      const auto [rounded, rounded_error] = run(p, [&](auto a, auto b, auto c) { rounding.gemm(a, p.ta, b, p.tb, c, p.alpha, p.beta); });
      CHECK(rounded_error < bound);
    }
    // beta 0 never reads the output: NaN there changes nothing
    if (p.beta == 0.0f) {
      const auto [clean, clean_error] = run(p, [&](auto a, auto b, auto c) { onednn.gemm(a, p.ta, b, p.tb, c, p.alpha, 0.0f); });
      const auto [over_nan, nan_error] = run(p, [&](auto a, auto b, auto c) {
        for (std::size_t i = 0; i < c.rows; ++i) std::fill(c.data + i * c.ld, c.data + i * c.ld + c.cols, std::nanf(""));
        onednn.gemm(a, p.ta, b, p.tb, c, p.alpha, 0.0f);
      });
      CHECK(over_nan == clean);
    }
  }
  hat::cpu::set_threads(1);
  // below onednn_min_work, cpu::gemm keeps the rounding path: the rounding path's bits
  const product small{20, 24, 56, hat::op::none, hat::op::transpose, 0, 1.0f, 0.0f};
  const auto [a, ea] = run(small, [&](auto x, auto y, auto c) { onednn.gemm(x, small.ta, y, small.tb, c, 1.0f, 0.0f); });
  const auto [b, eb] = run(small, [&](auto x, auto y, auto c) { rounding.gemm(x, small.ta, y, small.tb, c, 1.0f, 0.0f); });
  CHECK(a == b);
}

TEST_CASE("bf16 products engine: named; fp32 products stay fp32 whatever the flag says", "[train][bf16]") {
  const std::string engine = hat::cpu{}.bf16_products_engine();
  INFO(engine);
  CHECK((engine.rfind("oneDNN", 0) == 0 || engine.rfind("operands rounded to bf16", 0) == 0));
  hat::cpu off;
  off.onednn = false;
  CHECK(off.bf16_products_engine() == "operands rounded to bf16, OpenBLAS sgemm (cpu::onednn = false)");
  hat::cpu fp32;  // onednn is true by default: it concerns bf16 products only
  const product p{300, 96, 80, hat::op::none, hat::op::transpose, 0, 1.0f, 0.0f};
  const auto [c, error] = run(p, [&](auto a, auto b, auto out) { fp32.gemm(a, p.ta, b, p.tb, out, 1.0f, 0.0f); });
  CHECK(error > 1e-4);  // fp32 operands: far from the bf16-rounded product
}

TEST_CASE("pinned operand: products reading it share one bf16 conversion and give the same bits", "[train][bf16][onednn]") {
  const std::string engine = hat::cpu{}.bf16_products_engine();
  if (!onednn_ready() && onednn_absent_by_design(engine)) {
    WARN("oneDNN unavailable: " << engine);
    return;
  }
  REQUIRE(onednn_ready());
  hat::cpu be;
  be.set_training_precision(hat::precision::bf16);
  const std::size_t m = 96, n = 160, k = 128, ld = n + 3;  // dy [m, n] a strided slice, W [n, k], x [m, k]
  std::vector<float> dy = random_values(m * ld, 1), w = random_values(n * k, 2), x = random_values(m * k, 3);
  const hat::matrix_ref<const float> dyv{dy.data(), m, n, ld}, wv{w.data(), n, k, k}, xv{x.data(), m, k, k};
  REQUIRE(m * n * k >= hat::detail::onednn_min_work);
  // dx = dy W and dW = dy^T x: the input's and the weight's gradients, both reading dy
  const auto products = [&] {
    std::vector<float> dx(m * k), dw(n * k);
    be.gemm(dyv, hat::op::none, wv, hat::op::none, hat::dense(dx.data(), m, k), 1.0f, 0.0f);
    be.gemm(dyv, hat::op::transpose, xv, hat::op::none, hat::dense(dw.data(), n, k), 1.0f, 0.0f);
    return std::pair{dx, dw};
  };
  const auto unpinned = products();
  {
    [[maybe_unused]] const auto pin = hat::pin_operand(be, dyv);
    CHECK(products() == unpinned);
    [[maybe_unused]] const auto again = hat::pin_operand(be, dyv);  // the same view again: shares the first pin
    [[maybe_unused]] const auto other = hat::pin_operand(be, xv), third = hat::pin_operand(be, wv);  // the third finds no slot
    CHECK(products() == unpinned);
    // Converted once: values changed under the pin (which its callers promise never to do) are
    // not seen until it ends.
    const float was = dy[0];
    dy[0] = was + 64.0f;
    CHECK(products() == unpinned);
    dy[0] = was;
  }
  dy[0] += 64.0f;  // the pins have ended: a change is seen
  const auto changed = products();
  CHECK(changed.first != unpinned.first);
  CHECK(changed.second != unpinned.second);
  dy[0] -= 64.0f;
  CHECK(products() == unpinned);
  // fp32 products and the rounding path ignore pins
  hat::cpu fp32;
  std::vector<float> f0(m * k), f1(m * k);
  fp32.gemm(dyv, hat::op::none, wv, hat::op::none, hat::dense(f0.data(), m, k), 1.0f, 0.0f);
  {
    [[maybe_unused]] const auto pin = hat::pin_operand(fp32, dyv);
    fp32.gemm(dyv, hat::op::none, wv, hat::op::none, hat::dense(f1.data(), m, k), 1.0f, 0.0f);
    dy[5] += 64.0f;
    fp32.gemm(dyv, hat::op::none, wv, hat::op::none, hat::dense(f1.data(), m, k), 1.0f, 0.0f);
    dy[5] -= 64.0f;
  }
  CHECK(f1 != f0);
  hat::cpu rounding = be;
  rounding.onednn = false;
  std::vector<float> r0(m * k), r1(m * k);
  rounding.gemm(dyv, hat::op::none, wv, hat::op::none, hat::dense(r0.data(), m, k), 1.0f, 0.0f);
  {
    [[maybe_unused]] const auto pin = hat::pin_operand(rounding, dyv);
    dy[5] += 64.0f;
    rounding.gemm(dyv, hat::op::none, wv, hat::op::none, hat::dense(r1.data(), m, k), 1.0f, 0.0f);
    dy[5] -= 64.0f;
  }
  CHECK(r1 != r0);
}
