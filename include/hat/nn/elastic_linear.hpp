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
/// to the backend's GEMM: a SubTransformer never copies a weight. The storage may also be
/// smaller than the maxima (a dense exported SubTransformer): `in`/`out` given at construction.
template <std::size_t MaxIn, std::size_t MaxOut, class Backend, class T = float>
class elastic_linear {
 public:
  static constexpr std::size_t max_in = MaxIn;
  static constexpr std::size_t max_out = MaxOut;
  static constexpr std::size_t param_count = MaxOut * MaxIn + MaxOut;

  static constexpr std::size_t params_for(std::size_t in, std::size_t out) noexcept { return out * in + out; }

  /// `params`: [params_for(in, out)] in backend memory: W [out, in], then b [out] (in <= MaxIn,
  /// out <= MaxOut; the maxima by default).
  explicit elastic_linear(T* params, std::size_t in = MaxIn, std::size_t out = MaxOut)
      : w_(params), b_(params + out * in), in_(in), out_(out) {
    HAT_ASSERT(in <= MaxIn && out <= MaxOut, "elastic_linear: storage larger than the maxima");
  }

  std::size_t stored_in() const noexcept { return in_; }
  std::size_t stored_out() const noexcept { return out_; }

  /// The active weight block W[:out, :in]: [out, in], ld = the stored width.
  matrix_ref<T> weight(std::size_t in, std::size_t out) const {
    HAT_ASSERT(in <= in_ && out <= out_, "elastic_linear: sub-layer larger than the stored layer");
    return {w_, out, in, in_};
  }
  T* bias() const noexcept { return b_; }  // [MaxOut]; a sub-layer reads the first `out`

  /// y [n, out] = x [n, in] W[:out, :in]^T + b[:out]. The widths come from x and y.
  void forward(Backend& be, matrix_ref<const T> x, matrix_ref<T> y) const {
    HAT_ASSERT(x.rows == y.rows, "elastic_linear::forward: x and y differ in rows");
    be.gemm(x, op::none, matrix_ref<const T>(weight(x.cols, y.cols)), op::transpose, y, T(1), T(0));
    be.bias_forward(y, b_, false);
  }

 private:
  T* w_;  // [out_, in_]
  T* b_;  // [out_]
  std::size_t in_, out_;
};

}  // namespace hat
