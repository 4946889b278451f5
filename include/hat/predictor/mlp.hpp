// SPDX-License-Identifier: MIT
// mlp: the latency predictor's network (HAT: 10 -> 400 -> 3 x 400 -> 1, ReLU), trained with Adam.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include <hat/backend/concepts.hpp>
#include <hat/config.hpp>
#include <hat/space/random.hpp>

namespace hat {

/// Adam settings for `mlp::train_batch` (PyTorch defaults; HAT trains its predictor with lr 1e-5).
struct adam_options {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
};

/// A fully connected ReLU network `In -> Hidden -> HiddenLayers x (Hidden -> Hidden) -> 1` on
/// backend `Backend`, with its Adam state. All parameters live in one arena of
/// `param_count` values; layer l holds W_l [out_l, in_l] (PyTorch's layout) then b_l [out_l].
/// HAT's predictor is `mlp<B, 10, 400, 3>`: 486,001 parameters.
template <backend_policy Backend, std::size_t In = 10, std::size_t Hidden = 400, std::size_t HiddenLayers = 3, class T = float>
class mlp {
 public:
  static constexpr std::size_t linear_layers = HiddenLayers + 2;
  static constexpr std::array<std::size_t, linear_layers + 1> widths = [] {
    std::array<std::size_t, linear_layers + 1> w{};
    w[0] = In;
    for (std::size_t i = 1; i < linear_layers; ++i) w[i] = Hidden;
    w[linear_layers] = 1;
    return w;
  }();
  static constexpr std::array<std::size_t, linear_layers + 1> offsets = [] {
    std::array<std::size_t, linear_layers + 1> o{};
    for (std::size_t l = 0; l < linear_layers; ++l) o[l + 1] = o[l] + widths[l + 1] * widths[l] + widths[l + 1];
    return o;
  }();
  static constexpr std::size_t param_count = offsets[linear_layers];

  explicit mlp(Backend& be) : be_(&be), params_(param_count), grads_(param_count), m_(param_count), v_(param_count) {}

  /// PyTorch's nn.Linear initialisation: weights and biases U(-1/sqrt(in), 1/sqrt(in)).
  void init(rng& g) {
    std::vector<T> host(param_count);
    for (std::size_t l = 0; l < linear_layers; ++l) {
      const double bound = 1.0 / std::sqrt(static_cast<double>(widths[l]));
      for (std::size_t i = offsets[l]; i < offsets[l + 1]; ++i) host[i] = static_cast<T>((2 * g.uniform() - 1) * bound);
    }
    set_parameters(host);
    reset_optimizer();
  }
  void reset_optimizer() {
    const std::vector<T> zeros(param_count, T(0));
    be_->upload(zeros.data(), param_count, m_.data());
    be_->upload(zeros.data(), param_count, v_.data());
    step_ = 0;
  }

  /// y [n] = net(x [n, In]); both in host memory.
  void predict(std::span<const T> x, std::span<T> y) {
    const std::size_t n = y.size();
    HAT_ASSERT(x.size() == n * In, "mlp::predict: x must be [n, In]");
    reserve_(n);
    be_->upload(x.data(), x.size(), in_.data());
    forward_(n);
    be_->download(act_[linear_layers].data(), n, y.data());
  }

  /// Mean squared error of the batch (x [n, In], target [n], host memory) and its gradient
  /// with respect to every parameter (left in the gradient arena). Returns the loss.
  double loss_and_gradient(std::span<const T> x, std::span<const T> target) {
    const std::size_t n = target.size();
    HAT_ASSERT(n > 0 && x.size() == n * In, "mlp: x must be [n, In] and target [n], n > 0");
    reserve_(n);
    be_->upload(x.data(), x.size(), in_.data());
    forward_(n);
    host_out_.resize(n);
    be_->download(act_[linear_layers].data(), n, host_out_.data());
    double loss = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double e = static_cast<double>(host_out_[i]) - static_cast<double>(target[i]);
      loss += e * e;
      host_out_[i] = static_cast<T>(2 * e / static_cast<double>(n));  // d loss / d out
    }
    be_->upload(host_out_.data(), n, dout_[linear_layers % 2].data());
    backward_(n);
    return loss / static_cast<double>(n);
  }

  /// One Adam update on a batch; returns the batch's loss before the update.
  double train_batch(std::span<const T> x, std::span<const T> target, const adam_options& o) {
    const double loss = loss_and_gradient(x, target);
    ++step_;
    be_->adam_step(params_.data(), grads_.data(), m_.data(), v_.data(), param_count, static_cast<T>(o.lr),
                   static_cast<T>(o.beta1), static_cast<T>(o.beta2), static_cast<T>(o.eps),
                   static_cast<T>(o.weight_decay), step_);
    return loss;
  }

  std::vector<T> parameters() const {
    std::vector<T> host(param_count);
    be_->download(params_.data(), param_count, host.data());
    return host;
  }
  void set_parameters(std::span<const T> host) {
    HAT_ASSERT(host.size() == param_count, "mlp::set_parameters: wrong parameter count");
    be_->upload(host.data(), param_count, params_.data());
  }
  std::vector<T> gradient() const {
    std::vector<T> host(param_count);
    be_->download(grads_.data(), param_count, host.data());
    return host;
  }
  std::size_t steps() const noexcept { return step_; }

 private:
  using buffer = typename Backend::template buffer<T>;

  matrix_ref<T> weight_(buffer& b, std::size_t l) { return {b.data() + offsets[l], widths[l + 1], widths[l], widths[l]}; }
  T* bias_(buffer& b, std::size_t l) { return b.data() + offsets[l] + widths[l + 1] * widths[l]; }

  void reserve_(std::size_t n) {
    if (n <= capacity_) return;
    capacity_ = n;
    in_ = buffer(n * In);
    for (std::size_t l = 1; l <= linear_layers; ++l) act_[l] = buffer(n * widths[l]);
    for (auto& d : dout_) d = buffer(n * Hidden);
  }
  matrix_ref<T> act_ref_(std::size_t l, std::size_t n) {
    return l == 0 ? dense(in_.data(), n, In) : dense(act_[l].data(), n, widths[l]);
  }

  // act_l [n, w_l] = relu(act_{l-1} W_l^T + b_l); the last layer has no ReLU.
  void forward_(std::size_t n) {
    for (std::size_t l = 0; l < linear_layers; ++l) {
      const auto y = act_ref_(l + 1, n);
      be_->gemm(act_ref_(l, n), op::none, weight_(params_, l), op::transpose, y,
                T(1), T(0));
      be_->bias_forward(y, bias_(params_, l), l + 1 < linear_layers);
    }
  }

  // Gradients flow from dout_[L % 2] (d loss / d act_L); buffers alternate between layers.
  void backward_(std::size_t n) {
    for (std::size_t l = linear_layers; l-- > 0;) {
      const auto g = dense(dout_[(l + 1) % 2].data(), n, widths[l + 1]);  // d loss / d act_{l+1}, pre-ReLU
      be_->gemm(g, op::transpose, act_ref_(l, n), op::none,
                weight_(grads_, l), T(1), T(0));
      be_->bias_backward(g, bias_(grads_, l), false);
      if (l == 0) break;
      const auto prev = dense(dout_[l % 2].data(), n, widths[l]);
      be_->gemm(g, op::none, weight_(params_, l), op::none, prev, T(1), T(0));
      be_->relu_backward(prev, act_ref_(l, n));
    }
  }

  Backend* be_;
  buffer params_, grads_, m_, v_;  // [param_count] each
  buffer in_;                      // [capacity, In]
  std::array<buffer, linear_layers + 1> act_;  // act_[l]: [capacity, widths[l]], post-ReLU
  std::array<buffer, 2> dout_;                 // [capacity, Hidden]: alternating layer gradients
  std::vector<T> host_out_;
  std::size_t capacity_ = 0;
  std::size_t step_ = 0;
};

}  // namespace hat
