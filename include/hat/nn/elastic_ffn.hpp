// SPDX-License-Identifier: MIT
// elastic_ffn: HAT's position-wise feed-forward block, fc2(relu(fc1(x))), with fc1 and fc2 sliced as
// HAT's LinearSuper slices them (fairseq/modules/linear_super.py).
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include <hat/backend/concepts.hpp>
#include <hat/backend/dropout_mask.hpp>
#include <hat/config.hpp>
#include <hat/nn/elastic_linear.hpp>
#include <hat/nn/scratch.hpp>

namespace hat {

/// Scratch of one FFN call: the hidden activations [rows, MaxFfn].
template <backend_policy Backend, class T = float>
struct ffn_workspace {
  typename Backend::template buffer<T> hidden;
};

/// What a training forward keeps: the hidden activations after the ReLU (and its dropout)
/// [rows, ffn], and that dropout.
template <backend_policy Backend, class T = float>
struct ffn_tape {
  typename Backend::template buffer<T> hidden;
  dropout_site activation;
};

/// fc1: W [MaxFfn, MaxEmbed] sliced to [f, d]; fc2: W [MaxEmbed, MaxFfn] sliced to [d, f];
/// ReLU between (HAT's activation), and in training fairseq's activation dropout after it (0 in
/// HAT's configs).
template <std::size_t MaxEmbed, std::size_t MaxFfn, backend_policy Backend, class T = float>
class elastic_ffn {
 public:
  using fc1_type = elastic_linear<MaxEmbed, MaxFfn, Backend, T>;
  using fc2_type = elastic_linear<MaxFfn, MaxEmbed, Backend, T>;
  static constexpr std::size_t param_count = fc1_type::param_count + fc2_type::param_count;

  static constexpr std::size_t params_for(std::size_t embed, std::size_t ffn) noexcept {
    return fc1_type::params_for(embed, ffn) + fc2_type::params_for(ffn, embed);
  }

  /// `params`: [params_for(embed, ffn)]: fc1's weight and bias, then fc2's (stored at widths
  /// embed <= MaxEmbed, ffn <= MaxFfn; the maxima by default). fc1's columns are paneled at
  /// `embed_panels`, fc2's at `ffn_panels` (see paneled_matrix; none by default).
  explicit elastic_ffn(T* params, std::size_t embed = MaxEmbed, std::size_t ffn = MaxFfn,
                       std::vector<std::size_t> embed_panels = {}, std::vector<std::size_t> ffn_panels = {})
      : fc1_(params, embed, ffn, std::move(embed_panels)),
        fc2_(params + fc1_type::params_for(embed, ffn), ffn, embed, std::move(ffn_panels)) {}

  const fc1_type& fc1() const noexcept { return fc1_; }
  const fc2_type& fc2() const noexcept { return fc2_; }

  /// y [n, d] = fc2(relu(fc1(x [n, d]))) with hidden width `ffn` <= MaxFfn.
  void forward(Backend& be, matrix_ref<const T> x, std::size_t ffn, matrix_ref<T> y, ffn_workspace<Backend, T>& ws) const {
    HAT_ASSERT(ffn > 0 && ffn <= fc1_.stored_out(), "elastic_ffn: hidden width outside (0, stored width]");
    const matrix_ref<T> h = dense(detail::reserve<Backend, T>(ws.hidden, x.rows * ffn), x.rows, ffn);
    fc1_.product(be, x, h);
    be.bias_forward(h, fc1_.bias(), true);  // + b[:ffn], then ReLU
    fc2_.forward(be, h, y);
  }

  /// forward(), keeping the hidden activations for backward(), with `activation` dropout on
  /// the ReLU's output.
  void forward_train(Backend& be, matrix_ref<const T> x, std::size_t ffn, matrix_ref<T> y, ffn_tape<Backend, T>& tape,
                     dropout_site activation = {}) const {
    HAT_ASSERT(ffn > 0 && ffn <= fc1_.stored_out(), "elastic_ffn: hidden width outside (0, stored width]");
    const matrix_ref<T> h = dense(detail::reserve<Backend, T>(tape.hidden, x.rows * ffn), x.rows, ffn);
    fc1_.product(be, x, h);
    be.bias_forward(h, fc1_.bias(), true);
    tape.activation = activation;
    if (activation.active()) be.dropout(h, activation.p, activation.key);
    fc2_.forward(be, h, y);
  }

  /// The backward of forward_train(x): dx [n, d] from dy [n, d]; gradients accumulate into
  /// `grad` (laid out as the parameters: fc1's, then fc2's).
  void backward(Backend& be, matrix_ref<const T> x, const ffn_tape<Backend, T>& tape, std::size_t ffn, matrix_ref<const T> dy,
                matrix_ref<T> dx, T* grad, ffn_workspace<Backend, T>& ws) const {
    const matrix_ref<const T> h = dense(static_cast<const T*>(tape.hidden.data()), x.rows, ffn);
    const matrix_ref<T> dh = dense(detail::reserve<Backend, T>(ws.hidden, x.rows * ffn), x.rows, ffn);
    fc2_.backward(be, h, dy, dh, grad + fc1_type::params_for(fc1_.stored_in(), fc1_.stored_out()));
    if (tape.activation.active()) be.dropout(dh, tape.activation.p, tape.activation.key);
    // The ReLU's output is > 0 exactly where its input was; where dropout zeroed a positive
    // output, dh is already 0.
    be.relu_backward(dh, h);
    fc1_.backward(be, x, dh, dx, grad);
  }

 private:
  fc1_type fc1_;
  fc2_type fc2_;
};

}  // namespace hat
