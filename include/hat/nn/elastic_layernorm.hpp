// SPDX-License-Identifier: MIT
// elastic_layernorm: LayerNorm over the first d features with gamma[:d], beta[:d], as HAT's
// LayerNormSuper (fairseq/modules/layer_norm.py).
#pragma once

#include <cstddef>

#include <hat/backend/concepts.hpp>
#include <hat/config.hpp>
#include <hat/nn/parameter_list.hpp>

namespace hat {

/// HAT's LayerNormSuper: gamma and beta of width MaxDim in an arena; a sub-layer of width d
/// normalises its d features with gamma[:d] and beta[:d] (eps 1e-5, torch's default).
template <std::size_t MaxDim, backend_policy Backend, class T = float>
class elastic_layernorm {
 public:
  static constexpr std::size_t param_count = 2 * MaxDim;
  static constexpr T eps = T(1e-5);

  static constexpr std::size_t params_for(std::size_t width) noexcept { return 2 * width; }

  /// Declares "weight" gamma [width] (one) and "bias" beta [width] (zero), width <= MaxDim.
  static void declare(const parameter_scope& p, std::size_t width) {
    p.add("weight", {width}, parameter_init::one);
    p.add("bias", {width}, parameter_init::zero);
  }

  /// Takes the tensors declare() declared.
  explicit elastic_layernorm(parameter_cursor<T>& c) {
    const parameter_slot<T> g = c.take("weight"), b = c.take("bias");
    gamma_ = g.data;
    beta_ = b.data;
    width_ = g.rows();
    HAT_ASSERT(width_ <= MaxDim && b.rows() == width_, "elastic_layernorm: storage wider than the maximum");
  }
  explicit elastic_layernorm(parameter_cursor<T>&& c) : elastic_layernorm(c) {}

  /// `params`: [2 width] in backend memory: gamma [width], then beta [width] (width <= MaxDim).
  explicit elastic_layernorm(T* params, std::size_t width = MaxDim)
      : elastic_layernorm(parameter_cursor<T>(params, declared_layout<elastic_layernorm>(width))) {}

  T* gamma() const noexcept { return gamma_; }
  T* beta() const noexcept { return beta_; }

  /// y [n, d] = LayerNorm(x [n, d]) with d = x.cols <= MaxDim; y may alias x.
  void forward(Backend& be, matrix_ref<const T> x, matrix_ref<T> y) const {
    HAT_ASSERT(x.cols <= width_ && x.cols == y.cols && x.rows == y.rows, "elastic_layernorm: shapes differ");
    be.layernorm_forward(x, gamma_, beta_, y, eps);
  }

  /// dx [n, d] from dy [n, d] for forward(x); dgamma[:d], dbeta[:d] accumulate into `grad`
  /// (laid out as the parameters from gamma's first value). dx must not alias dy.
  void backward(Backend& be, matrix_ref<const T> x, matrix_ref<const T> dy, matrix_ref<T> dx, T* grad) const {
    HAT_ASSERT(x.cols <= width_ && dy.cols == x.cols && dx.cols == x.cols, "elastic_layernorm::backward: shapes");
    be.layernorm_backward(x, gamma_, dy, dx, grad, grad + (beta_ - gamma_), eps);
  }

 private:
  T* gamma_ = nullptr;  // [width_]
  T* beta_ = nullptr;   // [width_]
  std::size_t width_ = 0;
};

}  // namespace hat
