// SPDX-License-Identifier: MIT
// space<...>: compile-time tables, lookup by name, gates, space size.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>
#include <vector>

#include <hat/space/hat_spaces.hpp>
#include "test_spaces.hpp"

using hat_test::cnn_space;
using hat_test::tiny_transformer;

TEST_CASE("space: maxima, minima and gene counts are compile-time constants", "[space]") {
  using S = hat::hat_wmt_space;
  static_assert(S::max<"encoder_ffn_embed_dim">() == 3072);
  static_assert(S::min<"encoder_ffn_embed_dim">() == 1024);
  static_assert(S::max<"decoder_arbitrary_ende_attn">() == 2);
  static_assert(S::min<"decoder_arbitrary_ende_attn">() == -1);
  static_assert(S::max<"qkv_dim">() == 512);
  static_assert(S::gene_count == 40);  // HAT's Converter.get_gene_choice
  static_assert(hat::hat_iwslt_space::max<"encoder_ffn_embed_dim">() == 2048);
  static_assert(hat::hat_iwslt_space::max<"encoder_self_attention_heads">() == 4);
  static_assert(hat::hat_latency_space::min<"decoder_ffn_embed_dim">() == 512);
  static_assert(cnn_space::gene_count == 1 + 1 + 4 + 4 + 2);
  CHECK(S::dims[S::index_of<"decoder_embed_dim">()].first_gene == 14);
  CHECK(S::find("no_such_dim") == -1);
  CHECK(S::find("qkv_dim") >= 0);
  CHECK(S::dim<"qkv_dim">().layers == 0);
}

TEST_CASE("space: per-layer dimensions are gated by <prefix>_layer_num or an explicit gate", "[space]") {
  using S = hat::hat_wmt_space;
  const auto enc_gate = static_cast<std::ptrdiff_t>(S::index_of<"encoder_layer_num">());
  const auto dec_gate = static_cast<std::ptrdiff_t>(S::index_of<"decoder_layer_num">());
  CHECK(S::dim<"encoder_ffn_embed_dim">().gate == enc_gate);
  CHECK(S::dim<"encoder_self_attention_heads">().gate == enc_gate);
  CHECK(S::dim<"decoder_ende_attention_heads">().gate == dec_gate);
  CHECK(S::dim<"decoder_arbitrary_ende_attn">().gate == dec_gate);
  CHECK(S::dim<"encoder_embed_dim">().gate == -1);
  CHECK(cnn_space::dim<"kernel">().gate == static_cast<std::ptrdiff_t>(cnn_space::index_of<"depth">()));
  CHECK(cnn_space::dim<"stem">().gate == -1);
}

TEST_CASE("space: HAT space0 and space1 have ~4.18e14 distinct active architectures", "[space]") {
  // HAT's space0/space1: encoder 2*(3*2)^6, decoder 2*sum_{L=1..6}(3*2*2*3)^L.
  double dec = 0, p = 1;
  for (int l = 1; l <= 6; ++l) dec += (p *= 36.0);
  const double expected = 2 * 46656.0 * 2 * dec;
  CHECK(expected == 93312.0 * 4477952232.0);
  CHECK(hat::hat_wmt_space::size() == expected);
  CHECK(hat::hat_iwslt_space::size() == expected);
  CHECK(hat::hat_wmt_space::size() == Approx(4.18e14).epsilon(0.001));
  CHECK(hat::hat_wmt_space::genome_count() == 2.0 * 2 * 6 * std::pow(3.0, 18) * std::pow(2.0, 18));
}

namespace {
// Brute force: every genome, reduced to its active part, counted once.
template <class S>
std::size_t enumerate_distinct() {
  std::vector<std::size_t> idx(S::gene_count, 0);
  std::vector<const hat::dim_info*> owner;
  for (const auto& d : S::dims)
    for (std::size_t l = 0; l < d.layers; ++l) owner.push_back(&d);
  std::set<std::vector<int>> seen;
  for (;;) {
    std::vector<int> genes(S::gene_count);
    for (std::size_t g = 0; g < S::gene_count; ++g) genes[g] = owner[g]->values[idx[g]];
    const auto a = hat::arch<S>::from_genes(genes).canonical();
    seen.insert(std::vector<int>(a.genes().begin(), a.genes().end()));
    std::size_t k = 0;
    for (; k < S::gene_count; ++k) {
      if (++idx[k] < owner[k]->values.size()) break;
      idx[k] = 0;
    }
    if (k == S::gene_count) break;
  }
  return seen.size();
}
}  // namespace

TEST_CASE("space: size() equals a brute-force count of distinct active architectures", "[space]") {
  CHECK(static_cast<double>(enumerate_distinct<tiny_transformer>()) == tiny_transformer::size());
  CHECK(static_cast<double>(enumerate_distinct<cnn_space>()) == cnn_space::size());
  CHECK(tiny_transformer::size() < tiny_transformer::genome_count());
}
