// SPDX-License-Identifier: MIT
// options: a training run's settings (Adam, schedule, dropout, batching, which SubTransformers an update trains), apart from the trainer so that readers of configs stay light.
#pragma once

#include <cstddef>
#include <cstdint>
#include <variant>

#include <hat/backend/precision.hpp>
#include <hat/data/parallel_corpus.hpp>  // batching_options
#include <hat/nn/dropout_rates.hpp>
#include <hat/nn/transformer_config.hpp>
#include <hat/train/lr_schedule.hpp>

namespace hat {

/// HAT's optimiser settings (its supertransformer configs over fairseq/options.py's defaults):
/// Adam betas (0.9, 0.98), eps 1e-8; weight decay 0 (WMT) or 1e-4 (IWSLT), decoupled as
/// fairseq's Adam does (p -= wd * lr * p); gradient-norm clipping off (0, WMT) or 25 (fairseq's
/// default, IWSLT).
struct adam_settings {
  double beta1 = 0.9;
  double beta2 = 0.98;
  double eps = 1e-8;
  double weight_decay = 0;
  double clip_norm = 0;  // 0: no clipping
  /// Where eps enters: fairseq's Adam (HAT's) divides by sqrt(v) + eps and folds the bias
  /// corrections into the step, lr sqrt(1 - b2^t) / (1 - b1^t); PyTorch's divides by
  /// sqrt(v / (1 - b2^t)) + eps. They differ while v is small (early updates, rare rows).
  enum class eps_style { fairseq, pytorch } style = eps_style::fairseq;
};

/// Which SubTransformers an update trains.
enum class sampling_rule {
  hat_random,  // HAT (train.py): one uniformly random SubTransformer, drawn from a generator seeded by the update count
  sandwich,    // the largest, the smallest and one random SubTransformer per update, gradients added (not in HAT)
  fixed,       // one given SubTransformer every update (HAT's train-subtransformer)
};

using lr_schedule = std::variant<inverse_sqrt_schedule, cosine_schedule>;

/// A training run's settings, HAT's defaults where they exist (its supertransformer configs).
struct trainer_options {
  std::size_t max_update = 50000;
  std::size_t update_freq = 1;     // micro-batches per update, gradients accumulated
  double label_smoothing = 0.1;
  adam_settings adam;
  lr_schedule schedule = inverse_sqrt_schedule{};
  dropout_rates dropout;
  batching_options batching;       // max tokens, shuffling and its seed
  std::uint64_t seed = 1;          // dropout masks (with the update and micro-batch)
  sampling_rule sampling = sampling_rule::hat_random;
  transformer_config fixed;        // sampling_rule::fixed
  std::size_t valid_max_tokens = 4096;
  /// The products' precision (`precision:`, `hat train --precision`): fp32, or bf16 products with
  /// fp32 accumulation, fp32 master weights and Adam moments (the backend's set_training_precision;
  /// the trainer refuses a backend set otherwise). Not HAT's: its `fp16` key is fairseq's GPU fp16.
  precision products = precision::fp32;
};

}  // namespace hat
