// SPDX-License-Identifier: MIT
// elastic_layernorm: LayerNorm over the first d features with gamma[:d], beta[:d], as HAT's
// LayerNormSuper (fairseq/modules/layer_norm.py).
#pragma once

#include <cstddef>

#include <hat/backend/concepts.hpp>
#include <hat/config.hpp>

namespace hat {

/// HAT's LayerNormSuper: gamma and beta of width MaxDim in an arena; a sub-layer of width d
/// normalises its d features with gamma[:d] and beta[:d] (eps 1e-5, torch's default).
template <std::size_t MaxDim, backend_policy Backend, class T = float>
class elastic_layernorm {
 public:
  static constexpr std::size_t param_count = 2 * MaxDim;
  static constexpr T eps = T(1e-5);

  static constexpr std::size_t params_for(std::size_t width) noexcept { return 2 * width; }

  /// `params`: [2 width] in backend memory: gamma [width], then beta [width] (width <= MaxDim).
  explicit elastic_layernorm(T* params, std::size_t width = MaxDim) : gamma_(params), beta_(params + width), width_(width) {
    HAT_ASSERT(width <= MaxDim, "elastic_layernorm: storage wider than the maximum");
  }

  T* gamma() const noexcept { return gamma_; }
  T* beta() const noexcept { return beta_; }

  /// y [n, d] = LayerNorm(x [n, d]) with d = x.cols <= MaxDim; y may alias x.
  void forward(Backend& be, matrix_ref<const T> x, matrix_ref<T> y) const {
    HAT_ASSERT(x.cols <= width_ && x.cols == y.cols && x.rows == y.rows, "elastic_layernorm: shapes differ");
    be.layernorm_forward(x, gamma_, beta_, y, eps);
  }

  /// dx [n, d] from dy [n, d] for forward(x); dgamma[:d], dbeta[:d] accumulate into `grad`
  /// ([2 width], laid out as the parameters). dx must not alias dy.
  void backward(Backend& be, matrix_ref<const T> x, matrix_ref<const T> dy, matrix_ref<T> dx, T* grad) const {
    HAT_ASSERT(x.cols <= width_ && dy.cols == x.cols && dx.cols == x.cols, "elastic_layernorm::backward: shapes");
    be.layernorm_backward(x, gamma_, dy, dx, grad, grad + width_, eps);
  }

 private:
  T* gamma_;  // [width_]
  T* beta_;   // [width_]
  std::size_t width_;
};

}  // namespace hat
