// SPDX-License-Identifier: MIT
// elastic_attention: HAT's MultiheadAttentionSuper forward (hat-spec 3.4): fixed-width Q/K/V, heads only reshape.
#pragma once

#include <cmath>
#include <algorithm>  // std::min
#include <cstddef>

#include <hat/backend/concepts.hpp>
#include <hat/config.hpp>

namespace hat {

/// Scratch memory of one attention call: Q, K, V and the context [rows, QkvDim], the scores
/// [tq, tk]. Sized on first use and reused; one per concurrent caller.
template <class Backend, class T = float>
struct attention_workspace {
  typename Backend::template buffer<T> q, k, v, ctx, scores;
};

/// HAT's MultiheadAttentionSuper. Parameters (in an arena): in_proj W [3 QkvDim, MaxEmbed]
/// with b [3 QkvDim] (Q rows, then K, then V), out_proj W [MaxEmbed, QkvDim] with b [MaxEmbed].
/// A sub-layer with query width d_q and key/value width d_kv (the encoder's for enc-dec
/// attention) uses all 3 QkvDim projection rows, the first d_q (Q) or d_kv (K, V) input
/// columns, the whole in_proj bias, and out_proj W[:d_q, :], b[:d_q]. The head count only
/// reshapes the QkvDim-wide projections: head h owns channels [h QkvDim/H, (h+1) QkvDim/H).
template <std::size_t MaxEmbed, std::size_t QkvDim, class Backend, class T = float>
class elastic_attention {
 public:
  static constexpr std::size_t param_count = 3 * QkvDim * MaxEmbed + 3 * QkvDim + MaxEmbed * QkvDim + MaxEmbed;

  /// `params`: [param_count] in backend memory, laid out as above.
  explicit elastic_attention(T* params) noexcept
      : in_w_(params),
        in_b_(params + 3 * QkvDim * MaxEmbed),
        out_w_(in_b_ + 3 * QkvDim),
        out_b_(out_w_ + MaxEmbed * QkvDim) {}

  T* in_proj_weight() const noexcept { return in_w_; }  // [3 QkvDim, MaxEmbed]
  T* in_proj_bias() const noexcept { return in_b_; }    // [3 QkvDim]
  T* out_proj_weight() const noexcept { return out_w_; }  // [MaxEmbed, QkvDim]
  T* out_proj_bias() const noexcept { return out_b_; }    // [MaxEmbed]

  /// out [tq, d_q] = attention of query [tq, d_q] over memory [tk, d_kv] with `heads` heads.
  /// `causal`: query i sees keys j <= i + (tk - tq) (decoder self-attention, also
  /// incrementally). `key_padding` [tk] (or null): non-zero keys are ignored.
  void forward(Backend& be, matrix_ref<const T> query, matrix_ref<const T> memory, std::size_t heads, bool causal,
               const unsigned char* key_padding, matrix_ref<T> out, attention_workspace<Backend, T>& ws) const {
    HAT_ASSERT(heads > 0 && QkvDim % heads == 0, "elastic_attention: the head count must divide qkv_dim");
    HAT_ASSERT(query.cols <= MaxEmbed && memory.cols <= MaxEmbed, "elastic_attention: input wider than the super layer");
    HAT_ASSERT(out.rows == query.rows && out.cols == query.cols, "elastic_attention: out must be [tq, d_q]");
    const std::size_t tq = query.rows, tk = memory.rows, hd = QkvDim / heads;
    reserve_(ws.q, tq * QkvDim);
    reserve_(ws.ctx, tq * QkvDim);
    reserve_(ws.k, tk * QkvDim);
    reserve_(ws.v, tk * QkvDim);
    reserve_(ws.scores, tq * tk);
    const matrix_ref<T> q = dense(ws.q.data(), tq, QkvDim), k = dense(ws.k.data(), tk, QkvDim),
                        v = dense(ws.v.data(), tk, QkvDim), ctx = dense(ws.ctx.data(), tq, QkvDim);
    project_(be, query, 0, q);
    project_(be, memory, 1, k);
    project_(be, memory, 2, v);
    // fairseq scales q by head_dim^-1/2; folding it into the score GEMM's alpha is the same product.
    const T scaling = static_cast<T>(1.0 / std::sqrt(static_cast<double>(hd)));
    const matrix_ref<T> s = dense(ws.scores.data(), tq, tk);
    for (std::size_t h = 0; h < heads; ++h) {
      const matrix_ref<const T> qh{q.data + h * hd, tq, hd, QkvDim}, kh{k.data + h * hd, tk, hd, QkvDim},
          vh{v.data + h * hd, tk, hd, QkvDim};
      be.gemm(qh, op::none, kh, op::transpose, s, scaling, T(0));  // [tq, tk]
      be.softmax_forward(s, causal, tk - std::min(tk, tq), key_padding);
      be.gemm(matrix_ref<const T>(s), op::none, vh, op::none, matrix_ref<T>{ctx.data + h * hd, tq, hd, QkvDim}, T(1),
              T(0));
    }
    // out_proj: W[:d_q, :QkvDim] (ld QkvDim), b[:d_q]
    be.gemm(matrix_ref<const T>(ctx), op::none, matrix_ref<const T>{out_w_, out.cols, QkvDim, QkvDim}, op::transpose,
            out, T(1), T(0));
    be.bias_forward(out, out_b_, false);
  }

 private:
  // part 0/1/2 = Q/K/V: y [rows, QkvDim] = x [rows, d] W[part rows, :d]^T + b[part rows]
  void project_(Backend& be, matrix_ref<const T> x, std::size_t part, matrix_ref<T> y) const {
    const matrix_ref<const T> w{in_w_ + part * QkvDim * MaxEmbed, QkvDim, x.cols, MaxEmbed};
    be.gemm(x, op::none, w, op::transpose, y, T(1), T(0));
    be.bias_forward(y, in_b_ + part * QkvDim, false);
  }
  static void reserve_(typename Backend::template buffer<T>& b, std::size_t n) {
    if (b.size() < n) b = typename Backend::template buffer<T>(n);
  }

  T* in_w_;   // [3 QkvDim, MaxEmbed]
  T* in_b_;   // [3 QkvDim]
  T* out_w_;  // [MaxEmbed, QkvDim]
  T* out_b_;  // [MaxEmbed]
};

}  // namespace hat
