// SPDX-License-Identifier: MIT
// Tutorial 3: a weight-shared SuperTransformer on the CPU. Declare a space, build its
// SuperTransformer (all weights in one arena at the space's maxima), run sampled
// SubTransformers on slices of it (validation loss, beam search, HAT-protocol latency), then
// export one as a standalone dense model and save it as a checkpoint. docs/architecture.md
// walks through this file. A small space keeps it fast; hat::hat_wmt_space works the same way.
#include <hat/backend/cpu.hpp>
#include <hat/interop/xtensor.hpp>  // opt-in: xtensor views of the model's memory
#include <hat/decode/beam_search.hpp>
#include <hat/nn/checkpoint.hpp>
#include <hat/nn/dense_export.hpp>
#include <hat/latency/measure.hpp>
#include <hat/space/choice.hpp>
#include <hat/space/space.hpp>
#include <cmath>
#include <filesystem>
#include <iostream>

// [space]
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
using model_t = hat::super_transformer_for<space, hat::cpu>;  // maxima: 64 wide, FFN 128, 2 + 2 layers
// [space]

int main() {
  hat::cpu be;
  // [model]
  // One joined vocabulary of 100 ids for source, target and output (HAT's WMT setting).
  model_t super(be, {100, 100, hat::embedding_sharing::all});
  super.init_hat(be, /*seed=*/1);  // HAT's build_init: Xavier-uniform, N(0, 64^-1/2) tables
  std::cout << "SuperTransformer: " << super.size() << " parameters in one arena\n";
  // [model]

  // [run]
  hat::rng g(7);
  const auto a = hat::arch<space>::sample(g);
  const hat::transformer_config c = hat::config_of(a);  // the SubTransformer as the model runs it
  std::cout << "SubTransformer: " << a.to_string() << "\n";

  // Validation loss (the search's fitness): label-smoothed cross-entropy, base 2, per token.
  const auto src = hat::token_batch::pad({{5, 9, 7, 11, hat::special_tokens::eos}, {8, 13, hat::special_tokens::eos}},
                                         /*left=*/true);
  const auto tgt = hat::token_batch::pad({{6, 10, 4, hat::special_tokens::eos}, {9, hat::special_tokens::eos}}, false);
  hat::model_workspace<hat::cpu> ws;
  hat::encoder_output<hat::cpu> enc;
  hat::cpu::buffer<float> logits;
  const auto sums = super.loss(be, c, src, tgt, /*eps=*/0.1, ws, logits, enc);
  std::cout << "valid loss " << sums.loss / static_cast<double>(sums.tokens) / std::log(2.0) << " bits/token\n";

  // [xtensor]
  // The model's memory seen through xtensor, without copies: the last encoder layer's output
  // [sentences x time, width] and a LayerNorm's gamma; panel-stored weights come as copies.
  const auto memory = hat::as_xtensor(enc, 1);
  const auto gamma = hat::parameter_xtensor(super, "encoder.layers.1.final_layer_norm.weight");
  std::cout << "encoder output " << memory.shape(0) << " x " << memory.shape(1) << ", mean "
            << xt::mean(memory)() << "; final LayerNorm gamma sum " << xt::sum(gamma)() << "\n";
  // [xtensor]

  // Beam search, fairseq's way (beam 4, length penalty 0.6, at most 2 x source + 10 tokens).
  hat::generation_options opt;
  opt.beam = 4;
  opt.lenpen = 0.6;
  opt.max_len_a = 2;
  opt.max_len_b = 10;
  const auto hyps = hat::beam_search(be, super, c, src, opt, ws);
  std::cout << "best translation of sentence 0 has " << hyps[0][0].tokens.size() << " tokens, score "
            << hyps[0][0].score << "\n";

  // HAT's latency protocol (batch 1, beam 5, 30 incremental steps), a few runs.
  hat::latency_options lo;
  lo.iters = 3;
  const auto lat = hat::measure_latency(be, super, c, lo);
  std::cout << "latency " << lat.total_ms() << " ms (encoder " << lat.encoder.mean_ms << ", decoder "
            << lat.decoder.mean_ms << ")\n";
  // [run]

  // [export]
  // The SubTransformer alone: only the slices it reads, runnable and saveable by itself.
  const model_t dense = hat::export_dense(be, super, c);
  const auto path = std::filesystem::temp_directory_path() / "hat_example_03.hat";
  hat::save_checkpoint(be, dense, path);
  const model_t back = hat::load_checkpoint<model_t::maxima, hat::cpu>(be, path);
  const auto again = back.loss(be, c, src, tgt, 0.1, ws, logits, enc);
  std::cout << "dense model: " << dense.size() << " parameters (" << 100 * dense.size() / super.size()
            << " % of the SuperTransformer), same loss: " << (std::abs(again.loss - sums.loss) < 1e-3 ? "yes" : "no")
            << "\n";
  std::filesystem::remove(path);
  return std::abs(again.loss - sums.loss) < 1e-3 ? 0 : 1;
  // [export]
}
