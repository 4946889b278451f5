// SPDX-License-Identifier: MIT
// arch<Space>: access, validation, sampling, mutation, crossover, identity.
#include <catch2/catch.hpp>

#include <map>
#include <sstream>
#include <unordered_set>

#include <hat/space/hat_spaces.hpp>
#include "test_spaces.hpp"

using S = hat::hat_wmt_space;
using A = hat::arch<S>;

TEST_CASE("arch: default is the largest architecture; smallest takes every minimum", "[space][arch]") {
  const A big;
  CHECK(big == A::largest());
  CHECK(big.get<"encoder_embed_dim">() == 640);
  CHECK(big.get<"decoder_layer_num">() == 6);
  CHECK(big.get<"encoder_ffn_embed_dim">(5) == 3072);
  CHECK(big.get<"qkv_dim">() == 512);
  const auto small = A::smallest();
  CHECK(small.get<"decoder_layer_num">() == 1);
  CHECK(small.get<"decoder_arbitrary_ende_attn">(0) == -1);
  CHECK(small.active_layers<"decoder_ffn_embed_dim">() == 1);
  CHECK(small.active_layers<"encoder_ffn_embed_dim">() == 6);
}

TEST_CASE("arch: set/get by name and by index agree; layer index is checked", "[space][arch]") {
  A a;
  a.set<"decoder_layer_num">(3);
  a.set<"decoder_ffn_embed_dim">(2, 1024);
  CHECK(a.get<"decoder_ffn_embed_dim">(2) == 1024);
  CHECK(a.value(S::index_of<"decoder_ffn_embed_dim">(), 2) == 1024);
  CHECK(a.layers<"decoder_ffn_embed_dim">().size() == 6);
  CHECK(a.active_layers<"decoder_ffn_embed_dim">() == 3);
  CHECK_THROWS_AS(a.get<"decoder_ffn_embed_dim">(6), std::logic_error);
}

TEST_CASE("arch: validate names the dimension, the layer and the bad value", "[space][arch]") {
  A a;
  a.set<"encoder_ffn_embed_dim">(3, 999);
  CHECK_FALSE(a.valid());
  CHECK_THROWS_WITH(a.validate(), Catch::Contains("'encoder_ffn_embed_dim' layer 3 has value 999") &&
                                      Catch::Contains("{3072, 2048, 1024}"));
  A b;
  b.set<"decoder_embed_dim">(100);
  CHECK_THROWS_WITH(b.validate(), Catch::Contains("'decoder_embed_dim' has value 100"));
  const std::vector<int> short_genes(39, 640);
  CHECK_THROWS_WITH(A::from_genes(short_genes), Catch::Contains("expected 40 genes, got 39"));
}

TEST_CASE("arch: sampling is seeded, valid and uniform per gene", "[space][arch]") {
  hat::rng g1(7), g2(7), g3(8);
  const auto a = A::sample(g1);
  CHECK(a == A::sample(g2));
  CHECK(a.valid());
  CHECK_FALSE(a == A::sample(g3));

  // Each of the 3 FFN choices of one gene should appear ~1/3 of the time.
  hat::rng g(42);
  std::map<int, int> counts;
  const int n = 30000;
  for (int i = 0; i < n; ++i) ++counts[A::sample(g).get<"decoder_ffn_embed_dim">(4)];
  REQUIRE(counts.size() == 3);
  for (auto [value, c] : counts) CHECK(std::abs(c - n / 3) < 600);  // > 7 sigma away is a bug
}

TEST_CASE("arch: mutation redraws each gene with the given probability", "[space][arch]") {
  hat::rng g(3);
  const A parent = A::smallest();
  CHECK(parent.mutated(g, 0.0) == parent);
  // With p = 0.3 a gene changes with probability 0.3 * (k-1)/k for k choices.
  int changed = 0, trials = 0;
  for (int i = 0; i < 5000; ++i) {
    const auto child = parent.mutated(g, 0.3);
    CHECK(child.valid());
    for (std::size_t l = 0; l < 6; ++l, ++trials)
      changed += child.get<"encoder_ffn_embed_dim">(l) != parent.get<"encoder_ffn_embed_dim">(l);
  }
  CHECK(static_cast<double>(changed) / trials == Approx(0.3 * 2.0 / 3.0).margin(0.01));
}

TEST_CASE("arch: uniform crossover takes every gene from one parent, about half from each", "[space][arch]") {
  hat::rng g(5);
  const A a = A::largest(), b = A::smallest();
  int from_a = 0, total = 0;
  for (int i = 0; i < 2000; ++i) {
    const auto c = A::crossover(a, b, g);
    for (std::size_t k = 0; k < A::gene_count; ++k) {
      REQUIRE((c.gene(k) == a.gene(k) || c.gene(k) == b.gene(k)));
      if (a.gene(k) != b.gene(k)) {
        from_a += c.gene(k) == a.gene(k);
        ++total;
      }
    }
  }
  CHECK(static_cast<double>(from_a) / total == Approx(0.5).margin(0.01));
}

TEST_CASE("arch: canonical() ignores inactive layers; hash follows equality", "[space][arch]") {
  A a, b;
  a.set<"decoder_layer_num">(2);
  b.set<"decoder_layer_num">(2);
  b.set<"decoder_ffn_embed_dim">(4, 1024);  // layer 4 is inactive with 2 decoder layers
  CHECK_FALSE(a == b);
  CHECK(a.same_network(b));
  CHECK(a.canonical() == b.canonical());
  CHECK(std::hash<A>{}(a.canonical()) == std::hash<A>{}(b.canonical()));
  b.set<"decoder_ffn_embed_dim">(1, 1024);  // active
  CHECK_FALSE(a.same_network(b));

  hat::rng g(11);
  std::unordered_set<A> set;
  for (int i = 0; i < 1000; ++i) set.insert(A::sample(g));
  CHECK(set.size() == 1000);  // collisions among 1000 of 2.4e15 genomes would mean a bad hash or rng
}

TEST_CASE("arch: printing shows active layers only", "[space][arch]") {
  A a = A::smallest();
  a.set<"decoder_layer_num">(2);
  std::ostringstream os;
  os << a;
  CHECK(os.str() == a.to_string());
  CHECK_THAT(a.to_string(), Catch::Contains("decoder_ffn_embed_dim: [1024, 1024]") &&
                                Catch::Contains("encoder_embed_dim: 512") &&
                                Catch::Contains("decoder_arbitrary_ende_attn: [-1, -1]"));
  CHECK_THAT(a.to_string(), !Catch::Contains("qkv_dim"));
}

TEST_CASE("rng: same seed same stream; below() is unbiased and in range; state round-trips", "[space][rng]") {
  hat::rng a(123), b(123);
  for (int i = 0; i < 100; ++i) REQUIRE(a() == b());
  const auto st = a.state();
  const auto next = a();
  b.set_state(st);
  CHECK(b() == next);
  hat::rng c(124);
  CHECK(c() != a());

  hat::rng g(9);
  std::vector<int> counts(7, 0);
  for (int i = 0; i < 70000; ++i) {
    const auto v = g.below(7);
    REQUIRE(v < 7);
    ++counts[v];
  }
  for (int c7 : counts) CHECK(std::abs(c7 - 10000) < 500);
  for (int i = 0; i < 1000; ++i) {
    const double u = g.uniform();
    REQUIRE((u >= 0.0 && u < 1.0));
  }
}
