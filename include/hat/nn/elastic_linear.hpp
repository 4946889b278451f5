// SPDX-License-Identifier: MIT
// elastic_linear: a linear layer sized at its maxima whose sub-layers are corner slices (hat-spec 3.1).
#pragma once

#include <cstddef>

#include <hat/backend/concepts.hpp>
#include <hat/config.hpp>

namespace hat {

/// HAT's LinearSuper: a super weight W [MaxOut, MaxIn] (PyTorch's layout) and bias b [MaxOut]
/// living in an arena; a sub-layer with `in` inputs and `out` outputs uses the top-left corner
/// W[:out, :in] and b[:out]. The corner is a view with leading dimension MaxIn, handed straight
/// to the backend's GEMM: a SubTransformer never copies a weight.
template <std::size_t MaxIn, std::size_t MaxOut, class Backend, class T = float>
class elastic_linear {
 public:
  static constexpr std::size_t max_in = MaxIn;
  static constexpr std::size_t max_out = MaxOut;
  static constexpr std::size_t param_count = MaxOut * MaxIn + MaxOut;

  /// `params`: [param_count] in backend memory: W [MaxOut, MaxIn], then b [MaxOut].
  explicit elastic_linear(T* params) noexcept : w_(params), b_(params + MaxOut * MaxIn) {}

  /// The active weight block W[:out, :in]: [out, in], ld = MaxIn.
  matrix_ref<T> weight(std::size_t in, std::size_t out) const {
    HAT_ASSERT(in <= MaxIn && out <= MaxOut, "elastic_linear: sub-layer larger than the super layer");
    return {w_, out, in, MaxIn};
  }
  T* bias() const noexcept { return b_; }  // [MaxOut]; a sub-layer reads the first `out`

  /// y [n, out] = x [n, in] W[:out, :in]^T + b[:out]. The widths come from x and y.
  void forward(Backend& be, matrix_ref<const T> x, matrix_ref<T> y) const {
    HAT_ASSERT(x.rows == y.rows, "elastic_linear::forward: x and y differ in rows");
    be.gemm(x, op::none, matrix_ref<const T>(weight(x.cols, y.cols)), op::transpose, y, T(1), T(0));
    be.bias_forward(y, b_, false);
  }

 private:
  T* w_;  // [MaxOut, MaxIn]
  T* b_;  // [MaxOut]
};

}  // namespace hat
