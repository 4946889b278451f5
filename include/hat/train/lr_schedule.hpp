// SPDX-License-Identifier: MIT
// fairseq's learning-rate schedules as HAT's configs/*/supertransformer/*.yml set them: inverse_sqrt and
// cosine, both with linear warm-up.
#pragma once

#include <cmath>
#include <cstddef>
#include <numbers>

#include <hat/config.hpp>

namespace hat {

/// fairseq's `inverse_sqrt`: lr rises linearly from warmup_init_lr to lr over warmup_updates
/// updates, then decays as lr * sqrt(warmup_updates / update). HAT's IWSLT: 1e-7 -> 5e-4 over
/// 10,000 updates.
struct inverse_sqrt_schedule {
  double lr = 5e-4;
  double warmup_init_lr = 1e-7;
  std::size_t warmup_updates = 10000;

  double operator()(std::size_t update) const {
    HAT_ASSERT(warmup_updates > 0, "inverse_sqrt_schedule: warmup_updates must be positive");
    const double u = static_cast<double>(update), w = static_cast<double>(warmup_updates);
    if (update < warmup_updates) return warmup_init_lr + u * (lr - warmup_init_lr) / w;
    return lr * std::sqrt(w) / std::sqrt(u);
  }
};

/// fairseq's `cosine`: linear warm-up from warmup_init_lr to max_lr, then
/// min_lr + 0.5 (max_lr' - min_lr)(1 + cos(pi t_cur / period)) with t = update - warmup_updates;
/// the period restarts every `period` updates (times t_mult after each restart) and max_lr'
/// shrinks by lr_shrink per restart. HAT's WMT: 1e-7 -> 1e-3 over 10,000 updates, period 30,000
/// (max-update - warm-up), t_mult 1, lr_shrink 1.
struct cosine_schedule {
  double max_lr = 1e-3;
  double min_lr = 1e-7;
  double warmup_init_lr = 1e-7;
  std::size_t warmup_updates = 10000;
  std::size_t period = 30000;
  double t_mult = 1;
  double lr_shrink = 1;

  double operator()(std::size_t update) const {
    HAT_ASSERT(period > 0 && t_mult >= 1, "cosine_schedule: period must be positive and t_mult >= 1");
    if (update < warmup_updates)
      return warmup_init_lr + static_cast<double>(update) * (max_lr - warmup_init_lr) / static_cast<double>(warmup_updates);
    const double t = static_cast<double>(update - warmup_updates), p = static_cast<double>(period);
    double i = 0, t_i = p, t_cur = 0;
    if (t_mult != 1) {
      i = std::floor(std::log(1 - t / p * (1 - t_mult)) / std::log(t_mult));
      t_i = std::pow(t_mult, i) * p;
      t_cur = t - (1 - std::pow(t_mult, i)) / (1 - t_mult) * p;
    } else {
      i = std::floor(t / p);
      t_cur = t - p * i;
    }
    const double shrink = std::pow(lr_shrink, i);
    const double lo = min_lr * shrink, hi = max_lr * shrink;
    return lo + 0.5 * (hi - lo) * (1 + std::cos(std::numbers::pi * t_cur / t_i));
  }
};

}  // namespace hat
