// SPDX-License-Identifier: MIT
// adam: fairseq's Adam over a whole parameter arena, with decoupled weight decay and gradient-norm clipping.
#pragma once

#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include <hat/backend/concepts.hpp>
#include <hat/config.hpp>
#include <hat/train/options.hpp>

namespace hat {

/// Adam state (first and second moments) for n parameters in backend memory. State exists for
/// the whole arena, as fairseq's per-tensor state does: slices a SubTransformer did not read
/// get zero gradient, and their moments still decay (as with fairseq/optim/adam.py in HAT).
template <backend_policy Backend, class T = float>
class adam {
 public:
  adam(std::size_t n, adam_settings s = {}) : settings_(s), m_(n), v_(n) {}

  const adam_settings& settings() const noexcept { return settings_; }
  std::size_t steps() const noexcept { return step_; }

  /// The L2 norm of `grad` [n]; when clip_norm > 0 and the norm exceeds it, grad is scaled by
  /// clip_norm / (norm + 1e-6) first, as fairseq's clip_grad_norm_ does. Returns the norm
  /// before clipping.
  double clip(Backend& be, T* grad) const {
    double sq = 0;
    be.sum_squares(static_cast<const T*>(grad), m_.size(), sq);
    const double norm = std::sqrt(sq);
    if (settings_.clip_norm > 0 && norm > settings_.clip_norm)
      be.scale(grad, m_.size(), static_cast<T>(settings_.clip_norm / (norm + 1e-6)));
    return norm;
  }

  /// One update of `params` [n] with `grad` [n] at learning rate lr.
  void step(Backend& be, T* params, const T* grad, double lr) {
    ++step_;
    // The backend's step is PyTorch's; fairseq's equals it with eps scaled by 1 / sqrt(1 - b2^t):
    // lr/c1 m / (sqrt(v/c2) + eps/sqrt(c2)) = lr sqrt(c2)/c1 m / (sqrt(v) + eps).
    double eps = settings_.eps;
    if (settings_.style == adam_settings::eps_style::fairseq)
      eps /= std::sqrt(1.0 - std::pow(settings_.beta2, static_cast<double>(step_)));
    be.adam_step(params, grad, m_.data(), v_.data(), m_.size(), static_cast<T>(lr), static_cast<T>(settings_.beta1),
                 static_cast<T>(settings_.beta2), static_cast<T>(eps), static_cast<T>(settings_.weight_decay), step_);
  }

  /// The moments [n] each and the step count, for a checkpoint.
  std::vector<T> first_moment(Backend& be) const { return download_(be, m_); }
  std::vector<T> second_moment(Backend& be) const { return download_(be, v_); }
  /// Restores what first_moment, second_moment and steps() returned. Throws config_error on a size mismatch.
  void restore(Backend& be, const std::vector<T>& m, const std::vector<T>& v, std::size_t steps) {
    if (m.size() != m_.size() || v.size() != v_.size())
      throw config_error("adam: the saved state holds " + std::to_string(m.size()) + " and " + std::to_string(v.size()) +
                         " moments, the model has " + std::to_string(m_.size()) + " parameters");
    be.upload(m.data(), m.size(), m_.data());
    be.upload(v.data(), v.size(), v_.data());
    step_ = steps;
  }

 private:
  static std::vector<T> download_(Backend& be, const typename Backend::template buffer<T>& b) {
    std::vector<T> host(b.size());
    be.download(b.data(), b.size(), host.data());
    return host;
  }
  adam_settings settings_;
  typename Backend::template buffer<T> m_, v_;
  std::size_t step_ = 0;
};

}  // namespace hat
