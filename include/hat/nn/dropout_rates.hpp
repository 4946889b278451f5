// SPDX-License-Identifier: MIT
// dropout_rates: the dropout settings of a training run (light: the YAML reader and the trainer's options include it).
#pragma once

namespace hat {

/// Dropout as HAT configures it (its supertransformer configs, and calc_dropout in
/// fairseq/models/transformer_super.py), at the SuperTransformer's rates.
struct dropout_rates {
  double dropout = 0;     // fairseq's --dropout: 0.3 (WMT), 0.375 (IWSLT)
  double attention = 0;   // --attention-dropout on attention probabilities: 0.1 (WMT), 0; never scaled
  double activation = 0;  // --activation-dropout after the ReLU: 0 in HAT; scaled like dropout
  bool scale_by_width = true;      // HAT: a SubTransformer uses rate * d_sample / d_super, encoder and decoder apart
  bool unscaled_encoder_self = true;  // HAT's quirk: the encoder's self-attention output keeps the super rate
};

}  // namespace hat
