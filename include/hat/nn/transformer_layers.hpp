// SPDX-License-Identifier: MIT
// HAT's post-norm encoder and decoder layers (hat-spec 1, 1.1), on elastic sub-layers.
#pragma once

#include <cstddef>
#include <span>

#include <hat/backend/concepts.hpp>
#include <hat/config.hpp>
#include <hat/nn/elastic_attention.hpp>
#include <hat/nn/elastic_ffn.hpp>
#include <hat/nn/elastic_layernorm.hpp>
#include <hat/nn/paneled_matrix.hpp>

namespace hat {

/// Scratch of a layer call, reused across layers and calls: attention and FFN scratch and one
/// [rows, MaxEmbed] residual branch.
template <class Backend, class T = float>
struct layer_workspace {
  attention_workspace<Backend, T> attention;
  ffn_workspace<Backend, T> ffn;
  typename Backend::template buffer<T> branch;
  matrix_ref<T> branch_view(std::size_t rows, std::size_t cols) {
    return dense(detail::reserve<Backend, T>(branch, rows * cols), rows, cols);
  }
};

/// One encoder layer: x = LN(x + SelfAttn(x)); x = LN(x + FFN(x)) (post-norm, no final LN).
/// Parameters, in order: self_attn, self_attn_layer_norm, fc1, fc2, final_layer_norm.
template <std::size_t D, std::size_t F, std::size_t Q, class Backend, class T = float>
class encoder_layer {
 public:
  using attention_type = elastic_attention<D, Q, Backend, T>;
  using norm_type = elastic_layernorm<D, Backend, T>;
  using ffn_type = elastic_ffn<D, F, Backend, T>;
  static constexpr std::size_t param_count = attention_type::param_count + ffn_type::param_count + 2 * norm_type::param_count;

  static constexpr std::size_t params_for(std::size_t d, std::size_t f) noexcept {
    return attention_type::params_for(d, d) + ffn_type::params_for(d, f) + 2 * norm_type::params_for(d);
  }

  /// `p`: [params_for(d, f)], stored at width d and FFN width f (the maxima by default), with
  /// weight columns paneled at the widths sub-layers read (`embed_choices`, `ffn_choices`;
  /// see paneled_matrix).
  explicit encoder_layer(T* p, std::size_t d = D, std::size_t f = F, std::span<const std::size_t> embed_choices = {},
                         std::span<const std::size_t> ffn_choices = {})
      : self_attn_(p, d, d, panel_bounds(d, embed_choices)),
        self_norm_(p + attention_type::params_for(d, d), d),
        ffn_(p + attention_type::params_for(d, d) + norm_type::params_for(d), d, f, panel_bounds(d, embed_choices),
             panel_bounds(f, ffn_choices)),
        final_norm_(p + attention_type::params_for(d, d) + norm_type::params_for(d) + ffn_type::params_for(d, f), d) {}

  const attention_type& self_attn() const noexcept { return self_attn_; }
  const ffn_type& ffn() const noexcept { return ffn_; }

  /// y [batch t, d] = layer(x [batch t, d]) for `batch` sentences of t rows; key_padding
  /// [batch t] or null. y must not alias x.
  void forward(Backend& be, matrix_ref<const T> x, std::size_t batch, std::size_t ffn, std::size_t heads,
               const unsigned char* key_padding, matrix_ref<T> y, layer_workspace<Backend, T>& ws) const {
    self_attn_.self_forward(be, x, batch, heads, false, key_padding, y, ws.attention);
    be.add(x, y);
    self_norm_.forward(be, matrix_ref<const T>(y), y);
    const matrix_ref<T> b = ws.branch_view(x.rows, x.cols);
    ffn_.forward(be, matrix_ref<const T>(y), ffn, b, ws.ffn);
    be.add(matrix_ref<const T>(y), b);
    final_norm_.forward(be, matrix_ref<const T>(b), y);
  }

 private:
  attention_type self_attn_;
  norm_type self_norm_;
  ffn_type ffn_;
  norm_type final_norm_;
};

/// One decoder layer: causal self-attention, encoder-decoder attention, FFN, each followed by
/// residual + LayerNorm. Parameters, in order: self_attn, self_attn_layer_norm, encoder_attn,
/// encoder_attn_layer_norm, fc1, fc2, final_layer_norm.
template <std::size_t D, std::size_t F, std::size_t Q, class Backend, class T = float>
class decoder_layer {
 public:
  using attention_type = elastic_attention<D, Q, Backend, T>;
  using norm_type = elastic_layernorm<D, Backend, T>;
  using ffn_type = elastic_ffn<D, F, Backend, T>;
  static constexpr std::size_t param_count =
      2 * attention_type::param_count + ffn_type::param_count + 3 * norm_type::param_count;

  /// Stored at width d, FFN width f, and encoder-decoder in_proj `ende_in` columns wide
  /// (max(d, encoder width): its Q rows read d columns, its K/V rows the encoder's).
  static constexpr std::size_t params_for(std::size_t d, std::size_t f, std::size_t ende_in) noexcept {
    return attention_type::params_for(d, d) + attention_type::params_for(ende_in, d) + ffn_type::params_for(d, f) +
           3 * norm_type::params_for(d);
  }

  /// `p`: [params_for(d, f, ende_in)] (the maxima by default), paneled as the encoder layer's.
  explicit decoder_layer(T* p, std::size_t d = D, std::size_t f = F, std::size_t ende_in = D,
                         std::span<const std::size_t> embed_choices = {}, std::span<const std::size_t> ffn_choices = {})
      : self_attn_(p, d, d, panel_bounds(d, embed_choices)),
        self_norm_(p + attention_type::params_for(d, d), d),
        ende_attn_(p + attention_type::params_for(d, d) + norm_type::params_for(d), ende_in, d,
                   panel_bounds(ende_in, embed_choices)),
        ende_norm_(p + attention_type::params_for(d, d) + attention_type::params_for(ende_in, d) + norm_type::params_for(d), d),
        ffn_(p + attention_type::params_for(d, d) + attention_type::params_for(ende_in, d) + 2 * norm_type::params_for(d), d, f,
             panel_bounds(d, embed_choices), panel_bounds(f, ffn_choices)),
        final_norm_(p + attention_type::params_for(d, d) + attention_type::params_for(ende_in, d) +
                        2 * norm_type::params_for(d) + ffn_type::params_for(d, f),
                    d) {}

  const attention_type& self_attn() const noexcept { return self_attn_; }
  const attention_type& ende_attn() const noexcept { return ende_attn_; }

  /// Teacher-forced: y [batch t, d] = layer(x [batch t, d]) attending causally to itself and to
  /// `memory` [batch tm, d_enc] (the concatenated encoder outputs of each sentence) with
  /// memory_padding [batch tm] or null. y must not alias x.
  void forward(Backend& be, matrix_ref<const T> x, std::size_t batch, matrix_ref<const T> memory,
               const unsigned char* memory_padding, std::size_t ffn, std::size_t self_heads, std::size_t ende_heads,
               matrix_ref<T> y, layer_workspace<Backend, T>& ws) const {
    self_attn_.self_forward(be, x, batch, self_heads, true, nullptr, y, ws.attention);
    be.add(x, y);
    self_norm_.forward(be, matrix_ref<const T>(y), y);
    const matrix_ref<T> b = ws.branch_view(x.rows, x.cols);
    ende_attn_.forward(be, matrix_ref<const T>(y), memory, batch, ende_heads, false, memory_padding, b, ws.attention);
    be.add(matrix_ref<const T>(y), b);
    ende_norm_.forward(be, matrix_ref<const T>(b), y);
    rest_(be, ffn, y, ws);
  }

  /// One incremental step for n hypotheses: x [n, d] -> y [n, d]. The self-attention K/V of
  /// this step are written into `cache` row `step` of each hypothesis (cache [n, capacity,
  /// 2Q]: K then V) and all step + 1 rows are attended; `memory_kv` [blocks tm, 2Q] holds the
  /// projected encoder-decoder K/V, hypothesis i reading block i / group, with memory_padding
  /// [blocks tm] or null.
  void step(Backend& be, matrix_ref<const T> x, T* cache, std::size_t capacity, std::size_t step,
            matrix_ref<const T> memory_kv, std::size_t tm, std::size_t group, const unsigned char* memory_padding,
            std::size_t ffn, std::size_t self_heads, std::size_t ende_heads, matrix_ref<T> y,
            layer_workspace<Backend, T>& ws) const {
    HAT_ASSERT(step < capacity, "decoder_layer::step: the KV cache is full");
    const std::size_t n = x.rows, row = capacity * 2 * Q;
    const matrix_ref<T> q = dense(detail::reserve<Backend, T>(ws.attention.q, n * Q), n, Q);
    self_attn_.project(be, x, 0, 1, q);
    self_attn_.project(be, x, 1, 2, matrix_ref<T>{cache + step * 2 * Q, n, 2 * Q, row});
    const attention_shape self{n, self_heads, 1, step + 1, capacity, 1, false, attention_type::scaling(self_heads)};
    self_attn_.attend(be, self, q, {cache, n * capacity, Q, 2 * Q}, {cache + Q, n * capacity, Q, 2 * Q}, nullptr, y,
                      ws.attention);
    be.add(x, y);
    self_norm_.forward(be, matrix_ref<const T>(y), y);
    const matrix_ref<T> b = ws.branch_view(n, x.cols);
    ende_attn_.project(be, matrix_ref<const T>(y), 0, 1, q);
    const attention_shape ende{n, ende_heads, 1, tm, tm, group, false, attention_type::scaling(ende_heads)};
    ende_attn_.attend(be, ende, q, {memory_kv.data, memory_kv.rows, Q, memory_kv.ld},
                      {memory_kv.data + Q, memory_kv.rows, Q, memory_kv.ld}, memory_padding, b, ws.attention);
    be.add(matrix_ref<const T>(y), b);
    ende_norm_.forward(be, matrix_ref<const T>(b), y);
    rest_(be, ffn, y, ws);
  }

 private:
  // y = LN(y + FFN(y))
  void rest_(Backend& be, std::size_t ffn, matrix_ref<T> y, layer_workspace<Backend, T>& ws) const {
    const matrix_ref<T> b = ws.branch_view(y.rows, y.cols);
    ffn_.forward(be, matrix_ref<const T>(y), ffn, b, ws.ffn);
    be.add(matrix_ref<const T>(y), b);
    final_norm_.forward(be, matrix_ref<const T>(b), y);
  }

  attention_type self_attn_;
  norm_type self_norm_;
  attention_type ende_attn_;
  norm_type ende_norm_;
  ffn_type ffn_;
  norm_type final_norm_;
};

}  // namespace hat
