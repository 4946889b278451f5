// SPDX-License-Identifier: MIT
// The backend policy: the primitives layers are written against, whatever memory they run in.
#pragma once

#include <concepts>
#include <cstddef>

namespace hat {

/// A row-major matrix view into backend memory: `rows` x `cols`, row stride `ld` >= cols. An
/// elastic slice of a [MaxOut, MaxIn] weight is `{w, out, in, MaxIn}`: no copy.
template <class T>
struct matrix_ref {
  T* data;
  std::size_t rows;
  std::size_t cols;
  std::size_t ld;

  operator matrix_ref<const T>() const noexcept { return {data, rows, cols, ld}; }  // NOLINT
};

template <class T>
matrix_ref<T> dense(T* data, std::size_t rows, std::size_t cols) noexcept {
  return {data, rows, cols, cols};
}

/// Whether a GEMM operand is used as stored or transposed.
enum class op { none, transpose };

/// What every backend provides (hat::cpu today; hat::cuda follows). Pointers and views refer
/// to the backend's memory; `buffer<T>` owns such memory. The element-wise primitives are the
/// ones dense layers, LayerNorm and their training need; attention and losses join them with
/// the SuperTransformer.
template <class B>
concept backend_policy = requires(B& b, matrix_ref<const float> a, matrix_ref<float> c, float* p,
                                  const float* cp, std::size_t n) {
  typename B::template buffer<float>;
  // C = alpha * op(A) * op(B) + beta * C
  b.gemm(a, op::none, a, op::transpose, c, 1.0f, 0.0f);
  // y[i, :] += bias; then max(y, 0) when relu
  b.bias_forward(c, cp, true);
  // y = LayerNorm(x) over each row's cols features, with gamma and beta
  b.layernorm_forward(a, cp, cp, c, 1e-5f);
  // y[i, :] = scale * table[tokens[i], :] + positions[i, :] (host token ids)
  b.embedding_forward(a, static_cast<const int*>(nullptr), 1.0f, a, c);
  // masked row softmax of attention scores, in place (causal offset, key padding or null)
  b.softmax_forward(c, true, n, static_cast<const unsigned char*>(nullptr));
  // g[i, j] = 0 where act[i, j] <= 0 (ReLU backward, in place)
  b.relu_backward(c, a);
  // bias_grad[j] (+)= sum_i g[i, j]
  b.bias_backward(a, p, false);
  // one Adam update of n parameters (fairseq-style decoupled weight decay)
  b.adam_step(p, cp, p, p, n, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.0f, std::size_t{1});
  b.upload(cp, n, p);
  b.download(cp, n, p);
  b.synchronize();
};

}  // namespace hat
