// SPDX-License-Identifier: MIT
// #Params exactly as HAT counts them, plus embedding tables and weight bytes.
#pragma once

#include <algorithm>  // std::max
#include <cstddef>
#include <cstdint>

#include <hat/space/transformer.hpp>

namespace hat {

/// HAT's #Params (`TransformerSuperModel.get_sampled_params_numel`): every active encoder and
/// decoder layer's linear, attention and LayerNorm parameters. Token embeddings and the
/// output projection are excluded, the Q/K/V bias always counts all 3*qkv_dim entries, and
/// encoder-decoder K/V read the encoder's width.
template <transformer_space S>
std::int64_t params(const arch<S>& a) noexcept {
  const std::int64_t q = a.template get<"qkv_dim">();
  const std::int64_t de = a.template get<"encoder_embed_dim">();
  const std::int64_t dd = a.template get<"decoder_embed_dim">();
  std::int64_t n = 0;
  for (std::size_t l = 0, ne = a.template active_layers<"encoder_ffn_embed_dim">(); l < ne; ++l) {
    const std::int64_t f = a.template get<"encoder_ffn_embed_dim">(l);
    n += 3 * de * q + 3 * q + q * de + de;  // self-attention: packed Q/K/V + out_proj
    n += 2 * de * f + f + de;               // fc1, fc2
    n += 4 * de;                            // 2 LayerNorms
  }
  for (std::size_t l = 0, nd = a.template active_layers<"decoder_ffn_embed_dim">(); l < nd; ++l) {
    const std::int64_t f = a.template get<"decoder_ffn_embed_dim">(l);
    n += 3 * dd * q + 3 * q + q * dd + dd;           // self-attention
    n += dd * q + 2 * de * q + 3 * q + q * dd + dd;  // enc-dec: Q from decoder, K/V from encoder
    n += 2 * dd * f + f + dd;                        // FFN
    n += 6 * dd;                                     // 3 LayerNorms
  }
  return n;
}

/// Vocabulary of a task; `shared` means one table serves the encoder input, the decoder
/// input and the output projection (HAT's WMT tasks).
struct vocabulary {
  std::int64_t source = 0;
  std::int64_t target = 0;
  bool shared = true;
};

/// Parameters of the token tables a standalone SubTransformer needs: the shared table at the
/// wider of the two widths, or source table + target table + output projection.
template <transformer_space S>
std::int64_t embedding_params(const arch<S>& a, const vocabulary& v) noexcept {
  const std::int64_t de = a.template get<"encoder_embed_dim">();
  const std::int64_t dd = a.template get<"decoder_embed_dim">();
  if (v.shared) return std::max(v.source, v.target) * std::max(de, dd);
  return v.source * de + 2 * v.target * dd;
}

/// Bytes of all weights of the standalone SubTransformer at `bytes_per_weight` (4: fp32).
template <transformer_space S>
std::int64_t weight_bytes(const arch<S>& a, const vocabulary& v, std::int64_t bytes_per_weight = 4) noexcept {
  return (params(a) + embedding_params(a, v)) * bytes_per_weight;
}

}  // namespace hat
