// SPDX-License-Identifier: MIT
// Encodings of an architecture: HAT's 10 predictor features, HAT's gene list, generic features.
#pragma once

#include <algorithm>  // std::max
#include <array>
#include <cmath>      // std::abs
#include <cstddef>
#include <string_view>
#include <vector>

#include <hat/space/transformer.hpp>

namespace hat {

/// Names of HAT's predictor features, in order (the first 10 columns of its latency CSVs).
inline constexpr std::array<std::string_view, 10> hat_feature_names{
    "encoder_embed_dim",        "encoder_layer_num",
    "encoder_ffn_embed_dim_avg", "encoder_self_attention_heads_avg",
    "decoder_embed_dim",        "decoder_layer_num",
    "decoder_ffn_embed_dim_avg", "decoder_self_attention_heads_avg",
    "decoder_ende_attention_heads_avg", "decoder_arbitrary_ende_attn_avg"};

/// HAT's fixed divisors (`feature-norm` in its configs/*/latency_predictor/*.yml), the same for
/// every task and device.
inline constexpr std::array<double, 10> hat_feature_norm{640, 6, 2048, 6, 640, 6, 2048, 6, 6, 2};

namespace detail {
template <fixed_string Name, class S>
double active_mean(const arch<S>& a, bool map_arbitrary = false) {
  const auto n = a.template active_layers<Name>();
  if (n == 0) return 0.0;
  double sum = 0;
  for (std::size_t l = 0; l < n; ++l) {
    const int v = a.template get<Name>(l);
    sum += map_arbitrary ? attended_encoder_layers(v) : v;
  }
  return sum / static_cast<double>(n);
}
}  // namespace detail

/// HAT's 10 raw features: averages over active layers only; arbitrary attention mapped
/// -1/1/2 -> 1/2/3 before averaging (get_config_features in HAT's fairseq/utils.py).
template <transformer_space S>
std::array<double, 10> hat_features(const arch<S>& a) {
  return {static_cast<double>(a.template get<"encoder_embed_dim">()),
          static_cast<double>(a.template get<"encoder_layer_num">()),
          detail::active_mean<"encoder_ffn_embed_dim">(a),
          detail::active_mean<"encoder_self_attention_heads">(a),
          static_cast<double>(a.template get<"decoder_embed_dim">()),
          static_cast<double>(a.template get<"decoder_layer_num">()),
          detail::active_mean<"decoder_ffn_embed_dim">(a),
          detail::active_mean<"decoder_self_attention_heads">(a),
          detail::active_mean<"decoder_ende_attention_heads">(a),
          detail::active_mean<"decoder_arbitrary_ende_attn">(a, true)};
}

/// The predictor's input: `hat_features(a) / hat_feature_norm`, element-wise.
template <transformer_space S>
std::array<double, 10> hat_normalized_features(const arch<S>& a) {
  auto f = hat_features(a);
  for (std::size_t i = 0; i < f.size(); ++i) f[i] /= hat_feature_norm[i];
  return f;
}

/// HAT's gene list (`Converter.get_gene_choice`, fairseq/evolution.py): [enc embed, enc layers,
/// enc FFN x N, enc heads x N, dec embed, dec layers, dec FFN x M, dec heads x M,
/// dec enc-dec heads x M, dec arbitrary x M], inactive layers included (40 genes for 6+6),
/// whatever order the space declares its dimensions in.
template <transformer_space S>
std::vector<int> hat_genes(const arch<S>& a) {
  std::vector<int> g;
  g.reserve(S::gene_count);
  const auto put = [&](std::span<const int> v) { g.insert(g.end(), v.begin(), v.end()); };
  g.push_back(a.template get<"encoder_embed_dim">());
  g.push_back(a.template get<"encoder_layer_num">());
  put(a.template layers<"encoder_ffn_embed_dim">());
  put(a.template layers<"encoder_self_attention_heads">());
  g.push_back(a.template get<"decoder_embed_dim">());
  g.push_back(a.template get<"decoder_layer_num">());
  put(a.template layers<"decoder_ffn_embed_dim">());
  put(a.template layers<"decoder_self_attention_heads">());
  put(a.template layers<"decoder_ende_attention_heads">());
  put(a.template layers<"decoder_arbitrary_ende_attn">());
  return g;
}

/// A feature vector for any space: each gene's value divided by its dimension's largest
/// absolute value, inactive genes as 0 (what a generic latency predictor reads).
template <class S>
std::array<double, S::gene_count> gene_features(const arch<S>& a) {
  std::array<double, S::gene_count> f{};
  for (std::size_t i = 0; i < S::dim_count; ++i) {
    const auto& d = S::dims[i];
    const double scale = std::max(std::abs(static_cast<double>(d.max)), std::abs(static_cast<double>(d.min)));
    for (std::size_t l = 0, n = a.active_layers(i); l < n; ++l)
      f[d.first_gene + l] = scale == 0 ? 0.0 : a.value(i, l) / scale;
  }
  return f;
}

}  // namespace hat
