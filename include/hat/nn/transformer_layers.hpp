// SPDX-License-Identifier: MIT
// HAT's post-norm encoder and decoder layers (TransformerEncoderLayer, TransformerDecoderLayer in
// HAT's fairseq/models/transformer_super.py), on elastic sub-layers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include <hat/backend/concepts.hpp>
#include <hat/backend/dropout_mask.hpp>
#include <hat/config.hpp>
#include <hat/nn/elastic_attention.hpp>
#include <hat/nn/elastic_ffn.hpp>
#include <hat/nn/elastic_layernorm.hpp>
#include <hat/nn/layer_sizes.hpp>
#include <hat/nn/paneled_matrix.hpp>
#include <hat/nn/parameter_list.hpp>

namespace hat {

/// Scratch of a layer call, reused across layers and calls: attention and FFN scratch and one
/// [rows, MaxEmbed] residual branch.
template <backend_policy Backend, class T = float>
struct layer_workspace {
  attention_workspace<Backend, T> attention;
  ffn_workspace<Backend, T> ffn;
  typename Backend::template buffer<T> branch, branch2, branch3;
  matrix_ref<T> branch_view(std::size_t rows, std::size_t cols) {
    return dense(detail::reserve<Backend, T>(branch, rows * cols), rows, cols);
  }
  /// A second [rows, cols] scratch, distinct from branch_view's (backward passes need two).
  matrix_ref<T> branch2_view(std::size_t rows, std::size_t cols) {
    return dense(detail::reserve<Backend, T>(branch2, rows * cols), rows, cols);
  }
};

/// The dropout of one layer's training forward, at rates the caller has already scaled as HAT
/// does (see dropout_rates). Every site draws its own mask from the layer's key.
struct layer_dropout {
  float self_out = 0;    // on the self-attention's output (the encoder's keeps HAT's unscaled rate)
  float ende_out = 0;    // on the encoder-decoder attention's output (decoder)
  float ffn_out = 0;     // on the FFN's output
  float activation = 0;  // on the ReLU's output
  float attention = 0;   // on attention probabilities (never scaled)
  std::uint64_t key = 0;

  enum site_id : std::uint64_t { self_out_site, ende_out_site, ffn_out_site, activation_site, self_probs_site, ende_probs_site };
  dropout_site site(site_id id, float p) const noexcept { return {p, dropout_key(key, id)}; }
};

/// What a layer's training forward keeps for its backward.
template <backend_policy Backend, class T = float>
struct layer_tape {
  attention_tape<Backend, T> self_attn, ende_attn;
  ffn_tape<Backend, T> ffn;
  typename Backend::template buffer<T> s1, y1, s2, y2, s3;  // pre-norm sums and normed outputs, [rows, d]
  layer_dropout dropout;
};

namespace detail {
// The gradient a dropped branch passes back: g itself without dropout, else its dropout in scratch.
template <backend_policy Backend, class T>
matrix_ref<const T> dropped_gradient(Backend& be, matrix_cref<T> g, dropout_site site, layer_workspace<Backend, T>& ws) {
  if (!site.active()) return g;
  const matrix_ref<T> d = dense(detail::reserve<Backend, T>(ws.branch3, g.rows * g.cols), g.rows, g.cols);
  be.copy(g, d);
  be.dropout(d, site.p, site.key);
  return d;
}
}  // namespace detail

/// One decoder layer's self-attention KV cache at one incremental step: `data` [n, capacity, 2Q]
/// (per hypothesis: `capacity` rows of K then V), rows [0, step) filled by earlier steps.
template <class T>
struct kv_cache_step {
  T* data;
  std::size_t capacity;
  std::size_t step;
};

/// What one incremental step attends to in the encoder: the projected encoder-decoder K/V `kv`
/// [blocks keys, 2Q] (K then V), `keys` rows per block, `group` hypotheses per block (the beam:
/// hypothesis i reads block i / group), with padding [blocks keys] or null.
template <class T>
struct step_memory {
  matrix_ref<const T> kv;
  std::size_t keys;
  std::size_t group;
  const unsigned char* padding;
};

/// One encoder layer: x = LN(x + SelfAttn(x)); x = LN(x + FFN(x)) (post-norm, no final LN).
/// Its parameters are what declare() lists.
template <std::size_t D, std::size_t F, std::size_t Q, backend_policy Backend, class T = float>
class encoder_layer {
 public:
  using attention_type = elastic_attention<D, Q, Backend, T>;
  using norm_type = elastic_layernorm<D, Backend, T>;
  using ffn_type = elastic_ffn<D, F, Backend, T>;
  static constexpr std::size_t param_count = attention_type::param_count + ffn_type::param_count + 2 * norm_type::param_count;

  static constexpr std::size_t params_for(std::size_t d, std::size_t f) noexcept {
    return attention_type::params_for(d, d) + ffn_type::params_for(d, f) + 2 * norm_type::params_for(d);
  }

  /// Declares fairseq's tensors of one encoder layer stored at width d and FFN width f, weight
  /// columns paneled at the widths sub-layers read (`embed_choices`, `ffn_choices`; see
  /// paneled_matrix).
  static void declare(const parameter_scope& p, std::size_t d, std::size_t f,
                      std::span<const std::size_t> embed_choices = {}, std::span<const std::size_t> ffn_choices = {}) {
    attention_type::declare(p / "self_attn.", d, d, embed_choices);
    norm_type::declare(p / "self_attn_layer_norm.", d);
    ffn_type::declare(p, d, f, embed_choices, ffn_choices);
    norm_type::declare(p / "final_layer_norm.", d);
  }

  /// Takes the tensors declare() declared.
  explicit encoder_layer(parameter_cursor<T>& c)
      : self_attn_(c / "self_attn."), self_norm_(c / "self_attn_layer_norm."), ffn_(c), final_norm_(c / "final_layer_norm.") {}
  explicit encoder_layer(parameter_cursor<T>&& c) : encoder_layer(c) {}

  /// `p`: [params_for(d, f)] laid out as declare(d, f, embed_choices, ffn_choices) lists it
  /// (the maxima by default).
  explicit encoder_layer(T* p, std::size_t d = D, std::size_t f = F, std::span<const std::size_t> embed_choices = {},
                         std::span<const std::size_t> ffn_choices = {})
      : encoder_layer(parameter_cursor<T>(p, declared_layout<encoder_layer>(d, f, embed_choices, ffn_choices))) {}

  const attention_type& self_attn() const noexcept { return self_attn_; }
  const ffn_type& ffn() const noexcept { return ffn_; }

  /// forward(), keeping what backward() needs in `tape`, with dropout `dr`.
  void forward_train(Backend& be, matrix_ref<const T> x, std::size_t batch, const encoder_layer_sizes& sizes,
                     const unsigned char* key_padding, matrix_ref<T> y, layer_tape<Backend, T>& tape,
                     const layer_dropout& dr = {}) const {
    const std::size_t n = x.rows, d = x.cols;
    const matrix_ref<T> s1 = dense(detail::reserve<Backend, T>(tape.s1, n * d), n, d),
                        y1 = dense(detail::reserve<Backend, T>(tape.y1, n * d), n, d),
                        s2 = dense(detail::reserve<Backend, T>(tape.s2, n * d), n, d);
    tape.dropout = dr;
    self_attn_.self_forward_train(be, x, batch, sizes.heads, masking::none, key_padding, s1, tape.self_attn,
                                  dr.site(layer_dropout::self_probs_site, dr.attention));
    be.dropout(s1, dr.self_out, dr.site(layer_dropout::self_out_site, dr.self_out).key);
    be.add(x, s1);
    self_norm_.forward(be, s1, y1);
    ffn_.forward_train(be, y1, sizes.ffn, s2, tape.ffn, dr.site(layer_dropout::activation_site, dr.activation));
    be.dropout(s2, dr.ffn_out, dr.site(layer_dropout::ffn_out_site, dr.ffn_out).key);
    be.add(y1, s2);
    final_norm_.forward(be, s2, y);
  }

  /// The backward of forward_train(x): dx [n, d] from dy [n, d]; gradients accumulate into
  /// `grad` (laid out as the layer's parameters from its first value).
  void backward(Backend& be, matrix_ref<const T> x, const layer_tape<Backend, T>& tape, const encoder_layer_sizes& sizes,
                matrix_ref<const T> dy, matrix_ref<T> dx, T* grad, layer_workspace<Backend, T>& ws) const {
    const std::size_t n = x.rows, d = x.cols;
    const auto view = [&](const typename Backend::template buffer<T>& b) { return dense(static_cast<const T*>(b.data()), n, d); };
    const auto grad_of = [&](const T* part) { return grad + (part - self_attn_.in_proj_weight()); };
    const layer_dropout& dr = tape.dropout;
    const matrix_ref<T> ds = ws.branch_view(n, d);  // d(s2), then d(s1)
    const matrix_ref<T> dy1 = ws.branch2_view(n, d);
    final_norm_.backward(be, view(tape.s2), dy, ds, grad_of(final_norm_.gamma()));
    ffn_.backward(be, view(tape.y1), tape.ffn, sizes.ffn,
                  detail::dropped_gradient(be, ds, dr.site(layer_dropout::ffn_out_site, dr.ffn_out), ws), dy1,
                  grad_of(ffn_.fc1().weights().data()), ws.ffn);
    be.add(ds, dy1);  // the residual
    self_norm_.backward(be, view(tape.s1), dy1, ds, grad_of(self_norm_.gamma()));
    self_attn_.self_backward(be, x, tape.self_attn,
                             detail::dropped_gradient(be, ds, dr.site(layer_dropout::self_out_site, dr.self_out), ws),
                             dx, grad, ws.attention);
    be.add(ds, dx);
  }

  /// y [batch t, d] = layer(x [batch t, d]) for `batch` sentences of t rows; key_padding
  /// [batch t] or null. y must not alias x.
  void forward(Backend& be, matrix_ref<const T> x, std::size_t batch, const encoder_layer_sizes& sizes,
               const unsigned char* key_padding, matrix_ref<T> y, layer_workspace<Backend, T>& ws) const {
    self_attn_.self_forward(be, x, batch, sizes.heads, masking::none, key_padding, y, ws.attention);
    be.add(x, y);
    self_norm_.forward(be, y, y);
    const matrix_ref<T> b = ws.branch_view(x.rows, x.cols);
    ffn_.forward(be, y, sizes.ffn, b, ws.ffn);
    be.add(y, b);
    final_norm_.forward(be, b, y);
  }

 private:
  attention_type self_attn_;
  norm_type self_norm_;
  ffn_type ffn_;
  norm_type final_norm_;
};

/// One decoder layer: causal self-attention, encoder-decoder attention, FFN, each followed by
/// residual + LayerNorm. Its parameters are what declare() lists.
template <std::size_t D, std::size_t F, std::size_t Q, backend_policy Backend, class T = float>
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

  /// Declares fairseq's tensors of one decoder layer, paneled as the encoder layer's.
  static void declare(const parameter_scope& p, std::size_t d, std::size_t f, std::size_t ende_in,
                      std::span<const std::size_t> embed_choices = {}, std::span<const std::size_t> ffn_choices = {}) {
    attention_type::declare(p / "self_attn.", d, d, embed_choices);
    norm_type::declare(p / "self_attn_layer_norm.", d);
    attention_type::declare(p / "encoder_attn.", ende_in, d, embed_choices);
    norm_type::declare(p / "encoder_attn_layer_norm.", d);
    ffn_type::declare(p, d, f, embed_choices, ffn_choices);
    norm_type::declare(p / "final_layer_norm.", d);
  }

  /// Takes the tensors declare() declared.
  explicit decoder_layer(parameter_cursor<T>& c)
      : self_attn_(c / "self_attn."),
        self_norm_(c / "self_attn_layer_norm."),
        ende_attn_(c / "encoder_attn."),
        ende_norm_(c / "encoder_attn_layer_norm."),
        ffn_(c),
        final_norm_(c / "final_layer_norm.") {}
  explicit decoder_layer(parameter_cursor<T>&& c) : decoder_layer(c) {}

  /// `p`: [params_for(d, f, ende_in)] laid out as declare() lists it (the maxima by default).
  explicit decoder_layer(T* p, std::size_t d = D, std::size_t f = F, std::size_t ende_in = D,
                         std::span<const std::size_t> embed_choices = {}, std::span<const std::size_t> ffn_choices = {})
      : decoder_layer(parameter_cursor<T>(p, declared_layout<decoder_layer>(d, f, ende_in, embed_choices, ffn_choices))) {}

  const attention_type& self_attn() const noexcept { return self_attn_; }
  const attention_type& ende_attn() const noexcept { return ende_attn_; }

  /// Teacher-forced: y [batch t, d] = layer(x [batch t, d]) attending causally to itself and to
  /// `memory` [batch tm, d_enc] (the concatenated encoder outputs of each sentence) with
  /// memory_padding [batch tm] or null. y must not alias x.
  void forward(Backend& be, matrix_ref<const T> x, std::size_t batch, matrix_ref<const T> memory,
               const unsigned char* memory_padding, const decoder_layer_sizes& sizes, matrix_ref<T> y,
               layer_workspace<Backend, T>& ws) const {
    self_attn_.self_forward(be, x, batch, sizes.self_heads, masking::causal, nullptr, y, ws.attention);
    be.add(x, y);
    self_norm_.forward(be, y, y);
    const matrix_ref<T> b = ws.branch_view(x.rows, x.cols);
    ende_attn_.forward(be, y, memory, batch, sizes.ende_heads, masking::none, memory_padding, b, ws.attention);
    be.add(y, b);
    ende_norm_.forward(be, b, y);
    rest_(be, sizes.ffn, y, ws);
  }

  /// One incremental step for n hypotheses: x [n, d] -> y [n, d]. The self-attention K/V of
  /// this step are written into row `cache.step` of each hypothesis's cache and all step + 1
  /// rows are attended; hypothesis i attends to the encoder-decoder K/V block i / memory.group.
  void step(Backend& be, matrix_ref<const T> x, const kv_cache_step<T>& cache, const step_memory<T>& memory,
            const decoder_layer_sizes& sizes, matrix_ref<T> y, layer_workspace<Backend, T>& ws) const {
    HAT_ASSERT(cache.step < cache.capacity, "decoder_layer::step: the KV cache is full");
    const std::size_t n = x.rows, row = cache.capacity * 2 * Q;
    const matrix_ref<T> q = dense(detail::reserve<Backend, T>(ws.attention.q, n * Q), n, Q);
    self_attn_.project(be, x, 0, 1, q);
    self_attn_.project(be, x, 1, 2, matrix_ref<T>{cache.data + cache.step * 2 * Q, n, 2 * Q, row});
    const attention_shape self{n, sizes.self_heads, 1, cache.step + 1, cache.capacity, 1, false,
                               attention_type::scaling(sizes.self_heads)};
    self_attn_.attend(be, self, q, {cache.data, n * cache.capacity, Q, 2 * Q}, {cache.data + Q, n * cache.capacity, Q, 2 * Q},
                      nullptr, y, ws.attention);
    be.add(x, y);
    self_norm_.forward(be, y, y);
    const matrix_ref<T> b = ws.branch_view(n, x.cols);
    ende_attn_.project(be, y, 0, 1, q);
    const attention_shape ende{n, sizes.ende_heads, 1, memory.keys, memory.keys, memory.group, false,
                               attention_type::scaling(sizes.ende_heads)};
    ende_attn_.attend(be, ende, q, {memory.kv.data, memory.kv.rows, Q, memory.kv.ld},
                      {memory.kv.data + Q, memory.kv.rows, Q, memory.kv.ld}, memory.padding, b, ws.attention);
    be.add(y, b);
    ende_norm_.forward(be, b, y);
    rest_(be, sizes.ffn, y, ws);
  }

  /// Teacher-forced forward(), keeping what backward() needs in `tape`, with dropout `dr`.
  void forward_train(Backend& be, matrix_ref<const T> x, std::size_t batch, matrix_ref<const T> memory,
                     const unsigned char* memory_padding, const decoder_layer_sizes& sizes, matrix_ref<T> y,
                     layer_tape<Backend, T>& tape, const layer_dropout& dr = {}) const {
    const std::size_t n = x.rows, d = x.cols;
    const auto buf = [&](typename Backend::template buffer<T>& b) { return dense(detail::reserve<Backend, T>(b, n * d), n, d); };
    const matrix_ref<T> s1 = buf(tape.s1), y1 = buf(tape.y1), s2 = buf(tape.s2), y2 = buf(tape.y2), s3 = buf(tape.s3);
    tape.dropout = dr;
    self_attn_.self_forward_train(be, x, batch, sizes.self_heads, masking::causal, nullptr, s1, tape.self_attn,
                                  dr.site(layer_dropout::self_probs_site, dr.attention));
    be.dropout(s1, dr.self_out, dr.site(layer_dropout::self_out_site, dr.self_out).key);
    be.add(x, s1);
    self_norm_.forward(be, s1, y1);
    ende_attn_.forward_train(be, y1, memory, batch, sizes.ende_heads, masking::none, memory_padding, s2, tape.ende_attn,
                             dr.site(layer_dropout::ende_probs_site, dr.attention));
    be.dropout(s2, dr.ende_out, dr.site(layer_dropout::ende_out_site, dr.ende_out).key);
    be.add(y1, s2);
    ende_norm_.forward(be, s2, y2);
    ffn_.forward_train(be, y2, sizes.ffn, s3, tape.ffn, dr.site(layer_dropout::activation_site, dr.activation));
    be.dropout(s3, dr.ffn_out, dr.site(layer_dropout::ffn_out_site, dr.ffn_out).key);
    be.add(y2, s3);
    final_norm_.forward(be, s3, y);
  }

  /// The backward of forward_train(x, memory): dx [n, d] is set, dmemory [memory rows, d_enc]
  /// accumulates (every decoder layer reads the encoder), gradients accumulate into `grad`.
  void backward(Backend& be, matrix_ref<const T> x, matrix_ref<const T> memory, const layer_tape<Backend, T>& tape,
                const decoder_layer_sizes& sizes, matrix_ref<const T> dy, matrix_ref<T> dx, matrix_ref<T> dmemory, T* grad,
                layer_workspace<Backend, T>& ws) const {
    const std::size_t n = x.rows, d = x.cols;
    const auto view = [&](const typename Backend::template buffer<T>& b) { return dense(static_cast<const T*>(b.data()), n, d); };
    const auto grad_of = [&](const T* part) { return grad + (part - self_attn_.in_proj_weight()); };
    const layer_dropout& dr = tape.dropout;
    const auto dropped = [&](matrix_ref<T> g, layer_dropout::site_id id, float p) {
      return detail::dropped_gradient(be, g, dr.site(id, p), ws);
    };
    const matrix_ref<T> ds = ws.branch_view(n, d);
    const matrix_ref<T> dn = ws.branch2_view(n, d);  // d(normed output) of the block below
    final_norm_.backward(be, view(tape.s3), dy, ds, grad_of(final_norm_.gamma()));
    ffn_.backward(be, view(tape.y2), tape.ffn, sizes.ffn, dropped(ds, layer_dropout::ffn_out_site, dr.ffn_out), dn,
                  grad_of(ffn_.fc1().weights().data()), ws.ffn);
    be.add(ds, dn);
    ende_norm_.backward(be, view(tape.s2), dn, ds, grad_of(ende_norm_.gamma()));
    ende_attn_.backward(be, view(tape.y1), memory, tape.ende_attn, dropped(ds, layer_dropout::ende_out_site, dr.ende_out), dn,
                        dmemory, grad_of(ende_attn_.in_proj_weight()), ws.attention);
    be.add(ds, dn);
    self_norm_.backward(be, view(tape.s1), dn, ds, grad_of(self_norm_.gamma()));
    self_attn_.self_backward(be, x, tape.self_attn, dropped(ds, layer_dropout::self_out_site, dr.self_out), dx, grad,
                             ws.attention);
    be.add(ds, dx);
  }

 private:
  // y = LN(y + FFN(y))
  void rest_(Backend& be, std::size_t ffn, matrix_ref<T> y, layer_workspace<Backend, T>& ws) const {
    const matrix_ref<T> b = ws.branch_view(y.rows, y.cols);
    ffn_.forward(be, y, ffn, b, ws.ffn);
    be.add(y, b);
    final_norm_.forward(be, b, y);
  }

  attention_type self_attn_;
  norm_type self_norm_;
  attention_type ende_attn_;
  norm_type ende_norm_;
  ffn_type ffn_;
  norm_type final_norm_;
};

}  // namespace hat
