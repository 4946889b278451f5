// SPDX-License-Identifier: MIT
// elastic_attention: HAT's MultiheadAttentionSuper forward (fairseq/modules/multihead_attention_super.py):
// fixed-width Q/K/V, heads only reshape.
#pragma once

#include <cmath>
#include <algorithm>  // std::min
#include <cstddef>
#include <span>
#include <utility>
#include <vector>

#include <hat/backend/concepts.hpp>
#include <hat/backend/dropout_mask.hpp>
#include <hat/config.hpp>
#include <hat/nn/paneled_matrix.hpp>
#include <hat/nn/parameter_list.hpp>
#include <hat/nn/scratch.hpp>

namespace hat {

/// Scratch memory of attention calls: the projections and context, the scores of one head.
/// Sized on first use and reused; one per concurrent caller.
template <backend_policy Backend, class T = float>
struct attention_workspace {
  typename Backend::template buffer<T> q, kv, ctx, scores;
};

/// What a training forward keeps for the backward: the projections, the probabilities of
/// every item and head, the context, and the shape.
template <backend_policy Backend, class T = float>
struct attention_tape {
  typename Backend::template buffer<T> q, kv, ctx, probs;
  attention_shape shape;
  bool self = false;  // q, k, v packed in kv as [n, 3 QkvDim]
};

/// Which keys a query may see: every key (the encoder, encoder-decoder attention), or none
/// after its own position (the decoder's self-attention).
enum class masking { none, causal };

/// HAT's MultiheadAttentionSuper. Parameters (in an arena): in_proj W [3 QkvDim, MaxEmbed]
/// with b [3 QkvDim] (Q rows, then K, then V), out_proj W [MaxEmbed, QkvDim] with b [MaxEmbed].
/// A sub-layer with query width d_q and key/value width d_kv (the encoder's for enc-dec
/// attention) uses all 3 QkvDim projection rows, the first d_q (Q) or d_kv (K, V) input
/// columns, the whole in_proj bias, and out_proj W[:d_q, :], b[:d_q]. The head count only
/// reshapes the QkvDim-wide projections: head h owns channels [h QkvDim/H, (h+1) QkvDim/H).
template <std::size_t MaxEmbed, std::size_t QkvDim, backend_policy Backend, class T = float>
class elastic_attention {
 public:
  static constexpr std::size_t param_count = 3 * QkvDim * MaxEmbed + 3 * QkvDim + MaxEmbed * QkvDim + MaxEmbed;
  static constexpr std::size_t qkv_dim = QkvDim;

  static constexpr std::size_t params_for(std::size_t in, std::size_t out) noexcept {
    return 3 * QkvDim * in + 3 * QkvDim + out * QkvDim + out;
  }

  /// Declares fairseq's four tensors with in_proj stored `in` columns wide (paneled at the
  /// widths in `panel_choices`) and out_proj `out` rows: the maxima in a SuperTransformer, less
  /// in a dense exported layer, which stores only what its SubTransformer reads.
  static void declare(const parameter_scope& p, std::size_t in, std::size_t out,
                      std::span<const std::size_t> panel_choices = {}) {
    p.add("in_proj_weight", {3 * QkvDim, in}, parameter_init::xavier_uniform, panel_choices);
    p.add("in_proj_bias", {3 * QkvDim}, parameter_init::zero);
    p.add("out_proj.weight", {out, QkvDim}, parameter_init::xavier_uniform);
    p.add("out_proj.bias", {out}, parameter_init::zero);
  }

  /// Takes the tensors declare() declared, at their stored sizes and panels.
  explicit elastic_attention(parameter_cursor<T>& c) {
    in_w_ = c.take("in_proj_weight").matrix();
    in_b_ = c.take("in_proj_bias").data;
    const parameter_slot<T> w = c.take("out_proj.weight");
    out_w_ = w.data;
    out_b_ = c.take("out_proj.bias").data;
    in_ = in_w_.cols();
    out_ = w.rows();
    HAT_ASSERT(in_w_.rows() == 3 * QkvDim && w.cols() == QkvDim, "elastic_attention: projections of another qkv_dim");
    HAT_ASSERT(in_ <= MaxEmbed && out_ <= MaxEmbed, "elastic_attention: storage larger than the maxima");
  }
  explicit elastic_attention(parameter_cursor<T>&& c) : elastic_attention(c) {}

  /// `params`: [params_for(in, out)] in backend memory, laid out as declare() lists it, in_proj
  /// paneled at `panels` (see paneled_matrix; one panel by default).
  explicit elastic_attention(T* params, std::size_t in = MaxEmbed, std::size_t out = MaxEmbed,
                             const std::vector<std::size_t>& panels = {})
      : elastic_attention(parameter_cursor<T>(params, declared_layout<elastic_attention>(in, out, std::span(panels)))) {
    HAT_ASSERT(panels.empty() || in_w_.bounds() == panels, "elastic_attention: panels must end at the stored width");
  }

  T* in_proj_weight() const noexcept { return in_w_.data(); }  // [3 QkvDim, MaxEmbed] (paneled)
  T* in_proj_bias() const noexcept { return in_b_; }    // [3 QkvDim]
  T* out_proj_weight() const noexcept { return out_w_; }  // [MaxEmbed, QkvDim]
  T* out_proj_bias() const noexcept { return out_b_; }    // [MaxEmbed]

  /// Projections of rows of x [n, d] by in_proj rows [first QkvDim, (first + parts) QkvDim):
  /// y [n, parts QkvDim] (any row stride: a KV cache row, say). parts 3 from 0 = fused Q, K, V
  /// (self-attention); 1 from 0 = Q; 2 from 1 = K and V (encoder-decoder memory).
  void project(Backend& be, matrix_ref<const T> x, std::size_t first, std::size_t parts, matrix_ref<T> y) const {
    HAT_ASSERT(x.cols <= in_ && first + parts <= 3 && y.cols == parts * QkvDim && y.rows == x.rows,
               "elastic_attention::project: shapes differ from [n, d <= MaxEmbed] -> [n, parts qkv_dim]");
    in_w_.product(be, x, first * QkvDim, y);
    be.bias_forward(y, in_b_ + first * QkvDim, false);
  }

  /// out [n, d_q] = ctx [n, QkvDim] W[:d_q, :]^T + b[:d_q].
  void project_out(Backend& be, matrix_ref<const T> ctx, matrix_ref<T> out) const {
    HAT_ASSERT(ctx.cols == QkvDim && out.cols <= out_ && out.rows == ctx.rows, "elastic_attention::project_out: shapes");
    be.gemm(ctx, op::none, matrix_ref<const T>{out_w_, out.cols, QkvDim, QkvDim}, op::transpose, out, T(1), T(0));
    be.bias_forward(out, out_b_, false);
  }

  /// fairseq's scaling of q for `heads` heads: head_dim^-1/2.
  static float scaling(std::size_t heads) {
    HAT_ASSERT(heads > 0 && QkvDim % heads == 0, "elastic_attention: the head count must divide qkv_dim");
    return static_cast<float>(1.0 / std::sqrt(static_cast<double>(QkvDim / heads)));
  }

  /// Batched self-attention: out [batch t, d] over x [batch t, d] (sentence b = rows
  /// [b t, (b+1) t)); masking::causal for the decoder; key_padding [batch t] or null.
  void self_forward(Backend& be, matrix_ref<const T> x, std::size_t batch, std::size_t heads, masking mask,
                    const unsigned char* key_padding, matrix_ref<T> out, attention_workspace<Backend, T>& ws) const {
    HAT_ASSERT(batch > 0 && x.rows % batch == 0, "elastic_attention: rows must be batch x time");
    const std::size_t n = x.rows, t = n / batch;
    const matrix_ref<T> qkv = dense(detail::reserve<Backend, T>(ws.kv, n * 3 * QkvDim), n, 3 * QkvDim);
    project(be, x, 0, 3, qkv);
    const attention_shape s{batch, heads, t, t, t, 1, mask == masking::causal, scaling(heads)};
    core_(be, s, {qkv.data, n, QkvDim, 3 * QkvDim}, {qkv.data + QkvDim, n, QkvDim, 3 * QkvDim},
          {qkv.data + 2 * QkvDim, n, QkvDim, 3 * QkvDim}, key_padding, out, ws);
  }

  /// Batched attention of queries [batch tq, d_q] over a memory [batch tk, d_kv] (encoder-
  /// decoder attention; memory rows of sentence b are [b tk, (b+1) tk)); key_padding
  /// [batch tk] or null. masking::causal treats the queries as the last tq of tk positions.
  void forward(Backend& be, matrix_ref<const T> query, matrix_ref<const T> memory, std::size_t batch, std::size_t heads,
               masking mask, const unsigned char* key_padding, matrix_ref<T> out, attention_workspace<Backend, T>& ws) const {
    const cross_inputs in = cross_project_(be, query, memory, batch, heads, mask, false, ws.q, ws.kv);
    core_(be, in.shape, in.q, in.k, in.v, key_padding, out, ws);
  }

  /// One sentence: out [tq, d_q] = attention of query [tq, d_q] over memory [tk, d_kv].
  void forward(Backend& be, matrix_ref<const T> query, matrix_ref<const T> memory, std::size_t heads, masking mask,
               const unsigned char* key_padding, matrix_ref<T> out, attention_workspace<Backend, T>& ws) const {
    forward(be, query, memory, 1, heads, mask, key_padding, out, ws);
  }

  /// The attention core and out_proj on projected q [batch tq, QkvDim] and k, v views laid out
  /// as `s` says (the incremental decoder's caches): out [batch tq, d_q].
  void attend(Backend& be, const attention_shape& s, matrix_ref<const T> q, matrix_ref<const T> k,
              matrix_ref<const T> v, const unsigned char* key_padding, matrix_ref<T> out,
              attention_workspace<Backend, T>& ws) const {
    core_(be, s, q, k, v, key_padding, out, ws);
  }

  // --- training: forwards that keep a tape, and their backwards -------------------------
  // Gradients go to `grad`, laid out as the parameters from in_proj W's first value (panels
  // included), accumulated; only the slices the sub-layer read receive any.

  /// self_forward, keeping what self_backward needs; `probs_dropout` drops attention
  /// probabilities (fairseq's attention_dropout; none by default).
  void self_forward_train(Backend& be, matrix_ref<const T> x, std::size_t batch, std::size_t heads, masking mask,
                          const unsigned char* key_padding, matrix_ref<T> out, attention_tape<Backend, T>& tape,
                          dropout_site probs_dropout = {}) const {
    HAT_ASSERT(batch > 0 && x.rows % batch == 0, "elastic_attention: rows must be batch x time");
    const std::size_t n = x.rows, t = n / batch;
    const matrix_ref<T> qkv = dense(detail::reserve<Backend, T>(tape.kv, n * 3 * QkvDim), n, 3 * QkvDim);
    project(be, x, 0, 3, qkv);
    tape.self = true;
    tape.shape = attention_shape{batch, heads, t, t, t, 1, mask == masking::causal, scaling(heads), true, probs_dropout.p, probs_dropout.key};
    train_core_(be, {qkv.data, n, QkvDim, 3 * QkvDim}, {qkv.data + QkvDim, n, QkvDim, 3 * QkvDim},
                {qkv.data + 2 * QkvDim, n, QkvDim, 3 * QkvDim}, key_padding, out, tape);
  }

  /// The backward of self_forward_train(x): dx [batch t, d] from dy [batch t, d].
  void self_backward(Backend& be, matrix_ref<const T> x, const attention_tape<Backend, T>& tape, matrix_ref<const T> dy,
                     matrix_ref<T> dx, T* grad, attention_workspace<Backend, T>& ws) const {
    HAT_ASSERT(tape.self && x.rows == dy.rows, "elastic_attention::self_backward: not the tape of a self_forward_train");
    const std::size_t n = x.rows;
    const matrix_ref<T> dqkv = dense(detail::reserve<Backend, T>(ws.kv, n * 3 * QkvDim), n, 3 * QkvDim);
    be.fill(dqkv, T(0));
    const T* kv = tape.kv.data();
    core_backward_(be, {kv, n, QkvDim, 3 * QkvDim}, {kv + QkvDim, n, QkvDim, 3 * QkvDim}, {kv + 2 * QkvDim, n, QkvDim, 3 * QkvDim},
                   tape, dy, {dqkv.data, n, QkvDim, 3 * QkvDim}, {dqkv.data + QkvDim, n, QkvDim, 3 * QkvDim},
                   {dqkv.data + 2 * QkvDim, n, QkvDim, 3 * QkvDim}, grad, ws);
    in_backward_(be, dqkv, x, 0, dx, T(0), grad);
  }

  /// forward(query, memory, batch, ...), keeping what backward needs.
  void forward_train(Backend& be, matrix_ref<const T> query, matrix_ref<const T> memory, std::size_t batch, std::size_t heads,
                     masking mask, const unsigned char* key_padding, matrix_ref<T> out, attention_tape<Backend, T>& tape,
                     dropout_site probs_dropout = {}) const {
    const cross_inputs in = cross_project_(be, query, memory, batch, heads, mask, true, tape.q, tape.kv);
    tape.self = false;
    tape.shape = in.shape;
    tape.shape.dropout = probs_dropout.p;
    tape.shape.dropout_key = probs_dropout.key;
    train_core_(be, in.q, in.k, in.v, key_padding, out, tape);
  }

  /// The backward of forward_train(query, memory): dquery = ..., dmemory += ... (accumulates:
  /// several decoder layers read one encoder output).
  void backward(Backend& be, matrix_ref<const T> query, matrix_ref<const T> memory, const attention_tape<Backend, T>& tape,
                matrix_ref<const T> dy, matrix_ref<T> dquery, matrix_ref<T> dmemory, T* grad,
                attention_workspace<Backend, T>& ws) const {
    HAT_ASSERT(!tape.self, "elastic_attention::backward: not the tape of a forward_train");
    const std::size_t n = query.rows, m = memory.rows;
    const matrix_ref<T> dq = dense(detail::reserve<Backend, T>(ws.q, n * QkvDim), n, QkvDim);
    const matrix_ref<T> dkv = dense(detail::reserve<Backend, T>(ws.kv, m * 2 * QkvDim), m, 2 * QkvDim);
    be.fill(dkv, T(0));
    const T* kv = tape.kv.data();
    core_backward_(be, dense(tape.q.data(), n, QkvDim), {kv, m, QkvDim, 2 * QkvDim}, {kv + QkvDim, m, QkvDim, 2 * QkvDim}, tape,
                   dy, dq, {dkv.data, m, QkvDim, 2 * QkvDim}, {dkv.data + QkvDim, m, QkvDim, 2 * QkvDim}, grad, ws);
    in_backward_(be, dq, query, 0, dquery, T(0), grad);
    in_backward_(be, dkv, memory, QkvDim, dmemory, T(1), grad);
  }

 private:
  struct cross_inputs {
    attention_shape shape;
    matrix_ref<const T> q, k, v;
  };
  // Encoder-decoder inputs: q [n, QkvDim] into q_buf, K and V [m, 2 QkvDim] into kv_buf.
  cross_inputs cross_project_(Backend& be, matrix_ref<const T> query, matrix_ref<const T> memory, std::size_t batch,
                              std::size_t heads, masking mask, bool save_probs, typename Backend::template buffer<T>& q_buf,
                              typename Backend::template buffer<T>& kv_buf) const {
    HAT_ASSERT(batch > 0 && query.rows % batch == 0 && memory.rows % batch == 0,
               "elastic_attention: rows must be batch x time");
    const std::size_t tq = query.rows / batch, tk = memory.rows / batch, m = memory.rows;
    const matrix_ref<T> q = dense(detail::reserve<Backend, T>(q_buf, query.rows * QkvDim), query.rows, QkvDim);
    const matrix_ref<T> kv = dense(detail::reserve<Backend, T>(kv_buf, m * 2 * QkvDim), m, 2 * QkvDim);
    project(be, query, 0, 1, q);
    project(be, memory, 1, 2, kv);
    return {attention_shape{batch, heads, tq, tk, tk, 1, mask == masking::causal, scaling(heads), save_probs}, q,
            {kv.data, m, QkvDim, 2 * QkvDim}, {kv.data + QkvDim, m, QkvDim, 2 * QkvDim}};
  }

  void train_core_(Backend& be, matrix_ref<const T> q, matrix_ref<const T> k, matrix_ref<const T> v,
                   const unsigned char* key_padding, matrix_ref<T> out, attention_tape<Backend, T>& tape) const {
    const matrix_ref<T> ctx = dense(detail::reserve<Backend, T>(tape.ctx, q.rows * QkvDim), q.rows, QkvDim);
    be.attention_forward(tape.shape, q, k, v, key_padding, ctx,
                         detail::reserve<Backend, T>(tape.probs, attention_scratch(tape.shape)));
    project_out(be, ctx, out);
  }
  // out_proj and the attention core backward: dq set, dk and dv accumulated.
  void core_backward_(Backend& be, matrix_ref<const T> q, matrix_ref<const T> k, matrix_ref<const T> v,
                      const attention_tape<Backend, T>& tape, matrix_ref<const T> dy, matrix_ref<T> dq, matrix_ref<T> dk,
                      matrix_ref<T> dv, T* grad, attention_workspace<Backend, T>& ws) const {
    const std::size_t n = dy.rows, d = dy.cols;
    [[maybe_unused]] const auto pin = pin_operand(be, dy);  // read by out_proj's weight and input gradients
    T* g_out_w = grad + (out_w_ - in_w_.data());
    T* g_out_b = grad + (out_b_ - in_w_.data());
    const matrix_ref<const T> ctx = dense(tape.ctx.data(), n, QkvDim);
    be.gemm(dy, op::transpose, ctx, op::none, matrix_ref<T>{g_out_w, d, QkvDim, QkvDim}, T(1), T(1));  // dW_out[:d]
    be.bias_backward(dy, g_out_b, true);
    const matrix_ref<T> dctx = dense(detail::reserve<Backend, T>(ws.ctx, n * QkvDim), n, QkvDim);
    be.gemm(dy, op::none, matrix_ref<const T>{out_w_, d, QkvDim, QkvDim}, op::none, dctx, T(1), T(0));  // dctx = dy W_out
    be.attention_backward(tape.shape, q, k, v, tape.probs.data(), dctx, dq, dk, dv,
                          detail::reserve<Backend, T>(ws.scores, attention_backward_scratch(tape.shape)));
  }
  // in_proj rows [first, first + dp.cols) backward for input x: dW, db accumulate; dx = dp W (+ beta dx).
  void in_backward_(Backend& be, matrix_ref<const T> dp, matrix_ref<const T> x, std::size_t first, matrix_ref<T> dx,
                    T beta, T* grad) const {
    [[maybe_unused]] const auto pin = pin_operand(be, dp);
    in_w_.on(grad).accumulate_outer(be, dp, x, first);
    be.bias_backward(dp, grad + (in_b_ - in_w_.data()) + first, true);
    if (dx.data) in_w_.product_backward_input(be, dp, first, dx, beta);
  }

  void core_(Backend& be, const attention_shape& s, matrix_ref<const T> q, matrix_ref<const T> k, matrix_ref<const T> v,
             const unsigned char* key_padding, matrix_ref<T> out, attention_workspace<Backend, T>& ws) const {
    HAT_ASSERT(out.rows == q.rows, "elastic_attention: out must have one row per query");
    const matrix_ref<T> ctx = dense(detail::reserve<Backend, T>(ws.ctx, q.rows * QkvDim), q.rows, QkvDim);
    be.attention_forward(s, q, k, v, key_padding, ctx, detail::reserve<Backend, T>(ws.scores, attention_scratch(s)));
    project_out(be, ctx, out);
  }

  paneled_matrix<T> in_w_;  // [3 QkvDim, in_]
  T* in_b_ = nullptr;   // [3 QkvDim]
  T* out_w_ = nullptr;  // [out_, QkvDim]
  T* out_b_ = nullptr;  // [out_]
  std::size_t in_ = 0, out_ = 0;  // stored in_proj columns, out_proj rows
};

}  // namespace hat
