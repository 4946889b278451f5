// SPDX-License-Identifier: MIT
// update_record: what one training update did (light: logs and progress readers include it without the trainer).
#pragma once

#include <cstddef>

namespace hat {

/// What one update did. Losses are fairseq's: base 2, per target token.
struct update_record {
  std::size_t update = 0;  // 1-based: the count after this update
  double loss = 0, nll = 0;
  std::size_t tokens = 0, sentences = 0;
  double lr = 0, grad_norm = 0, seconds = 0;
};

}  // namespace hat
