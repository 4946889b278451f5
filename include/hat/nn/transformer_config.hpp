// SPDX-License-Identifier: MIT
// transformer_config: one SubTransformer's dimensions as run-time numbers, and the super maxima as types.
#pragma once

#include <algorithm>  // std::max
#include <array>
#include <initializer_list>
#include <utility>  // std::swap
#include <cstddef>
#include <string>
#include <vector>

#include <hat/config.hpp>
#include <hat/nn/layer_sizes.hpp>
#include <hat/space/arch.hpp>
#include <hat/space/transformer.hpp>

namespace hat {

/// The SuperTransformer's maxima: the sizes its weights are allocated at. `Embed` is the super
/// width of both encoder and decoder (HAT: 640 for both; the shared vocabulary table and the
/// sinusoid are computed at it), `Qkv` the fixed Q/K/V width.
template <std::size_t Embed, std::size_t EncoderFfn, std::size_t DecoderFfn, std::size_t Qkv, std::size_t EncoderLayers,
          std::size_t DecoderLayers, std::size_t Positions = 1024>
struct transformer_maxima {
  static constexpr std::size_t embed = Embed;
  static constexpr std::size_t encoder_ffn = EncoderFfn;
  static constexpr std::size_t decoder_ffn = DecoderFfn;
  static constexpr std::size_t qkv = Qkv;
  static constexpr std::size_t encoder_layers = EncoderLayers;
  static constexpr std::size_t decoder_layers = DecoderLayers;
  static constexpr std::size_t positions = Positions;  // fairseq's max_source/target_positions
  // The widths sub-layers read, ascending: weight columns are stored in panels ending at them
  // (paneled_matrix), so every slice is contiguous. None here: one panel per weight.
  static constexpr std::array<std::size_t, 0> embed_choices{};
  static constexpr std::array<std::size_t, 0> encoder_ffn_choices{};
  static constexpr std::array<std::size_t, 0> decoder_ffn_choices{};
};

namespace detail {
// The distinct values of the named dimensions of S, ascending (N of them).
template <transformer_space S>
consteval std::size_t count_choices(std::initializer_list<const char*> names) {
  std::size_t seen[64] = {}, n = 0;
  for (const char* name : names)
    for (int v : S::dims[static_cast<std::size_t>(S::find(name))].values) {
      bool dup = false;
      for (std::size_t i = 0; i < n; ++i) dup = dup || seen[i] == static_cast<std::size_t>(v);
      if (!dup) seen[n++] = static_cast<std::size_t>(v);
    }
  return n;
}
template <transformer_space S, std::size_t N>
consteval std::array<std::size_t, N> sorted_choices(std::initializer_list<const char*> names) {
  std::array<std::size_t, N> out{};
  std::size_t n = 0;
  for (const char* name : names)
    for (int v : S::dims[static_cast<std::size_t>(S::find(name))].values) {
      bool dup = false;
      for (std::size_t i = 0; i < n; ++i) dup = dup || out[i] == static_cast<std::size_t>(v);
      if (!dup) out[n++] = static_cast<std::size_t>(v);
    }
  for (std::size_t i = 1; i < N; ++i)  // insertion sort: constexpr-friendly
    for (std::size_t j = i; j > 0 && out[j - 1] > out[j]; --j) std::swap(out[j - 1], out[j]);
  return out;
}
}  // namespace detail

/// The maxima a transformer space needs, with its choice lists as the panel widths. Spaces
/// with the same maxima and choices share one model type (and one instantiation of every layer).
template <transformer_space S>
struct maxima_of
    : transformer_maxima<
          static_cast<std::size_t>(std::max(S::template max<"encoder_embed_dim">(), S::template max<"decoder_embed_dim">())),
          static_cast<std::size_t>(S::template max<"encoder_ffn_embed_dim">()),
          static_cast<std::size_t>(S::template max<"decoder_ffn_embed_dim">()),
          static_cast<std::size_t>(S::template max<"qkv_dim">()), S::template dim<"encoder_ffn_embed_dim">().layers,
          S::template dim<"decoder_ffn_embed_dim">().layers> {
  static constexpr auto embed_choices = detail::sorted_choices<S, detail::count_choices<S>({"encoder_embed_dim", "decoder_embed_dim"})>(
      {"encoder_embed_dim", "decoder_embed_dim"});
  static constexpr auto encoder_ffn_choices =
      detail::sorted_choices<S, detail::count_choices<S>({"encoder_ffn_embed_dim"})>({"encoder_ffn_embed_dim"});
  static constexpr auto decoder_ffn_choices =
      detail::sorted_choices<S, detail::count_choices<S>({"decoder_ffn_embed_dim"})>({"decoder_ffn_embed_dim"});
};

/// A SubTransformer as the model runs it: widths, and one entry per active layer.
struct transformer_config {
  std::size_t encoder_embed_dim = 0;
  std::size_t decoder_embed_dim = 0;
  std::vector<std::size_t> encoder_ffn;         // [encoder layers]
  std::vector<std::size_t> encoder_heads;       // [encoder layers]
  std::vector<std::size_t> decoder_ffn;         // [decoder layers]
  std::vector<std::size_t> decoder_self_heads;  // [decoder layers]
  std::vector<std::size_t> decoder_ende_heads;  // [decoder layers]
  std::vector<int> decoder_arbitrary;           // [decoder layers]: -1, 1, 2 (see attended_encoder_layers)

  std::size_t encoder_layers() const noexcept { return encoder_ffn.size(); }
  std::size_t decoder_layers() const noexcept { return decoder_ffn.size(); }
  /// Layer l's sizes, as the layer classes take them.
  encoder_layer_sizes encoder_layer(std::size_t l) const { return {encoder_ffn.at(l), encoder_heads.at(l)}; }
  decoder_layer_sizes decoder_layer(std::size_t l) const {
    return {decoder_ffn.at(l), decoder_self_heads.at(l), decoder_ende_heads.at(l)};
  }

  /// Throws invalid_arch when the configuration does not fit the maxima M or is inconsistent.
  template <class M>
  void check() const {
    const auto fail = [](const std::string& what) { throw invalid_arch("hat::transformer_config: " + what); };
    if (encoder_embed_dim == 0 || encoder_embed_dim > M::embed || decoder_embed_dim == 0 || decoder_embed_dim > M::embed)
      fail("embed dims must be in [1, " + std::to_string(M::embed) + "]");
    if (encoder_layers() == 0 || encoder_layers() > M::encoder_layers || encoder_heads.size() != encoder_layers())
      fail("encoder layer lists must have 1.." + std::to_string(M::encoder_layers) + " equal-length entries");
    if (decoder_layers() == 0 || decoder_layers() > M::decoder_layers || decoder_self_heads.size() != decoder_layers() ||
        decoder_ende_heads.size() != decoder_layers() || decoder_arbitrary.size() != decoder_layers())
      fail("decoder layer lists must have 1.." + std::to_string(M::decoder_layers) + " equal-length entries");
    for (std::size_t f : encoder_ffn)
      if (f == 0 || f > M::encoder_ffn) fail("encoder FFN dim " + std::to_string(f) + " outside [1, max]");
    for (std::size_t f : decoder_ffn)
      if (f == 0 || f > M::decoder_ffn) fail("decoder FFN dim " + std::to_string(f) + " outside [1, max]");
    for (const auto* heads : {&encoder_heads, &decoder_self_heads, &decoder_ende_heads})
      for (std::size_t h : *heads)
        if (h == 0 || M::qkv % h != 0) fail("head count " + std::to_string(h) + " does not divide qkv_dim");
    for (int a : decoder_arbitrary)
      if ((a != -1 && a < 1) || static_cast<std::size_t>(attended_encoder_layers(a)) > M::encoder_layers)
        fail("decoder_arbitrary_ende_attn " + std::to_string(a) + " is not -1 or 1.." +
             std::to_string(M::encoder_layers - 1));
  }
};

/// The configuration an architecture of a transformer space describes (validated).
template <transformer_space S>
transformer_config config_of(const arch<S>& a) {
  validate_transformer(a);
  transformer_config c;
  c.encoder_embed_dim = static_cast<std::size_t>(a.template get<"encoder_embed_dim">());
  c.decoder_embed_dim = static_cast<std::size_t>(a.template get<"decoder_embed_dim">());
  const auto u = [](int v) { return static_cast<std::size_t>(v); };
  for (std::size_t l = 0, n = static_cast<std::size_t>(a.template get<"encoder_layer_num">()); l < n; ++l) {
    c.encoder_ffn.push_back(u(a.template get<"encoder_ffn_embed_dim">(l)));
    c.encoder_heads.push_back(u(a.template get<"encoder_self_attention_heads">(l)));
  }
  for (std::size_t l = 0, n = static_cast<std::size_t>(a.template get<"decoder_layer_num">()); l < n; ++l) {
    c.decoder_ffn.push_back(u(a.template get<"decoder_ffn_embed_dim">(l)));
    c.decoder_self_heads.push_back(u(a.template get<"decoder_self_attention_heads">(l)));
    c.decoder_ende_heads.push_back(u(a.template get<"decoder_ende_attention_heads">(l)));
    c.decoder_arbitrary.push_back(a.template get<"decoder_arbitrary_ende_attn">(l));
  }
  return c;
}

}  // namespace hat
