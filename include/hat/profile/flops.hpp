// SPDX-License-Identifier: MIT
// FLOPs exactly as HAT reports them (torchprofile MACs of one teacher-forced forward).
#pragma once

#include <cstddef>
#include <cstdint>

#include <hat/space/transformer.hpp>

namespace hat {

/// Multiply-accumulates that torchprofile counts in one teacher-forced forward of batch 1
/// with source and target length `len`, excluding the output projection (HAT's train.py
/// --profile-flops): matmuls as the product of their dimensions, plus the element-wise products
/// it counts (embedding scale and position mask per embedding, q scaling per attention, one per
/// LayerNorm output element).
template <transformer_space S>
std::int64_t macs(const arch<S>& a, std::int64_t len) noexcept {
  const std::int64_t q = a.template get<"qkv_dim">();
  const std::int64_t de = a.template get<"encoder_embed_dim">();
  const std::int64_t dd = a.template get<"decoder_embed_dim">();
  const std::int64_t L = len;
  std::int64_t m = L * de + L;  // encoder embedding
  for (std::size_t l = 0, ne = a.template active_layers<"encoder_ffn_embed_dim">(); l < ne; ++l) {
    const std::int64_t f = a.template get<"encoder_ffn_embed_dim">(l);
    m += L * de * 3 * q + 2 * L * L * q + L * q * de + 2 * L * de * f;
    m += L * q + 2 * L * de;  // q scaling, 2 LayerNorms
  }
  m += L * dd + L;  // decoder embedding
  for (std::size_t l = 0, nd = a.template active_layers<"decoder_ffn_embed_dim">(); l < nd; ++l) {
    const std::int64_t f = a.template get<"decoder_ffn_embed_dim">(l);
    const std::int64_t s = L * attended_encoder_layers(a.template get<"decoder_arbitrary_ende_attn">(l));
    m += L * dd * 3 * q + 2 * L * L * q + L * q * dd;              // self-attention
    m += L * dd * q + 2 * s * de * q + 2 * L * s * q + L * q * dd;  // enc-dec over s keys
    m += 2 * L * dd * f;                                            // FFN
    m += 2 * L * q + 3 * L * dd;  // q scaling twice, 3 LayerNorms
  }
  return m;
}

/// HAT's FLOPs: 2 x MACs without the last layer, for source/target length `len`
/// (`find_task(...)->source_length`: 30 for WMT, 23 for IWSLT).
template <transformer_space S>
std::int64_t flops(const arch<S>& a, std::int64_t len) noexcept {
  return 2 * macs(a, len);
}

/// Bytes of the decoder's key/value caches after `steps` incremental steps of `beam`
/// hypotheses over a source of `src_len` tokens: self-attention K/V grow with the steps,
/// enc-dec K/V are computed once over the attended encoder outputs.
struct kv_cache_size {
  std::int64_t self_attention = 0;
  std::int64_t encoder_decoder = 0;
  std::int64_t total() const noexcept { return self_attention + encoder_decoder; }
};

template <transformer_space S>
kv_cache_size kv_cache_bytes(const arch<S>& a, std::int64_t beam, std::int64_t steps, std::int64_t src_len,
                             std::int64_t bytes_per_value = 4) noexcept {
  const std::int64_t q = a.template get<"qkv_dim">();
  kv_cache_size c;
  for (std::size_t l = 0, nd = a.template active_layers<"decoder_arbitrary_ende_attn">(); l < nd; ++l) {
    const std::int64_t s = src_len * attended_encoder_layers(a.template get<"decoder_arbitrary_ende_attn">(l));
    c.self_attention += 2 * beam * steps * q * bytes_per_value;
    c.encoder_decoder += 2 * beam * s * q * bytes_per_value;
  }
  return c;
}

}  // namespace hat
