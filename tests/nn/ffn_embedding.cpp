// SPDX-License-Identifier: MIT
// elastic_ffn and elastic_embedding against HAT's slicing rules in double; unread weights poisoned with NaN.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/nn/elastic_ffn.hpp>
#include <hat/nn/embedding.hpp>
#include <hat/space/random.hpp>
#include <hat/tensor/arena.hpp>

TEST_CASE("elastic_ffn: fc2(relu(fc1(x))) on the corner blocks", "[nn][cpu][ffn]") {
  using ffn_t = hat::elastic_ffn<16, 40, hat::cpu>;
  hat::cpu be;
  hat::rng g(31);
  hat::arena<hat::cpu> arena(ffn_t::param_count);
  const ffn_t ffn(arena.take(ffn_t::param_count));
  std::vector<double> ref(ffn_t::param_count);
  for (auto& v : ref) v = g.uniform() - 0.5;
  const float poison = std::numeric_limits<float>::quiet_NaN();
  hat::ffn_workspace<hat::cpu> ws;
  for (auto [d, f] : {std::pair<std::size_t, std::size_t>{16, 40}, {12, 24}, {5, 1}}) {
    INFO("d " << d << " f " << f);
    float* p = arena.data();
    const std::size_t fc2 = 40 * 16 + 40;  // fc2's offset: fc1 W [40, 16] + b [40]
    for (std::size_t i = 0; i < ffn_t::param_count; ++i) {
      bool used;
      if (i < 40 * 16) used = i / 16 < f && i % 16 < d;             // fc1 W[:f, :d]
      else if (i < fc2) used = i - 40 * 16 < f;                     // fc1 b[:f]
      else if (i < fc2 + 16 * 40) used = (i - fc2) / 40 < d && (i - fc2) % 40 < f;  // fc2 W[:d, :f]
      else used = i - fc2 - 16 * 40 < d;                            // fc2 b[:d]
      p[i] = used ? static_cast<float>(ref[i]) : poison;
    }
    const std::size_t n = 4;
    std::vector<float> x(n * d), y(n * d);
    for (auto& v : x) v = static_cast<float>(2 * g.uniform() - 1);
    ffn.forward(be, hat::dense(static_cast<const float*>(x.data()), n, d), f, hat::dense(y.data(), n, d), ws);
    for (std::size_t r = 0; r < n; ++r)
      for (std::size_t o = 0; o < d; ++o) {
        double acc = ref[fc2 + 16 * 40 + o];
        for (std::size_t h = 0; h < f; ++h) {
          double hv = ref[40 * 16 + h];
          for (std::size_t i = 0; i < d; ++i) hv += x[r * d + i] * ref[h * 16 + i];
          acc += std::max(hv, 0.0) * ref[fc2 + o * 40 + h];
        }
        REQUIRE(std::isfinite(y[r * d + o]));
        CHECK(y[r * d + o] == Approx(acc).margin(1e-5));
      }
  }
  std::vector<float> x(16), y(16);
  CHECK_THROWS_AS(ffn.forward(be, hat::dense(static_cast<const float*>(x.data()), 1, 16), 41, hat::dense(y.data(), 1, 16), ws),
                  std::logic_error);
}

TEST_CASE("sinusoid: fairseq's layout at the super width, then cut", "[nn][embedding]") {
  // 640 super channels: sin in [0, 320), cos in [320, 640), freq_i = exp(-i ln(1e4) / 319).
  CHECK(hat::sinusoid(2, 0, 640) == Approx(std::sin(2.0)));
  CHECK(hat::sinusoid(2, 319, 640) == Approx(std::sin(2.0 / 10000.0)));
  CHECK(hat::sinusoid(2, 320, 640) == Approx(std::cos(2.0)));
  CHECK(hat::sinusoid(7, 330, 640) == Approx(std::cos(7.0 * std::exp(-10 * std::log(1e4) / 319))));
  // A 512-wide SubTransformer reads channel 400 of the 640-wide sinusoid (a cosine), which
  // differs from channel 400 of a fresh 512-wide one (also a cosine, but of another frequency).
  CHECK(hat::sinusoid(5, 400, 640) != Approx(hat::sinusoid(5, 400, 512)));
}

TEST_CASE("elastic_embedding: sqrt(d) * E[t, :d] + position, shared table at two widths", "[nn][cpu][embedding]") {
  constexpr std::size_t max_dim = 16, vocab = 12;
  hat::cpu be;
  hat::rng g(32);
  hat::arena<hat::cpu> arena(vocab * max_dim);
  for (std::size_t i = 0; i < arena.size(); ++i) arena.data()[i] = static_cast<float>(g.uniform() - 0.5);
  const hat::elastic_embedding<max_dim, 64, hat::cpu> emb(be, arena.take(vocab * max_dim), vocab);
  const std::vector<int> tokens{2, 7, 4, 11};
  for (std::size_t d : {16u, 10u}) {  // encoder at 16, decoder at 10: one table, two widths
    std::vector<float> y(tokens.size() * d);
    emb.forward(be, tokens, 0, hat::dense(y.data(), tokens.size(), d));
    for (std::size_t i = 0; i < tokens.size(); ++i)
      for (std::size_t c = 0; c < d; ++c) {
        const double ref = std::sqrt(double(d)) * arena.data()[tokens[i] * max_dim + c] + hat::sinusoid(i + 2, c, max_dim);
        CHECK(y[i * d + c] == Approx(ref).margin(1e-5));
      }
    // An incremental step embeds token 3 of the sentence alone at position index 3.
    std::vector<float> step(d);
    emb.forward(be, std::span<const int>(tokens).subspan(3, 1), 3, hat::dense(step.data(), 1, d));
    for (std::size_t c = 0; c < d; ++c) CHECK(step[c] == y[3 * d + c]);
  }
  const auto proj = emb.weights().panel(0, 0, 12, 10);  // the output projection's view: no copy
  CHECK(proj.data == arena.data());
  CHECK(proj.ld == max_dim);
  std::vector<float> y(16);
  const std::vector<int> pad{1}, big{12};
  CHECK_THROWS_AS(emb.forward(be, pad, 0, hat::dense(y.data(), 1, 16)), std::logic_error);
  CHECK_THROWS_AS(emb.forward(be, big, 0, hat::dense(y.data(), 1, 16)), std::logic_error);
}
