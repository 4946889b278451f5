// SPDX-License-Identifier: MIT
// Tiny spaces shared by the tests (house style: tests instantiate small spaces).
#pragma once

#include <hat/space/arch.hpp>
#include <hat/space/choice.hpp>
#include <hat/space/space.hpp>

namespace hat_test {

/// A 2+3-layer transformer space small enough to enumerate: 55,296 genomes, 20,880 networks.
using tiny_transformer = hat::space<
    hat::choice<"encoder_embed_dim", 16, 8>,
    hat::choice<"encoder_layer_num", 2, 1>,
    hat::per_layer<2, hat::choice<"encoder_ffn_embed_dim", 32, 16>>,
    hat::per_layer<2, hat::choice<"encoder_self_attention_heads", 2>>,
    hat::choice<"decoder_embed_dim", 16>,
    hat::choice<"decoder_layer_num", 3, 1>,
    hat::per_layer<3, hat::choice<"decoder_ffn_embed_dim", 32, 16>>,
    hat::per_layer<3, hat::choice<"decoder_self_attention_heads", 2, 1>>,
    hat::per_layer<3, hat::choice<"decoder_ende_attention_heads", 2>>,
    hat::per_layer<3, hat::choice<"decoder_arbitrary_ende_attn", -1, 1, 2>>,
    hat::fixed<"qkv_dim", 8>>;

/// Not a transformer: a CNN with a searchable depth gating per-stage kernel sizes and widths.
using cnn_space = hat::space<
    hat::choice<"resolution", 224, 192, 160>,
    hat::choice<"depth", 4, 3, 2>,
    hat::per_layer<4, hat::choice<"kernel", 3, 5, 7>, "depth">,
    hat::per_layer<4, hat::choice<"width", 64, 32, 16>, "depth">,
    hat::per_layer<2, hat::choice<"stem", 1, 0>>>;  // ungated: both genes always active

}  // namespace hat_test
