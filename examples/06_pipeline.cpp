// SPDX-License-Identifier: MIT
// Tutorial 6: the whole HAT method from your own binary, on a space of your own: train its
// SuperTransformer, measure a latency dataset on this CPU, fit the predictor, search under a
// latency constraint, train and test the SubTransformer found. Configs are HAT's YAML keys
// (docs/pipeline.md), budgets tiny; run it again and every finished step is skipped.
#include <hat/backend/cpu.hpp>
#include <hat/data/number_words.hpp>
#include <hat/interop/xtensor.hpp>
#include <hat/pipeline/run_pipeline.hpp>
#include <hat/space/choice.hpp>
#include <hat/space/space.hpp>
#include <hat/yaml/pipeline.hpp>
#include <hat/yaml/training.hpp>
#include <filesystem>
#include <iostream>

using my_space = hat::space<
    hat::choice<"encoder_embed_dim", 64, 32>, hat::choice<"encoder_layer_num", 2>,
    hat::per_layer<2, hat::choice<"encoder_ffn_embed_dim", 128, 64>>,
    hat::per_layer<2, hat::choice<"encoder_self_attention_heads", 4, 2>>,
    hat::choice<"decoder_embed_dim", 64, 32>, hat::choice<"decoder_layer_num", 2, 1>,
    hat::per_layer<2, hat::choice<"decoder_ffn_embed_dim", 128, 64>>,
    hat::per_layer<2, hat::choice<"decoder_self_attention_heads", 4, 2>>,
    hat::per_layer<2, hat::choice<"decoder_ende_attention_heads", 4, 2>>,
    hat::per_layer<2, hat::choice<"decoder_arbitrary_ende_attn", -1, 1>>, hat::fixed<"qkv_dim", 64>>;

int main(int argc, char** argv) {
  const std::filesystem::path run = argc > 1 ? argv[1] : std::filesystem::temp_directory_path() / "hat_tutorial_6";
  if (!std::filesystem::exists(run / "data" / "test.en"))  // German to English number words
    hat::write_number_words_corpus(run / "data", {.train = 2000, .valid = 40, .test = 30, .seed = 1});
  // [configs]
  const auto training = hat::parse_training_yaml(R"(space: my-space
source-lang: de
target-lang: en
bpe-vocab-size: 200
max-tokens: 1024
max-update: 40
warmup-updates: 10
lr: 0.003
validate-interval-updates: 20
valid-batches: 1)", (run / "training.yml").string());
  const auto pipeline = hat::parse_pipeline_yaml(R"(training-config: training.yml
latency-constraints: [75%]
latency-samples: 12
latency-iters: 2
predictor-model: linear
iterations: 2
population: 8
parents: 2
mutations: 3
crossovers: 3
subtransformer-updates: 5)", (run / "pipeline.yml").string());
  // [configs]
  hat::cpu be;  // the run on any space type and backend policy; the linear predictor fit by LAPACK
  const hat::pipeline_inputs in{.folder = {run}, .data = (run / "data").string(), .predictor = {.least_squares = hat::lapack_least_squares}};
  const auto result = hat::run_pipeline<my_space>(be, pipeline, training, in);
  std::cout << "measured on " << result.device << "\n" << result.table;
  return result.rows.size() == 1 && result.rows[0].measured_ms > 0 ? 0 : 1;
}
