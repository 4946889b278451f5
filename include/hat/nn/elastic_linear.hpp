// SPDX-License-Identifier: MIT
// elastic_linear: a linear layer sized at its maxima whose sub-layers are corner slices, W[:out, :in]
// and b[:out], as in HAT's LinearSuper (fairseq/modules/linear_super.py).
#pragma once

#include <cstddef>

#include <utility>
#include <vector>

#include <hat/backend/concepts.hpp>
#include <hat/config.hpp>
#include <hat/nn/paneled_matrix.hpp>

namespace hat {

/// HAT's LinearSuper: a super weight W [MaxOut, MaxIn] (PyTorch's layout) and bias b [MaxOut]
/// living in an arena; a sub-layer with `in` inputs and `out` outputs uses the top-left corner
/// W[:out, :in] and b[:out]. The corner is a view with leading dimension MaxIn, handed straight
/// to the backend's GEMM: a SubTransformer never copies a weight. The storage may also be
/// smaller than the maxima (a dense exported SubTransformer): `in`/`out` given at construction.
template <std::size_t MaxIn, std::size_t MaxOut, backend_policy Backend, class T = float>
class elastic_linear {
 public:
  static constexpr std::size_t max_in = MaxIn;
  static constexpr std::size_t max_out = MaxOut;
  static constexpr std::size_t param_count = MaxOut * MaxIn + MaxOut;

  static constexpr std::size_t params_for(std::size_t in, std::size_t out) noexcept { return out * in + out; }

  /// `params`: [params_for(in, out)] in backend memory: W [out, in] (column panels ending at
  /// `panels`, see paneled_matrix; one panel by default), then b [out]. in <= MaxIn and
  /// out <= MaxOut; the maxima by default.
  explicit elastic_linear(T* params, std::size_t in = MaxIn, std::size_t out = MaxOut,
                          std::vector<std::size_t> panels = {})
      : w_(params, out, panels.empty() ? std::vector<std::size_t>{in} : std::move(panels)), b_(params + out * in), in_(in),
        out_(out) {
    HAT_ASSERT(in <= MaxIn && out <= MaxOut && w_.cols() == in, "elastic_linear: storage larger than the maxima");
  }

  std::size_t stored_in() const noexcept { return in_; }
  std::size_t stored_out() const noexcept { return out_; }
  const paneled_matrix<T>& weights() const noexcept { return w_; }

  /// The active weight block W[:out, :in] as one view [out, in] (ld = the first panel's width);
  /// only for a weight whose first panel holds all `in` columns.
  matrix_ref<T> weight(std::size_t in, std::size_t out) const {
    HAT_ASSERT(in <= in_ && out <= out_, "elastic_linear: sub-layer larger than the stored layer");
    HAT_ASSERT(in <= w_.bounds().front(), "elastic_linear::weight: the slice spans panels; use product()");
    return w_.panel(0, 0, out, in);
  }
  T* bias() const noexcept { return b_; }  // [MaxOut]; a sub-layer reads the first `out`

  /// y [n, out] = x [n, in] W[:out, :in]^T (no bias). The widths come from x and y.
  void product(Backend& be, matrix_ref<const T> x, matrix_ref<T> y) const {
    HAT_ASSERT(x.cols <= in_ && y.cols <= out_, "elastic_linear: sub-layer larger than the stored layer");
    w_.product(be, x, 0, y);
  }

  /// y [n, out] = x [n, in] W[:out, :in]^T + b[:out].
  void forward(Backend& be, matrix_ref<const T> x, matrix_ref<T> y) const {
    HAT_ASSERT(x.rows == y.rows, "elastic_linear::forward: x and y differ in rows");
    product(be, x, y);
    be.bias_forward(y, b_, false);
  }

  /// The backward of forward(x) given dy [n, out]: accumulates dW[:out, :in] += dy^T x and
  /// db[:out] += sum of dy rows into `grad` ([params_for(in, out)], laid out as the parameters:
  /// only the active slice receives gradient), and sets dx [n, in] = dy W[:out, :in] unless
  /// dx.data is null.
  void backward(Backend& be, matrix_ref<const T> x, matrix_ref<const T> dy, matrix_ref<T> dx, T* grad) const {
    HAT_ASSERT(x.rows == dy.rows && x.cols <= in_ && dy.cols <= out_, "elastic_linear::backward: shapes");
    w_.on(grad).accumulate_outer(be, dy, x, 0);
    be.bias_backward(dy, grad + out_ * in_, true);
    if (dx.data) w_.product_backward_input(be, dy, 0, dx);
  }

 private:
  paneled_matrix<T> w_;  // [out_, in_]
  T* b_;                 // [out_]
  std::size_t in_, out_;
};

}  // namespace hat
