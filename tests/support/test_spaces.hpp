// SPDX-License-Identifier: MIT
// Tiny spaces shared by the tests (small spaces keep test compile and run times short).
#pragma once

#include <hat/space/arch.hpp>
#include <hat/space/choice.hpp>
#include <hat/space/hat_spaces.hpp>
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

/// HAT_wmt14ende_raspberrypi@3.5s_bleu@25.8 (25,217,536 parameters, HAT's README 25.22 M), built by hand;
/// decoder FFN layer 3 is set although inactive, to check that nothing reads it.
inline hat::arch<hat::hat_wmt_space> rpi_3_5s() {
  hat::arch<hat::hat_wmt_space> a;
  a.set<"encoder_embed_dim">(512);
  a.set<"decoder_embed_dim">(512);
  const int ffn[6] = {1024, 3072, 3072, 2048, 2048, 2048}, heads[6] = {4, 8, 4, 4, 4, 8};
  for (std::size_t l = 0; l < 6; ++l) {
    a.set<"encoder_ffn_embed_dim">(l, ffn[l]);
    a.set<"encoder_self_attention_heads">(l, heads[l]);
  }
  a.set<"decoder_layer_num">(1);
  a.set<"decoder_ffn_embed_dim">(0, 3072);
  a.set<"decoder_self_attention_heads">(0, 8);
  a.set<"decoder_ende_attention_heads">(0, 8);
  a.set<"decoder_arbitrary_ende_attn">(0, -1);
  a.set<"decoder_ffn_embed_dim">(3, 1024);
  return a;
}

}  // namespace hat_test
