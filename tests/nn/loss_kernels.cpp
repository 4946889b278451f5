// SPDX-License-Identifier: MIT
// The CPU backend's fast paths against their references: the vectorisable exp, and the fused
// label-smoothed loss + gradient against the separate loss and backward, and the vector dropout
// against dropout_keeps.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/space/random.hpp>

TEST_CASE("exp_nonpositive: relative error below 2e-7 on [-87, 0]", "[nn][cpu][loss]") {
  double worst = 0;
  for (int i = 0; i <= 870000; ++i) {
    const float x = -static_cast<float>(i) * 1e-4f;
    const double want = std::exp(static_cast<double>(x));
    worst = std::max(worst, std::abs(hat::detail::exp_nonpositive(x) - want) / want);
  }
  CHECK(worst < 2e-7);
  CHECK(hat::detail::exp_nonpositive(0.0f) == 1.0f);
  CHECK(hat::detail::exp_nonpositive(-200.0f) >= 0.0f);
  CHECK(hat::detail::exp_nonpositive(-200.0f) < 1e-37f);
  // The vector path (AVX-512 where the CPU has it), tails included.
  std::vector<float> v(1003);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = 3.0f - static_cast<float>(i) * 0.085f;  // shift 3: arguments in [-86, 0]
  std::vector<float> e = v;
  hat::detail::exp_shift(e.data(), e.size(), 3.0f);
  for (std::size_t i = 0; i < v.size(); ++i) {
    const double want = std::exp(static_cast<double>(v[i]) - 3.0);
    REQUIRE(std::abs(e[i] - want) <= 2e-7 * want);
  }
}

TEST_CASE("label_smoothed_loss_gradient: the loss and the backward in one pass", "[nn][cpu][loss]") {
  hat::cpu be;
  hat::rng g(4);
  const std::size_t n = 7, vocab = 1001;
  std::vector<float> logits(n * vocab);
  for (auto& x : logits) x = static_cast<float>(8 * (g.uniform() - 0.5));
  const std::vector<int> targets{5, 1, 1000, 3, 1, 0, 17};  // 1 = ignored (padding)
  double loss = 0, nll = 0, loss2 = 0, nll2 = 0;
  be.label_smoothed_loss(hat::matrix_ref<const float>(hat::dense(logits.data(), n, vocab)), targets.data(), 0.1, 1, loss, nll);
  std::vector<float> grad(n * vocab), fused = logits;
  be.label_smoothed_loss_backward(hat::matrix_ref<const float>(hat::dense(logits.data(), n, vocab)), targets.data(), 0.1, 1,
                                  0.5f, hat::dense(grad.data(), n, vocab));
  be.label_smoothed_loss_gradient(hat::dense(fused.data(), n, vocab), targets.data(), 0.1, 1, 0.5f, loss2, nll2);
  CHECK(loss2 == Approx(loss).epsilon(1e-6));
  CHECK(nll2 == Approx(nll).epsilon(1e-6));
  for (std::size_t i = 0; i < grad.size(); ++i) REQUIRE(fused[i] == Approx(grad[i]).margin(1e-8).epsilon(1e-5));
  for (std::size_t j = 0; j < vocab; ++j) REQUIRE(fused[1 * vocab + j] == 0.0f);  // ignored row
  // In double (what the finite-difference tests use) the two agree to round-off.
  std::vector<double> ld(logits.begin(), logits.end()), gd(n * vocab), fd = ld;
  be.label_smoothed_loss_backward(hat::matrix_ref<const double>(hat::dense(ld.data(), n, vocab)), targets.data(), 0.1, 1, 1.0,
                                  hat::dense(gd.data(), n, vocab));
  be.label_smoothed_loss_gradient(hat::dense(fd.data(), n, vocab), targets.data(), 0.1, 1, 1.0, loss2, nll2);
  for (std::size_t i = 0; i < gd.size(); ++i) REQUIRE(fd[i] == Approx(gd[i]).margin(1e-14).epsilon(1e-12));
}

TEST_CASE("dropout_n: the vector path takes dropout_keeps' decisions, element by element", "[nn][cpu][dropout]") {
#ifdef HAT_FEW_ROWS_X86
  INFO("AVX-512 dropout on this CPU: " << hat::detail::dropout_has_avx512());
#endif
  hat::rng g(11);
  std::vector<float> x(1003);
  for (auto& v : x) v = static_cast<float>(g.uniform() - 0.5);
  x[3] = std::numeric_limits<float>::quiet_NaN();
  x[20] = std::numeric_limits<float>::infinity();
  x[21] = -0.0f;
  // Rates whose p 2^24 is and is not an integer, the smallest positive float, the largest below 1.
  const float rates[] = {0.1f, 0.3f, 0.5f, 0.25f, 0.9f, std::numeric_limits<float>::denorm_min(), std::nextafter(1.0f, 0.0f)};
  const std::uint64_t firsts[] = {0, 7, 1u << 20, ~std::uint64_t{0} - 9};  // the last wraps the counter past 2^64
  for (const float p : rates)
    for (const std::uint64_t first : firsts)
      for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{15}, std::size_t{16}, std::size_t{17}, x.size()}) {
        INFO("p " << p << " first " << first << " n " << n);
        const float scale = 1.0f / (1.0f - p);
        std::vector<float> fast(n, 42.0f), in_place(x.begin(), x.begin() + static_cast<std::ptrdiff_t>(n));
        hat::detail::dropout_n(x.data(), fast.data(), n, 0x1234, first, p, scale);
        hat::detail::dropout_n(in_place.data(), in_place.data(), n, 0x1234, first, p, scale);
        std::size_t kept = 0;
        for (std::size_t j = 0; j < n; ++j) {
          const bool keep = hat::dropout_keeps(0x1234, first + j, p);
          kept += keep;
          const float want = keep ? x[j] * scale : 0.0f;
          REQUIRE(std::memcmp(&fast[j], &want, sizeof want) == 0);
          REQUIRE(std::memcmp(&in_place[j], &want, sizeof want) == 0);
        }
        if (n == x.size() && p == 0.5f) CHECK(std::abs(static_cast<double>(kept) / static_cast<double>(n) - 0.5) < 0.05);
      }
  // The backend's dropout on a strided view: row r's element j is element r cols + j of the mask.
  hat::cpu be;
  const std::size_t rows = 5, cols = 37, ld = 40;
  std::vector<float> m(rows * ld);
  for (auto& v : m) v = static_cast<float>(g.uniform());
  const std::vector<float> before = m;
  be.dropout(hat::matrix_ref<float>{m.data(), rows, cols, ld}, 0.3f, 99);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < ld; ++j) {
      const float was = before[r * ld + j];
      const float want = j >= cols ? was : hat::dropout_keeps(99, r * cols + j, 0.3f) ? was * static_cast<float>(1.0 / (1.0 - static_cast<double>(0.3f))) : 0.0f;
      REQUIRE(m[r * ld + j] == want);
    }
}

namespace {
// mix64's inverse (each xorshift and odd multiply undone), to build an index whose draw lands
// exactly on a rate's threshold.
std::uint64_t unxorshift(std::uint64_t z, int s) {
  std::uint64_t x = z;
  for (int i = 0; i < 64 / s + 1; ++i) x = z ^ (x >> s);
  return x;
}
std::uint64_t inverse(std::uint64_t c) {  // c odd: Newton's iteration doubles the correct bits
  std::uint64_t x = c;
  for (int i = 0; i < 6; ++i) x *= 2 - c * x;
  return x;
}
std::uint64_t unmix64(std::uint64_t z) {
  z = unxorshift(z, 31) * inverse(0x94D049BB133111EBull);
  z = unxorshift(z, 27) * inverse(0xBF58476D1CE4E5B9ull);
  return unxorshift(z, 30);
}
}  // namespace

TEST_CASE("dropout_n: draws exactly at a rate's threshold, in the vector body", "[nn][cpu][dropout]") {
  const std::uint64_t key = 0xABCDEF, step = 0x9E3779B97F4A7C15ull;
  REQUIRE(hat::mix64(unmix64(12345)) == 12345);
  for (const float p : {0.5f, 0.1f, 0.3f, 0.25f}) {
    const auto threshold = static_cast<std::uint64_t>(std::ceil(static_cast<double>(p) * 16777216.0));
    for (const std::uint64_t draw : {threshold - 1, threshold}) {  // dropped, then kept
      // the index whose hash's top 24 bits are `draw`: key + index step = unmix64(draw << 40)
      const std::uint64_t index = (unmix64(draw << 40) - key) * inverse(step);
      REQUIRE(hat::dropout_keeps(key, index, p) == (draw >= threshold));
      std::vector<float> x(64, 1.0f), y(64);
      hat::detail::dropout_n(x.data(), y.data(), x.size(), key, index - 21, p, 2.0f);  // element 21: a vector lane
      INFO("p " << p << " draw " << draw);
      CHECK(y[21] == (draw >= threshold ? 2.0f : 0.0f));
    }
  }
}

TEST_CASE("softmax_forward: the vector exp with padding and causal masks, against the double loop", "[nn][cpu][attention]") {
  hat::cpu be;
  hat::rng g(21);
  const std::size_t tq = 7, tk = 41;  // rows longer than 16: the AVX-512 body and its tail
  std::vector<unsigned char> pad(tk, 0);
  for (const std::size_t j : {2u, 17u, 18u, 40u}) pad[j] = 1;
  for (const bool causal : {false, true})
    for (const unsigned char* padding : {static_cast<const unsigned char*>(nullptr), static_cast<const unsigned char*>(pad.data())}) {
      std::vector<float> f(tq * tk);
      for (auto& v : f) v = static_cast<float>(12 * (g.uniform() - 0.5));
      f[1 * tk + 5] = std::numeric_limits<float>::quiet_NaN();  // a NaN score: the loop's result, as before
      for (std::size_t j = 0; j < tk; ++j) f[3 * tk + j] = -std::numeric_limits<float>::infinity();  // every score -inf
      std::vector<double> d(f.begin(), f.end());
      be.softmax_forward(hat::dense(f.data(), tq, tk), causal, tk - tq, padding);
      be.softmax_forward(hat::dense(d.data(), tq, tk), causal, tk - tq, padding);
      for (std::size_t i = 0; i < tq; ++i)
        for (std::size_t j = 0; j < tk; ++j) {
          INFO("causal " << causal << " padding " << (padding != nullptr) << " row " << i << " key " << j);
          const bool masked = (padding && padding[j]) || (causal && j > i + tk - tq);
          if (masked) REQUIRE(f[i * tk + j] == 0.0f);
          if (std::isnan(d[i * tk + j])) {
            REQUIRE(std::isnan(f[i * tk + j]));
          } else {
            REQUIRE(std::abs(f[i * tk + j] - d[i * tk + j]) <= 1e-6);
          }
        }
    }
}
