// SPDX-License-Identifier: MIT
// elastic_linear: a linear layer sized at its maxima whose sub-layers are corner slices, W[:out, :in]
// and b[:out], as in HAT's LinearSuper (fairseq/modules/linear_super.py).
#pragma once

#include <cstddef>
#include <span>

#include <utility>
#include <vector>

#include <hat/backend/concepts.hpp>
#include <hat/config.hpp>
#include <hat/nn/paneled_matrix.hpp>
#include <hat/nn/parameter_list.hpp>

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

  /// Declares "weight" W [out, in] (Xavier; columns paneled at the widths in
  /// `panel_choices`, see paneled_matrix) and "bias" b [out] (zero), stored at in <= MaxIn and
  /// out <= MaxOut.
  static void declare(const parameter_scope& p, std::size_t in, std::size_t out,
                      std::span<const std::size_t> panel_choices = {}) {
    p.add("weight", {out, in}, parameter_init::xavier_uniform, panel_choices);
    p.add("bias", {out}, parameter_init::zero);
  }

  /// Takes the tensors declare() declared, at their stored sizes and panels.
  explicit elastic_linear(parameter_cursor<T>& c) {
    w_ = c.take("weight").matrix();
    b_ = c.take("bias").data;
    in_ = w_.cols();
    out_ = w_.rows();
    HAT_ASSERT(in_ <= MaxIn && out_ <= MaxOut, "elastic_linear: storage larger than the maxima");
  }
  explicit elastic_linear(parameter_cursor<T>&& c) : elastic_linear(c) {}

  /// `params`: [params_for(in, out)] in backend memory laid out as declare() lists it, W
  /// stored in column panels ending at `panels` (one panel by default); the maxima by default.
  explicit elastic_linear(T* params, std::size_t in = MaxIn, std::size_t out = MaxOut,
                          const std::vector<std::size_t>& panels = {})
      : elastic_linear(parameter_cursor<T>(params, declared_layout<elastic_linear>(in, out, std::span(panels)))) {
    HAT_ASSERT(panels.empty() || w_.bounds() == panels, "elastic_linear: panels must end at the stored width");
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
  /// db[:out] += sum of dy rows into `grad` (laid out as the parameters from W's first value:
  /// only the active slice receives gradient), and sets dx [n, in] = dy W[:out, :in] unless
  /// dx.data is null.
  void backward(Backend& be, matrix_ref<const T> x, matrix_ref<const T> dy, matrix_ref<T> dx, T* grad) const {
    HAT_ASSERT(x.rows == dy.rows && x.cols <= in_ && dy.cols <= out_, "elastic_linear::backward: shapes");
    [[maybe_unused]] const auto pin = pin_operand(be, dy);  // read by the weight's and the input's gradient
    w_.on(grad).accumulate_outer(be, dy, x, 0);
    be.bias_backward(dy, grad + (b_ - w_.data()), true);
    if (dx.data) w_.product_backward_input(be, dy, 0, dx);
  }

 private:
  paneled_matrix<T> w_;  // [out_, in_]
  T* b_ = nullptr;       // [out_]
  std::size_t in_ = 0, out_ = 0;
};

}  // namespace hat
