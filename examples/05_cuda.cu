// SPDX-License-Identifier: MIT
// Tutorial 5: the SuperTransformer of tutorial 3 on a GPU. The layer code is the same; only the
// backend type changes (hat::cuda instead of hat::cpu), and this file is compiled by nvcc.
// docs/cuda.md walks through it. Without a GPU it says so and exits 77 (ctest: skipped).
#include <hat/backend/cuda.hpp>
#include <hat/decode/beam_search.hpp>
#include <hat/latency/measure.hpp>
#include <hat/space/choice.hpp>
#include <hat/space/space.hpp>
#include <cmath>
#include <iostream>

using space = hat::space<
    hat::choice<"encoder_embed_dim", 64, 48>,
    hat::choice<"encoder_layer_num", 2>,
    hat::per_layer<2, hat::choice<"encoder_ffn_embed_dim", 128, 64>>,
    hat::per_layer<2, hat::choice<"encoder_self_attention_heads", 4, 2>>,
    hat::choice<"decoder_embed_dim", 64, 48>,
    hat::choice<"decoder_layer_num", 2, 1>,
    hat::per_layer<2, hat::choice<"decoder_ffn_embed_dim", 128, 64>>,
    hat::per_layer<2, hat::choice<"decoder_self_attention_heads", 4, 2>>,
    hat::per_layer<2, hat::choice<"decoder_ende_attention_heads", 4, 2>>,
    hat::per_layer<2, hat::choice<"decoder_arbitrary_ende_attn", -1, 1>>,
    hat::fixed<"qkv_dim", 32>>;
// [model]
using model_t = hat::super_transformer_for<space, hat::cuda>;  // the weights live on the GPU

int main() {
  if (hat::cuda_device_count() == 0) {
    std::cout << "no CUDA device: nothing to run\n";
    return 77;
  }
  hat::cuda be{0};  // device 0: its stream and cuBLAS handle, released at scope exit
  std::cout << "device: " << be.describe() << "\n";
  model_t super(be, {100, 100, hat::embedding_sharing::all});
  super.init_hat(be, /*seed=*/1);  // generated on the host, uploaded once
  // [model]

  // [run]
  hat::rng g(7);
  const hat::transformer_config c = hat::config_of(hat::arch<space>::sample(g));
  const auto src = hat::token_batch::pad({{5, 9, 7, 11, hat::special_tokens::eos}, {8, 13, hat::special_tokens::eos}}, true);
  const auto tgt = hat::token_batch::pad({{6, 10, 4, hat::special_tokens::eos}, {9, hat::special_tokens::eos}}, false);
  hat::model_workspace<hat::cuda> ws;  // device scratch, reused across calls
  hat::encoder_output<hat::cuda> enc;
  hat::cuda::buffer<float> logits;
  const auto sums = super.loss(be, c, src, tgt, /*eps=*/0.1, ws, logits, enc);
  std::cout << "valid loss " << sums.loss / static_cast<double>(sums.tokens) / std::log(2.0) << " bits/token\n";

  hat::generation_options opt;
  opt.beam = 4;
  const auto hyps = hat::beam_search(be, super, c, src, opt, ws);
  std::cout << "best hypothesis of sentence 0: " << hyps[0].front().tokens.size() << " tokens\n";

  // HAT's latency protocol, timed with CUDA events as HAT's fairseq/utils.py measure_latency does.
  hat::latency_options lo;
  lo.iters = 10;
  const auto lat = hat::measure_latency(be, super, c, lo);
  std::cout << "latency: encoder " << lat.encoder.mean_ms << " ms, decoder " << lat.decoder.mean_ms << " ms\n";
  // [run]
  return 0;
}
