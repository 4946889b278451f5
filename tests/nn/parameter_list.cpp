// SPDX-License-Identifier: MIT
// Layers declare their tensors; the SuperTransformer's layout and names come from those
// declarations, and a layer that takes its tensors in another order fails at construction.
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/nn/parameter_list.hpp>
#include <hat/nn/super_transformer.hpp>
#include <hat/nn/transformer_layers.hpp>
#include <hat/space/small_spaces.hpp>

namespace {
std::vector<std::string> names(const std::vector<hat::parameter_info>& list) {
  std::vector<std::string> n;
  for (const auto& p : list) n.push_back(p.name);
  return n;
}
}  // namespace

TEST_CASE("parameter_list: an encoder layer declares fairseq's names, contiguous, with HAT's initialisation", "[nn]") {
  using layer_t = hat::encoder_layer<16, 32, 8, hat::cpu>;
  const std::size_t embed_choices[] = {8, 12, 16}, ffn_choices[] = {16, 32};
  hat::parameter_list list;
  layer_t::declare(hat::parameter_scope(list) / "encoder.layers.3.", 16, 32, embed_choices, ffn_choices);
  const auto& e = list.entries();
  CHECK(names(e) == std::vector<std::string>{
                        "encoder.layers.3.self_attn.in_proj_weight", "encoder.layers.3.self_attn.in_proj_bias",
                        "encoder.layers.3.self_attn.out_proj.weight", "encoder.layers.3.self_attn.out_proj.bias",
                        "encoder.layers.3.self_attn_layer_norm.weight", "encoder.layers.3.self_attn_layer_norm.bias",
                        "encoder.layers.3.fc1.weight", "encoder.layers.3.fc1.bias", "encoder.layers.3.fc2.weight",
                        "encoder.layers.3.fc2.bias", "encoder.layers.3.final_layer_norm.weight",
                        "encoder.layers.3.final_layer_norm.bias"});
  std::size_t offset = 0;
  for (const auto& p : e) {
    CHECK(p.offset == offset);
    offset += p.size();
  }
  CHECK(offset == list.size());
  CHECK(list.size() == layer_t::params_for(16, 32));
  CHECK(e[0].shape == std::vector<std::size_t>{24, 16});
  CHECK(e[0].panels == std::vector<std::size_t>{8, 12, 16});
  CHECK(e[2].panels.empty());  // out_proj reads every qkv column
  CHECK(e[8].panels == std::vector<std::size_t>{16, 32});
  CHECK(e[0].init == hat::parameter_init::xavier_uniform);
  CHECK(e[1].init == hat::parameter_init::zero);
  CHECK(e[4].init == hat::parameter_init::one);
  CHECK(e[5].init == hat::parameter_init::zero);
}

TEST_CASE("parameter_cursor: a layer must take exactly what was declared, in order", "[nn]") {
  hat::parameter_list list;
  const hat::parameter_scope root(list);
  root.add("a.weight", {2, 3}, hat::parameter_init::xavier_uniform);
  root.add("a.bias", {2}, hat::parameter_init::zero);
  std::vector<float> arena(list.size());

  SECTION("in order, through nested scopes") {
    hat::parameter_cursor<float> c(arena.data(), list.entries());
    auto a = c / "a.";
    CHECK(c.offset() == 0);
    const auto w = a.take("weight");
    CHECK(w.data == arena.data());
    CHECK(w.rows() == 2);
    CHECK(w.cols() == 3);
    CHECK(c.offset() == 6);  // the nested cursor moves its parent
    CHECK(a.take("bias").data == arena.data() + 6);
    CHECK(c.done());
  }
  SECTION("out of order: the error names both tensors") {
    hat::parameter_cursor<float> c(arena.data(), list.entries());
    CHECK_THROWS_WITH(c.take("a.bias"), Catch::Contains("'a.bias' was taken where 'a.weight' is declared"));
  }
  SECTION("past the end") {
    hat::parameter_cursor<float> c(arena.data(), list.entries());
    c.take("a.weight");
    c.take("a.bias");
    CHECK_THROWS_WITH(c.take("a.extra"), Catch::Contains("'a.extra' was taken but never declared"));
  }
  SECTION("a layer over a layout declared for another layer fails to construct") {
    hat::parameter_cursor<float> c(arena.data(), list.entries());
    CHECK_THROWS_WITH((hat::elastic_attention<8, 4, hat::cpu>(c / "a.")),
                      Catch::Contains("'a.in_proj_weight' was taken where 'a.weight' is declared"));
  }
}

TEST_CASE("super_transformer: the layout is the layers' declarations, every tensor once, offsets from the cursor",
          "[nn]") {
  using model_t = hat::super_transformer_for<hat::multi30k_tiny_space, hat::cpu>;
  hat::cpu be;
  for (auto sharing : {hat::embedding_sharing::all, hat::embedding_sharing::decoder, hat::embedding_sharing::none}) {
    const hat::vocabulary_sizes v{40, sharing == hat::embedding_sharing::all ? 40u : 30u, sharing};
    const model_t m(be, v);
    std::set<std::string> seen;
    std::size_t offset = 0;
    for (const auto& p : m.parameters()) {
      CHECK(seen.insert(p.name).second);
      CHECK(p.offset == offset);
      offset += p.size();
    }
    CHECK(offset == m.size());
    CHECK(m.source_table_offset() == m.parameter("encoder.embed_tokens.weight").offset);
    CHECK(m.target_table_offset() == m.parameter(sharing == hat::embedding_sharing::all ? "encoder.embed_tokens.weight"
                                                                                        : "decoder.embed_tokens.weight")
                                         .offset);
    CHECK(m.output_table_offset() == m.parameter(sharing == hat::embedding_sharing::none ? "decoder.embed_out"
                                                 : sharing == hat::embedding_sharing::decoder
                                                     ? "decoder.embed_tokens.weight"
                                                     : "encoder.embed_tokens.weight")
                                         .offset);
    for (std::size_t l = 0; l < model_t::maxima::encoder_layers; ++l) {
      CHECK(m.encoder_offset(l) == m.parameter("encoder.layers." + std::to_string(l) + ".self_attn.in_proj_weight").offset);
      CHECK(m.encoder(l).self_attn().in_proj_weight() == m.data() + m.encoder_offset(l));
    }
    for (std::size_t l = 0; l < model_t::maxima::decoder_layers; ++l) {
      CHECK(m.decoder_offset(l) == m.parameter("decoder.layers." + std::to_string(l) + ".self_attn.in_proj_weight").offset);
      CHECK(m.decoder(l).ende_attn().in_proj_weight() ==
            m.data() + m.parameter("decoder.layers." + std::to_string(l) + ".encoder_attn.in_proj_weight").offset);
    }
  }
}
