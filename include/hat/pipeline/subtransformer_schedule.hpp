// SPDX-License-Identifier: MIT
// subtransformer_schedule: the learning-rate schedule of the pipeline's SubTransformer training,
// the training config's with the pipeline's own peak and warm-up.
#pragma once

#include <algorithm>
#include <cstddef>
#include <type_traits>
#include <variant>

#include <hat/config.hpp>
#include <hat/train/options.hpp>
#include <hat/yaml/pipeline.hpp>

namespace hat {

/// The SubTransformer's learning-rate schedule: the training config's, with the pipeline's
/// `subtransformer-lr` as its peak and `subtransformer-warmup-updates` as its warm-up when set
/// (fine-tuning inherited weights wants neither the SuperTransformer's long warm-up from 1e-7
/// nor, often, its peak). A cosine schedule decays over the updates left after the warm-up.
inline lr_schedule subtransformer_schedule(lr_schedule s, const pipeline_config& cfg) {
  std::visit(
      [&](auto& sch) {
        using T = std::decay_t<decltype(sch)>;
        if constexpr (std::is_same_v<T, inverse_sqrt_schedule>) {
          if (cfg.subtransformer_lr > 0) sch.lr = cfg.subtransformer_lr;
          if (cfg.subtransformer_warmup) {
            if (*cfg.subtransformer_warmup == 0)
              throw config_error(cfg.file + ": key 'subtransformer-warmup-updates': the inverse_sqrt schedule needs at least 1");
            sch.warmup_updates = *cfg.subtransformer_warmup;
          }
        } else {
          if (cfg.subtransformer_lr > 0) sch.max_lr = cfg.subtransformer_lr;
          if (cfg.subtransformer_warmup) {
            sch.warmup_updates = *cfg.subtransformer_warmup;
            sch.period = std::max<std::size_t>(1, cfg.subtransformer_updates - std::min(cfg.subtransformer_updates, sch.warmup_updates));
          }
        }
      },
      s);
  return s;
}

}  // namespace hat
