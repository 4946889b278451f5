// SPDX-License-Identifier: MIT
// Small HAT-style spaces for small corpora and 2-core machines (ours; HAT's own are in hat_spaces.hpp).
#pragma once

#include <hat/space/choice.hpp>
#include <hat/space/space.hpp>

namespace hat {

/// A SuperTransformer space for Multi30k-sized corpora (29k caption pairs): HAT's space0
/// shape (elastic widths, FFN, heads, decoder depth, arbitrary encoder-decoder attention) at
/// 3 layers and a 256-wide maximum, Q/K/V 256.
using multi30k_space = space<
    choice<"encoder_embed_dim", 256, 192>,
    choice<"encoder_layer_num", 3>,
    per_layer<3, choice<"encoder_ffn_embed_dim", 1024, 512, 256>>,
    per_layer<3, choice<"encoder_self_attention_heads", 4, 2>>,
    choice<"decoder_embed_dim", 256, 192>,
    choice<"decoder_layer_num", 3, 2, 1>,
    per_layer<3, choice<"decoder_ffn_embed_dim", 1024, 512, 256>>,
    per_layer<3, choice<"decoder_self_attention_heads", 4, 2>>,
    per_layer<3, choice<"decoder_ende_attention_heads", 4, 2>>,
    per_layer<3, choice<"decoder_arbitrary_ende_attn", -1, 1, 2>>,
    fixed<"qkv_dim", 256>>;

/// A tiny space for smoke runs (`examples/configs/multi30k_tiny.yml`: 100 updates in about a
/// minute on 2 cores): 2 layers, 128 wide at most, Q/K/V 128.
using multi30k_tiny_space = space<
    choice<"encoder_embed_dim", 128, 96>,
    choice<"encoder_layer_num", 2>,
    per_layer<2, choice<"encoder_ffn_embed_dim", 512, 256>>,
    per_layer<2, choice<"encoder_self_attention_heads", 4, 2>>,
    choice<"decoder_embed_dim", 128, 96>,
    choice<"decoder_layer_num", 2, 1>,
    per_layer<2, choice<"decoder_ffn_embed_dim", 512, 256>>,
    per_layer<2, choice<"decoder_self_attention_heads", 4, 2>>,
    per_layer<2, choice<"decoder_ende_attention_heads", 4, 2>>,
    per_layer<2, choice<"decoder_arbitrary_ende_attn", -1, 1>>,
    fixed<"qkv_dim", 128>>;

/// The space of `hat demo` (number words, English to German): 2 encoder layers and 1-3 decoder
/// layers, 128 wide at most, so that a SuperTransformer trains in minutes on 2 cores while its
/// SubTransformers still differ in latency by a factor of several.
using number_words_space = space<
    choice<"encoder_embed_dim", 128, 64>,
    choice<"encoder_layer_num", 2>,
    per_layer<2, choice<"encoder_ffn_embed_dim", 256, 128>>,
    per_layer<2, choice<"encoder_self_attention_heads", 4, 2>>,
    choice<"decoder_embed_dim", 128, 64>,
    choice<"decoder_layer_num", 3, 2, 1>,
    per_layer<3, choice<"decoder_ffn_embed_dim", 256, 128>>,
    per_layer<3, choice<"decoder_self_attention_heads", 4, 2>>,
    per_layer<3, choice<"decoder_ende_attention_heads", 4, 2>>,
    per_layer<3, choice<"decoder_arbitrary_ende_attn", -1, 1>>,
    fixed<"qkv_dim", 128>>;

}  // namespace hat
