// SPDX-License-Identifier: MIT
// Encodings: HAT's 10 predictor features, HAT's gene list, generic gene features.
#include <catch2/catch.hpp>

#include <hat/space/encode.hpp>
#include <hat/space/hat_spaces.hpp>
#include "test_spaces.hpp"

using S = hat::hat_wmt_space;

using hat_test::rpi_3_5s;

TEST_CASE("encode: HAT's 10 features average active layers only", "[space][encode]") {
  const auto f = hat::hat_features(rpi_3_5s());
  CHECK(f[0] == 512);
  CHECK(f[1] == 6);
  CHECK(f[2] == Approx((1024 + 3072 + 3072 + 2048 + 2048 + 2048) / 6.0));
  CHECK(f[3] == Approx(32.0 / 6.0));
  CHECK(f[4] == 512);
  CHECK(f[5] == 1);
  CHECK(f[6] == 3072);
  CHECK(f[7] == 8);
  CHECK(f[8] == 8);
  CHECK(f[9] == 1);  // -1 -> one encoder layer

  auto b = rpi_3_5s();
  b.set<"decoder_layer_num">(3);
  b.set<"decoder_arbitrary_ende_attn">(1, 1);
  b.set<"decoder_arbitrary_ende_attn">(2, 2);
  CHECK(hat::hat_features(b)[9] == Approx((1 + 2 + 3) / 3.0));
}

TEST_CASE("encode: normalisation divides by HAT's fixed norms", "[space][encode]") {
  const auto a = hat::arch<S>::largest();
  const auto n = hat::hat_normalized_features(a);
  const double expected[10] = {1, 1, 1.5, 8.0 / 6, 1, 1, 1.5, 8.0 / 6, 8.0 / 6, 1.5};  // arbitrary 2 -> 3, / 2
  for (std::size_t i = 0; i < 10; ++i) CHECK(n[i] == Approx(expected[i]));
  CHECK(hat::hat_feature_names[9] == "decoder_arbitrary_ende_attn_avg");
}

// The same dimensions declared in another order: the genome differs, HAT's gene list does not.
using reordered = hat::space<
    hat::per_layer<6, hat::choice<"decoder_arbitrary_ende_attn", -1, 1, 2>>,
    hat::choice<"decoder_layer_num", 6, 5, 4, 3, 2, 1>,
    hat::choice<"decoder_embed_dim", 640, 512>,
    hat::per_layer<6, hat::choice<"decoder_ffn_embed_dim", 3072, 2048, 1024>>,
    hat::per_layer<6, hat::choice<"decoder_self_attention_heads", 8, 4>>,
    hat::per_layer<6, hat::choice<"decoder_ende_attention_heads", 8, 4>>,
    hat::choice<"encoder_embed_dim", 640, 512>,
    hat::choice<"encoder_layer_num", 6>,
    hat::per_layer<6, hat::choice<"encoder_ffn_embed_dim", 3072, 2048, 1024>>,
    hat::per_layer<6, hat::choice<"encoder_self_attention_heads", 8, 4>>,
    hat::fixed<"qkv_dim", 512>>;

TEST_CASE("encode: HAT's 40-gene list follows Converter order whatever the declaration order", "[space][encode]") {
  const auto a = rpi_3_5s();
  const auto genes = hat::hat_genes(a);
  REQUIRE(genes.size() == 40);
  CHECK(std::vector<int>(a.genes().begin(), a.genes().end()) == genes);  // space0 is declared in HAT order
  CHECK(genes[0] == 512);                                                // enc embed
  CHECK(genes[1] == 6);                                                  // enc layers
  CHECK(genes[2] == 1024);                                               // enc FFN layer 0
  CHECK(genes[8] == 4);                                                  // enc heads layer 0
  CHECK(genes[15] == 1);                                                 // dec layers
  CHECK(genes[19] == 1024);                                              // inactive dec FFN layer 3 is kept
  CHECK(genes[34] == -1);                                                // dec arbitrary layer 0

  hat::arch<reordered> r;
  for (std::size_t d = 0; d < S::dim_count; ++d) {
    const auto& dim = S::dims[d];
    if (dim.fixed) continue;
    const auto rd = static_cast<std::size_t>(reordered::find(dim.name));
    for (std::size_t l = 0; l < dim.layers; ++l) r.set_value(rd, l, a.value(d, l));
  }
  CHECK(std::vector<int>(r.genes().begin(), r.genes().end()) != genes);
  CHECK(hat::hat_genes(r) == genes);
  CHECK(hat::hat_features(r) == hat::hat_features(a));
}
