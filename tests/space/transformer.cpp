// SPDX-License-Identifier: MIT
// Transformer semantics: validation rules, representative configs, tasks.
#include <catch2/catch.hpp>

#include <hat/space/hat_spaces.hpp>
#include <hat/space/transformer.hpp>
#include <hat/space/uniform.hpp>

#include <set>
#include <string>
#include "test_spaces.hpp"

using hat_test::tiny_transformer;

static_assert(hat::transformer_space<hat::hat_wmt_space>);
static_assert(hat::transformer_space<hat::hat_latency_space>);
static_assert(hat::transformer_space<tiny_transformer>);
static_assert(!hat::transformer_space<hat_test::cnn_space>);

TEST_CASE("transformer: arbitrary attention maps -1/1/2 to 1/2/3 encoder layers", "[space][transformer]") {
  CHECK(hat::attended_encoder_layers(-1) == 1);
  CHECK(hat::attended_encoder_layers(1) == 2);
  CHECK(hat::attended_encoder_layers(2) == 3);
}

TEST_CASE("transformer: a decoder layer cannot attend to more encoder layers than exist", "[space][transformer]") {
  auto a = hat::arch<tiny_transformer>::largest();  // 2 encoder layers, 3 decoder layers
  CHECK_THROWS_AS(hat::validate_transformer(a), hat::invalid_arch);  // largest attends to the last 3
  for (std::size_t l = 0; l < 3; ++l) a.set<"decoder_arbitrary_ende_attn">(l, -1);
  a.set<"decoder_arbitrary_ende_attn">(0, 1);  // last two: fine
  CHECK_NOTHROW(hat::validate_transformer(a));
  a.set<"decoder_arbitrary_ende_attn">(1, 2);  // last three of two
  CHECK_THROWS_WITH(hat::validate_transformer(a), Catch::Contains("decoder layer 1 attends to the last 3") &&
                                                      Catch::Contains("encoder_layer_num is 2"));
  a.set<"decoder_layer_num">(1);  // layer 1 inactive now: its gene does not matter
  CHECK_NOTHROW(hat::validate_transformer(a));
  a.set<"encoder_ffn_embed_dim">(0, 5);
  CHECK_THROWS_AS(hat::validate_transformer(a), hat::invalid_arch);
}

TEST_CASE("transformer: HAT's representative configs use arbitrary attention 1", "[space][transformer]") {
  using S = hat::hat_wmt_space;
  const auto big = hat::represent_largest<S>();
  const auto small = hat::represent_smallest<S>();
  CHECK(big.get<"encoder_embed_dim">() == 640);
  CHECK(big.get<"decoder_layer_num">() == 6);
  CHECK(small.get<"decoder_ffn_embed_dim">(0) == 1024);
  CHECK(small.get<"decoder_layer_num">() == 1);
  for (std::size_t l = 0; l < 6; ++l) {
    CHECK(big.get<"decoder_arbitrary_ende_attn">(l) == 1);
    CHECK(small.get<"decoder_arbitrary_ende_attn">(l) == 1);
  }
}

TEST_CASE("transformer: HAT tasks know their space and dummy sentence length", "[space][transformer]") {
  CHECK(hat::find_task("wmt14.en-de")->source_length == 30);
  CHECK(hat::find_task("iwslt14.de-en")->source_length == 23);
  CHECK_FALSE(hat::find_task("iwslt14.de-en")->shared_embeddings);
  CHECK_FALSE(hat::find_task("wmt16.ro-en").has_value());
  const int ffn = hat::with_task_space(*hat::find_task("iwslt14.de-en"),
                                       []<class Sp>() { return Sp::template max<"encoder_ffn_embed_dim">(); });
  CHECK(ffn == 2048);
}

TEST_CASE("uniform archs: one width, FFN and head count everywhere, last-layer attention, every depth", "[space][transformer]") {
  const auto all = hat::uniform_archs<hat::hat_wmt_space>();
  // WMT: embed 640/512 (both sides), FFN 3072/2048/1024, heads 8/4, encoder 6, decoder 1-6
  CHECK(all.size() == 2 * 3 * 2 * 1 * 6);
  std::set<std::string> seen;
  for (const auto& a : all) {
    CHECK_NOTHROW(hat::validate_transformer(a));
    CHECK(a.get<"encoder_embed_dim">() == a.get<"decoder_embed_dim">());
    const int f = a.get<"encoder_ffn_embed_dim">(0), h = a.get<"encoder_self_attention_heads">(0);
    for (std::size_t l = 0; l < 6; ++l) {
      CHECK(a.get<"encoder_ffn_embed_dim">(l) == f);
      CHECK(a.get<"decoder_ffn_embed_dim">(l) == f);
      CHECK(a.get<"decoder_self_attention_heads">(l) == h);
      CHECK(a.get<"decoder_ende_attention_heads">(l) == h);
      CHECK(a.get<"decoder_arbitrary_ende_attn">(l) == -1);
    }
    seen.insert(a.canonical().to_string());
  }
  CHECK(seen.size() == all.size());  // all different networks
  CHECK(all.front().get<"encoder_embed_dim">() == 640);  // widest and deepest first
  CHECK(all.front().get<"encoder_ffn_embed_dim">(0) == 3072);
  CHECK(all.front().get<"encoder_self_attention_heads">(0) == 8);
  CHECK(all.front().get<"decoder_layer_num">() == 6);
  CHECK(all.back().get<"encoder_embed_dim">() == 512);
  CHECK(all.back().get<"decoder_layer_num">() == 1);
}

TEST_CASE("uniform pick: the slowest predicted under the limit; the fastest when none fits", "[space][transformer]") {
  using S = hat::hat_wmt_space;
  // A predictor that counts width x depth: a stand-in for latency with a known order.
  const auto cost = [](const hat::arch<S>& a) {
    return a.get<"encoder_embed_dim">() / 64.0 * (a.get<"decoder_layer_num">() + 1) +
           a.get<"encoder_ffn_embed_dim">(0) / 1024.0;
  };
  const auto p = hat::pick_uniform<S>(cost, 40.0);
  CHECK(p.meets_limit);
  CHECK(p.predicted_ms <= 40.0);
  for (const auto& a : hat::uniform_archs<S>())
    if (cost(a) <= 40.0) CHECK(cost(a) <= p.predicted_ms);
  CHECK(p.predicted_ms == Approx(cost(p.network)));
  const auto none = hat::pick_uniform<S>(cost, 1.0);
  CHECK_FALSE(none.meets_limit);
  CHECK(none.network.get<"decoder_layer_num">() == 1);
  CHECK(none.network.get<"encoder_embed_dim">() == 512);
  CHECK(none.network.get<"encoder_ffn_embed_dim">(0) == 1024);
}
