// SPDX-License-Identifier: MIT
// Transformer semantics over a generic space: the names HAT's SuperTransformer reads, and its rules.
#pragma once

#include <cstddef>
#include <string>

#include <hat/space/arch.hpp>

namespace hat {

/// A space that can configure HAT's encoder-decoder SuperTransformer: it has every dimension
/// below (per-layer ones gated by `encoder_layer_num` / `decoder_layer_num`, which the naming
/// rule of `per_layer` does by itself) and the fixed Q/K/V width `qkv_dim`.
template <class S>
concept transformer_space =
    S::template contains<"encoder_embed_dim">() && S::template contains<"decoder_embed_dim">() &&
    S::template contains<"encoder_layer_num">() && S::template contains<"decoder_layer_num">() &&
    S::template contains<"encoder_ffn_embed_dim">() && S::template contains<"decoder_ffn_embed_dim">() &&
    S::template contains<"encoder_self_attention_heads">() &&
    S::template contains<"decoder_self_attention_heads">() &&
    S::template contains<"decoder_ende_attention_heads">() &&
    S::template contains<"decoder_arbitrary_ende_attn">() && S::template contains<"qkv_dim">();

/// Encoder layers a decoder layer attends to for HAT's arbitrary enc-dec setting:
/// -1 -> the last one, 1 -> the last two, 2 -> the last three (HAT's
/// TransformerDecoder.extract_features).
constexpr int attended_encoder_layers(int arbitrary) noexcept { return arbitrary < 0 ? 1 : arbitrary + 1; }

namespace detail {
template <transformer_space S>
consteval bool heads_divide_qkv() {
  constexpr int q = S::template max<"qkv_dim">();
  for (auto name : {"encoder_self_attention_heads", "decoder_self_attention_heads",
                    "decoder_ende_attention_heads"})
    for (int h : S::dims[static_cast<std::size_t>(S::find(name))].values)
      if (h <= 0 || q % h != 0) return false;
  return true;
}
}  // namespace detail

/// `a.validate()` plus the rules a network needs: every active decoder layer attends to no
/// more encoder layers than exist. Throws invalid_arch naming the layer.
template <transformer_space S>
void validate_transformer(const arch<S>& a) {
  static_assert(detail::heads_divide_qkv<S>(),
                "hat::transformer_space: every head count must divide qkv_dim");
  a.validate();
  const int enc = a.template get<"encoder_layer_num">();
  for (std::size_t l = 0, n = a.template active_layers<"decoder_arbitrary_ende_attn">(); l < n; ++l) {
    const int want = attended_encoder_layers(a.template get<"decoder_arbitrary_ende_attn">(l));
    if (want > enc)
      throw invalid_arch("hat::arch: decoder layer " + std::to_string(l) +
                         " attends to the last " + std::to_string(want) +
                         " encoder layers (decoder_arbitrary_ende_attn), but encoder_layer_num is " +
                         std::to_string(enc));
  }
}

namespace detail {
template <transformer_space S>
arch<S> with_arbitrary_one(arch<S> a) noexcept {
  for (std::size_t l = 0; l < S::template dim<"decoder_arbitrary_ende_attn">().layers; ++l)
    a.template set<"decoder_arbitrary_ende_attn">(l, 1);
  return a;
}
}  // namespace detail

/// HAT's validation representatives (get_represent_configs, fairseq/utils.py): every choice at
/// its extreme and arbitrary attention 1 (the last two encoder layers) everywhere.
template <transformer_space S>
arch<S> represent_largest() noexcept {
  return detail::with_arbitrary_one(arch<S>::largest());
}
template <transformer_space S>
arch<S> represent_smallest() noexcept {
  return detail::with_arbitrary_one(arch<S>::smallest());
}

}  // namespace hat
