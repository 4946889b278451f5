// SPDX-License-Identifier: MIT
// layer_sizes: one encoder or decoder layer's active sizes in a SubTransformer, as the layer classes take them.
#pragma once

#include <cstddef>

namespace hat {

/// One encoder layer's active sizes in a SubTransformer.
struct encoder_layer_sizes {
  std::size_t ffn = 0;    // FFN hidden width
  std::size_t heads = 0;  // self-attention heads
};

/// One decoder layer's active sizes in a SubTransformer.
struct decoder_layer_sizes {
  std::size_t ffn = 0;         // FFN hidden width
  std::size_t self_heads = 0;  // self-attention heads
  std::size_t ende_heads = 0;  // encoder-decoder attention heads
};

}  // namespace hat
