// SPDX-License-Identifier: MIT
// elastic_ffn: HAT's position-wise feed-forward block, fc2(relu(fc1(x))), with fc1 and fc2 sliced as
// HAT's LinearSuper slices them (fairseq/modules/linear_super.py).
#pragma once

#include <cstddef>
#include <span>
#include <utility>
#include <vector>

#include <hat/backend/concepts.hpp>
#include <hat/backend/dropout_mask.hpp>
#include <hat/config.hpp>
#include <hat/nn/elastic_linear.hpp>
#include <hat/nn/parameter_list.hpp>
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

  /// Declares "fc1." [ffn, embed] and "fc2." [embed, ffn] (weight and bias each), stored at
  /// embed <= MaxEmbed and ffn <= MaxFfn; fc1's columns paneled at `embed_choices`, fc2's at
  /// `ffn_choices` (the widths sub-layers read).
  static void declare(const parameter_scope& p, std::size_t embed, std::size_t ffn,
                      std::span<const std::size_t> embed_choices = {}, std::span<const std::size_t> ffn_choices = {}) {
    fc1_type::declare(p / "fc1.", embed, ffn, embed_choices);
    fc2_type::declare(p / "fc2.", ffn, embed, ffn_choices);
  }

  /// Takes the tensors declare() declared.
  explicit elastic_ffn(parameter_cursor<T>& c) : fc1_(c / "fc1."), fc2_(c / "fc2.") {
    HAT_ASSERT(fc2_.stored_in() == fc1_.stored_out() && fc2_.stored_out() == fc1_.stored_in(),
               "elastic_ffn: fc1 and fc2 stored at different widths");
  }
  explicit elastic_ffn(parameter_cursor<T>&& c) : elastic_ffn(c) {}

  /// `params`: [params_for(embed, ffn)] laid out as declare() lists it (the maxima by default),
  /// fc1's columns in panels ending at `embed_panels`, fc2's at `ffn_panels` (one by default).
  explicit elastic_ffn(T* params, std::size_t embed = MaxEmbed, std::size_t ffn = MaxFfn,
                       const std::vector<std::size_t>& embed_panels = {}, const std::vector<std::size_t>& ffn_panels = {})
      : elastic_ffn(parameter_cursor<T>(
            params, declared_layout<elastic_ffn>(embed, ffn, std::span(embed_panels), std::span(ffn_panels)))) {}

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
  /// `grad` (laid out as the parameters from fc1's first value).
  void backward(Backend& be, matrix_ref<const T> x, const ffn_tape<Backend, T>& tape, std::size_t ffn, matrix_ref<const T> dy,
                matrix_ref<T> dx, T* grad, ffn_workspace<Backend, T>& ws) const {
    const matrix_ref<const T> h = dense(static_cast<const T*>(tape.hidden.data()), x.rows, ffn);
    const matrix_ref<T> dh = dense(detail::reserve<Backend, T>(ws.hidden, x.rows * ffn), x.rows, ffn);
    fc2_.backward(be, h, dy, dh, grad + (fc2_.weights().data() - fc1_.weights().data()));
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
