// SPDX-License-Identifier: MIT
// The backend policy: the primitives layers are written against, whatever memory they run in.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <hat/config.hpp>

namespace hat {

/// A row-major matrix view into backend memory: `rows` x `cols`, row stride `ld` >= cols. An
/// elastic slice of a [MaxOut, MaxIn] weight is `{w, out, in, MaxIn}`: no copy.
template <class T>
struct matrix_ref {
  T* data;
  std::size_t rows;
  std::size_t cols;
  std::size_t ld;

  // A template, so that matrix_ref<const T> declares no conversion to itself (nvcc warns).
  template <class U = T>
    requires(!std::is_const_v<U>)
  operator matrix_ref<const U>() const noexcept {  // NOLINT
    return {data, rows, cols, ld};
  }
};

/// A read-only view as the primitives take it: std::type_identity_t keeps it out of deducing T,
/// so a caller passes a matrix_ref<T> (or <const T>) as it is and it converts here, no cast.
template <class T>
using matrix_cref = std::type_identity_t<matrix_ref<const T>>;

template <class T>
matrix_ref<T> dense(T* data, std::size_t rows, std::size_t cols) noexcept {
  return {data, rows, cols, cols};
}

/// Whether a GEMM operand is used as stored or transposed.
enum class op { none, transpose };

/// C [m, n] = op(A) [m, k] op(B) [k, n]: the sizes of a product, checked (every backend's gemm).
struct gemm_dims {
  std::size_t m, n, k;
  template <class T>
  gemm_dims(matrix_ref<const T> a, op ta, matrix_ref<const T> b, op tb, matrix_ref<T> c)
      : m(ta == op::none ? a.rows : a.cols), n(tb == op::none ? b.cols : b.rows), k(ta == op::none ? a.cols : a.rows) {
    HAT_ASSERT((tb == op::none ? b.rows : b.cols) == k, "gemm: inner dimensions differ");
    HAT_ASSERT(c.rows == m && c.cols == n, "gemm: output shape differs from op(A) * op(B)");
  }
};

/// The shape of one batched attention core (softmax(scaling q k^T) v per item and head).
/// Item i's queries are rows [i tq, (i+1) tq) of q; its keys and values are rows
/// [g kv_stride, g kv_stride + tk) of k and v with g = i / kv_group, so the hypotheses of one
/// sentence share that sentence's keys (kv_group = beam) and a KV cache can hold more rows
/// than are filled (kv_stride = its capacity). Head h owns channels [h Q/heads, (h+1) Q/heads).
struct attention_shape {
  std::size_t batch = 1;      // items
  std::size_t heads = 1;
  std::size_t tq = 1;         // query rows per item
  std::size_t tk = 1;         // keys per item
  std::size_t kv_stride = 1;  // rows between consecutive key blocks
  std::size_t kv_group = 1;   // items sharing one key block
  bool causal = false;        // query r sees keys j <= r + (tk - tq)
  float scaling = 1.0f;       // applied to q k^T (fairseq: head_dim^-1/2)
  bool save_probs = false;    // keep every item's and head's probabilities (for the backward)
  float dropout = 0;          // attention-probability dropout rate (training; 0: none)
  std::uint64_t dropout_key = 0;  // its mask: element (item, head, r, j) of the probabilities (dropout_keeps)
};

/// What the library asks of a backend (hat::cpu, hat::cuda, hat::cuda_emulator), and nothing
/// more: every template of nn/, decode/, latency/, train/, predictor/ and tensor/ takes a
/// `backend_policy Backend`. Pointers and views refer to the backend's memory; `buffer<T>` owns
/// such memory; token ids, positions and indices are host arrays. Listed in float; the same
/// calls in double are what the finite-difference tests instantiate. A backend may offer more:
/// `elapsed_ms(f)` (a device timer, used by measure_latency when present), and the primitives
/// its own tests check (`softmax_forward`, `label_smoothed_loss_backward`).
template <class B>
concept backend_policy = requires(B& b, matrix_ref<const float> a, matrix_ref<float> c, float* p,
                                  const float* cp, std::size_t n, const int* ids, double& d) {
  typename B::template buffer<float>;
  // C = alpha * op(A) * op(B) + beta * C
  b.gemm(a, op::none, a, op::transpose, c, 1.0f, 0.0f);
  // y[i, :] += bias; then max(y, 0) when relu
  b.bias_forward(c, cp, true);
  // y += x
  b.add(a, c);
  // y = x (same shapes, any strides)
  b.copy(a, c);
  // y = value
  b.fill(c, 0.0f);
  // y[i, j] = keep(key, i cols + j) ? y[i, j] / (1 - p) : 0 (dropout_keeps); forward and backward alike
  b.dropout(c, 0.1f, std::uint64_t{1});
  // y[i, :] = x[ids[i], :]
  b.gather_rows(a, ids, c);
  // y = LayerNorm(x) over each row's cols features, with gamma and beta
  b.layernorm_forward(a, cp, cp, c, 1e-5f);
  // y[i, :] = scale * table[tokens[i], :] + positions[pos[i], :]; rows with pos[i] < 0 are 0
  b.embedding_forward(a, ids, 1.0f, a, ids, c);
  // ctx = attention core over q, k, v (shape above; key padding per key block or null);
  // `p` is scratch of at least attention_scratch(shape) floats
  b.attention_forward(attention_shape{}, a, a, a, static_cast<const unsigned char*>(nullptr), c, p);
  // dq = attention backward (probabilities saved by the forward in `p`); dk, dv accumulate
  b.attention_backward(attention_shape{}, a, a, a, cp, a, c, c, c, p);
  // sum over rows of fairseq's label-smoothed loss and NLL (natural log) of logits [n, V]
  // against host targets [n]; rows whose target is `ignore` count nothing
  b.label_smoothed_loss(a, ids, 0.1, 1, d, d);
  // dx = LayerNorm backward of x given dy; dgamma, dbeta accumulate
  b.layernorm_backward(a, cp, a, c, p, p, 1e-5f);
  // dtable[tokens[i], :] += scale * dy[i, :] for rows with pos[i] >= 0
  b.embedding_backward(ids, ids, 1.0f, a, c);
  // the loss and dlogits = scale * (softmax(logits) - (1 - eps) onehot(target) - eps / V) (0 for
  // ignored rows) at once, the gradient replacing the logits in place
  b.label_smoothed_loss_gradient(c, ids, 0.1, 1, 1.0f, d, d);
  // g[i, j] = 0 where act[i, j] <= 0 (ReLU backward, in place)
  b.relu_backward(c, a);
  // bias_grad[j] (+)= sum_i g[i, j]
  b.bias_backward(a, p, false);
  // d = sum of squares of n values (for gradient-norm clipping); p[0, n) *= factor
  b.sum_squares(cp, n, d);
  b.scale(p, n, 1.0f);
  // one Adam update of n parameters (fairseq-style decoupled weight decay)
  b.adam_step(p, cp, p, p, n, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.0f, std::size_t{1});
  b.upload(cp, n, p);
  b.download(cp, n, p);
  b.synchronize();
};

/// Scratch floats attention_forward needs: one item and head's scores, or with save_probs
/// every item's and head's probabilities [batch, heads, tq, tk] (attention_backward reads them)
/// plus, with dropout, one head's dropped probabilities.
inline std::size_t attention_scratch(const attention_shape& s) noexcept {
  return s.save_probs ? s.batch * s.heads * s.tq * s.tk + (s.dropout > 0 ? s.tq * s.tk : 0) : s.tq * s.tk;
}

/// Scratch floats attention_backward needs: one item and head's [tq, tk], twice with dropout.
inline std::size_t attention_backward_scratch(const attention_shape& s) noexcept {
  return (s.dropout > 0 ? 2 : 1) * s.tq * s.tk;
}

namespace detail {
struct no_pin {};
}  // namespace detail

/// An optional capability: while the result lives, the products `be` runs may reuse what they
/// derive from x (the CPU backend's bf16 products: x's bf16 conversion); x must not change
/// meanwhile. A backend without pin_operand(matrix_ref<const T>) gets an empty guard.
template <class Backend, class T>
[[nodiscard]] auto pin_operand(const Backend& be, matrix_ref<const T> x) {
  if constexpr (requires { be.pin_operand(x); })
    return be.pin_operand(x);
  else
    return detail::no_pin{};
}

/// An optional capability: calls part(i0, i1) on ranges [i0, i1) that cover [0, count), over
/// the host threads the backend has for such work (the CPU backend's worker pool, set by
/// set_threads), each range whole on one thread; a backend without host_parts(count, part) gets
/// one call part(0, count). For host work between a backend's products (the beam search's
/// ranking): a part must not throw, must not run the backend's products, and must give the same
/// results whatever the ranges.
template <class Backend, class Part>
void host_parts(const Backend& be, std::size_t count, Part&& part) {
  if constexpr (requires { be.host_parts(count, part); })
    be.host_parts(count, part);
  else if (count > 0)
    part(std::size_t{0}, count);
}

}  // namespace hat
