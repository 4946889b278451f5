// SPDX-License-Identifier: MIT
// `hat train` and `hat valid-loss`: SuperTransformer / SubTransformer training on a parallel corpus, and HAT's fitness.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/data/load_corpus.hpp>
#include <hat/data/subword_model.hpp>
#include <hat/yaml/subtransformer.hpp>
#include <hat/yaml/training.hpp>
#include <hat/io/torch_file.hpp>
#include <hat/nn/checkpoint.hpp>
#include <hat/nn/from_fairseq.hpp>
#include <hat/pipeline/fairseq_data.hpp>
#include <hat/pipeline/subword_binding.hpp>
#include <hat/space/small_spaces.hpp>
#include <hat/train/trainer.hpp>  // validation_loss

#include "commands.hpp"
#include "precision_flag.hpp"
#include "fairseq_inputs.hpp"
#include "validators.hpp"
#include "per_file.hpp"
#include "json_output.hpp"
#include "ranks.hpp"
#include "train_runs.hpp"

namespace hat_cli {
namespace {

void run_train(train_cli_options o) {
  hat::training_config c = hat::read_training_yaml(o.config);
  if (!o.data.empty()) c.data = o.data;
  else c.data = c.resolve(c.data);
  if (o.max_updates >= 0) c.trainer.max_update = static_cast<std::size_t>(o.max_updates);
  if (!o.precision.empty()) c.trainer.products = hat::parse_precision(o.precision, "--precision");
  if (o.device == "cuda" && c.trainer.products != hat::precision::fp32)
    throw CLI::ValidationError(o.precision.empty() ? c.file + ": key 'precision'" : std::string("--precision"),
                               std::string(hat::precision_name(c.trainer.products)) +
                                   " training runs on the CPU only (--device cuda trains in fp32)");
  // A .pt HAT's fairseq wrote: its weights start the run (as fairseq's --finetune-from-model),
  // when its args declare the config's space.
  std::optional<hat::torch_file> pt;
  hat::fairseq_weights weights;
  const std::filesystem::path save_dir = o.save_dir.empty() ? std::filesystem::path("checkpoints") : std::filesystem::path(o.save_dir);
  if (!o.restore_file.empty() && is_torch_save(o.restore_file) && !std::filesystem::exists(save_dir / "checkpoint_last.hat")) {
    pt.emplace(hat::torch_file::read(o.restore_file));
    fairseq_space(hat::fairseq_checkpoint(*pt), o.restore_file, c.space);
    weights = hat::fairseq_weights_of(*pt);
    o.initial_weights = &weights.tensors;
    o.initial_share_all = weights.share_all;
  }
  with_ranks("train", [&](hat::communicator* comm) {
    o.comm = comm;
    if (o.device == "cuda") return run_train_cuda(o, c);  // under mpirun: a GPU per rank, NCCL sums
    hat::cpu::set_threads(o.threads);
    hat::cpu be;
    train_run(be, o, c, std::to_string(o.threads) + " threads");
  });
}

struct valid_cli_options {
  std::string checkpoint, data, bpe_model, split, source_lang, target_lang;
  std::vector<std::string> files;
  std::int64_t batches = 0, max_tokens = 4096;
  int threads = 1;
  bool json = false;
  precision_options weights;          // --precision, --int8-scales
  hat::communicator* comm = nullptr;  // under mpirun: the ranks share each file's batches
};

/// The loss of each SubTransformer file on `valid` with the weights of `model`, at --precision
/// (converted once).
template <class S, class Model>
void score_files(hat::cpu& be, const Model& model, const hat::parallel_corpus& valid, const valid_cli_options& o) {
  const auto [weights, scales] = o.weights.parse();
  const auto converted = hat::backend_at(be, model, weights, scales);
  hat::cpu& run = converted ? *converted : be;
  const std::string name(hat::precision_name(weights));
  const std::string said = weights == hat::precision::fp32 ? "" : ", " + name + " weights";
  const std::size_t failed = for_each_file("valid-loss", o.files, [&](std::size_t, const std::string& file) {
    const auto cfg = hat::config_of(hat::read_subtransformer_yaml<S>(file));
    const auto s = hat::validation_loss(run, model, cfg, valid, static_cast<std::size_t>(o.max_tokens),
                                        static_cast<std::size_t>(o.batches), 0.1, o.comm);
    if (o.comm && o.comm->rank() != 0) return;  // rank 0 prints
    const double bits = hat::per_token_bits(s.loss, s.tokens), nll = hat::per_token_bits(s.nll, s.tokens);
    if (o.json)
      print_json({{"file", file}, {"loss", bits}, {"nll", nll}, {"tokens", s.tokens}, {"precision", name}});
    else
      std::printf("%s: valid loss %.4f bits/token (nll %.4f, ppl %.2f) over %zu tokens%s\n", file.c_str(), bits, nll,
                  std::exp2(nll), s.tokens, said.c_str());
    std::fflush(stdout);
  });
  if (failed) throw exit_code{1};
}

/// The validation split of fairseq's binarized data for `model` (HAT's `valid` by default), its
/// languages the flags' or the ones the checkpoint recorded.
template <class Model>
hat::parallel_corpus binarized_valid(const Model& model, const hat::checkpoint_extras& x, const valid_cli_options& o) {
  return hat::fairseq_valid_split(model.vocabulary(), recorded_positions(x), o.data, o.split.empty() ? "valid" : o.split,
                                  language_of(o.source_lang, x.value("source_lang"), o.checkpoint, "--source-lang"),
                                  language_of(o.target_lang, x.value("target_lang"), o.checkpoint, "--target-lang"), &std::cerr,
                                  "hat valid-loss", &x, o.checkpoint);
}

template <class S>
void valid_space(const valid_cli_options& o) {
  using model_t = hat::super_transformer_for<S, hat::cpu>;
  hat::cpu be;
  hat::checkpoint_extras x;
  const auto model = hat::load_checkpoint<typename model_t::maxima, hat::cpu>(be, o.checkpoint, &x);
  const std::size_t positions = recorded_positions(x);
  if (hat::is_fairseq_binarized(o.data)) return score_files<S>(be, model, binarized_valid(model, x, o), o);
  const auto value = [&](const char* key, const std::string& given) { return hat::checkpoint_value(x, o.checkpoint, key, given); };
  const auto subwords = hat::checkpoint_subwords(x, o.checkpoint, o.bpe_model);
  const hat::corpus_location at{o.data, value("source_lang", o.source_lang), value("target_lang", o.target_lang)};
  score_files<S>(be, model, hat::load_corpus(at, value("valid_split", o.split), subwords, positions), o);
}

/// valid-loss straight from a checkpoint HAT's fairseq wrote, on fairseq's binarized data.
void valid_fairseq(const valid_cli_options& o) {
  require_binarized(o.data, "scored");
  with_fairseq_model(o.checkpoint, [&]<class S>(hat::cpu& be, const auto& model, const hat::checkpoint_extras& x) {
    score_files<S>(be, model, binarized_valid(model, x, o), o);
  });
}

void run_valid(const valid_cli_options& o) {
  o.weights.parse();  // refused flags before anything is read
  hat::cpu::set_threads(o.threads);
  if (is_torch_save(o.checkpoint)) return valid_fairseq(o);
  // The space decides the model type: read it from the header before loading the weights.
  const auto state = hat::read_checkpoint_state(o.checkpoint);
  const std::string* space = state.value("space");
  if (!space) throw hat::config_error(o.checkpoint + ": no 'space' recorded (not written by hat train)");
  with_space<space_role::trainable>(*space, o.checkpoint, [&]<class S>() { valid_space<S>(o); });
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto o = std::make_shared<train_cli_options>();
  auto* cmd = app.add_subcommand("train", "train a SuperTransformer (one random SubTransformer per update) or a SubTransformer");
  cmd->add_option("--config", o->config, "training YAML: HAT's keys (space*.yml, common.yml) plus data, space, bpe-*")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--data", o->data, "corpus folder (<split>.<lang>[.gz]) or fairseq's binarized data; overrides the config's 'data'")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--max-updates", o->max_updates, "stop after this many updates; overrides 'max-update'")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--save-dir", o->save_dir, "checkpoints, subwords, loss curves (default: checkpoints)");
  cmd->add_option("--restore-file", o->restore_file,
                  "start from this checkpoint: a training one resumes, a model one (or HAT's .pt) gives inherited weights")
      ->check(CLI::ExistingFile);
  cmd->add_option("--arch", o->arch, "SubTransformer YAML: train this architecture only")->check(CLI::ExistingFile);
  cmd->add_option("--log", o->log, "append one JSON line per update (update, loss, nll, lr, tokens, grad_norm, seconds)");
  cmd->add_option("--device", o->device, "cpu, or cuda (the first GPU)")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "threads (OpenBLAS and the decoder's few-row products)")
      ->check(positive_count())->capture_default_str();
  cmd->add_option("--precision", o->precision,
                  "the products' precision: fp32, or bf16 (bf16 inputs, fp32 accumulation and master weights); overrides "
                  "the config's 'precision' (default fp32)")
      ->check(CLI::IsMember({"fp32", "bf16"}));
  cmd->callback([o] { run_train(*o); });

  auto v = std::make_shared<valid_cli_options>();
  auto* vc = app.add_subcommand("valid-loss", "validation loss (base 2, per token) of SubTransformers with inherited weights");
  vc->add_option("--checkpoint", v->checkpoint, "a checkpoint written by hat train or hat import, or HAT's .pt")
      ->required()
      ->check(CLI::ExistingFile);
  vc->add_option("--data", v->data, "corpus folder, or fairseq's binarized data (HAT's data/binary/...)")
      ->required()
      ->check(CLI::ExistingDirectory);
  vc->add_option("--source-lang", v->source_lang, "the source language (default: the checkpoint's)");
  vc->add_option("--target-lang", v->target_lang, "the target language (default: the checkpoint's)");
  vc->add_option("--batches", v->batches, "validation batches to use (0: all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  vc->add_option("--max-tokens", v->max_tokens, "tokens per validation batch")->check(positive_count())->capture_default_str();
  vc->add_option("--split", v->split, "validation split (default: the one training used)");
  vc->add_option("--bpe-model", v->bpe_model, "SentencePiece model (default: the one training used)")->check(CLI::ExistingFile);
  vc->add_option("--threads", v->threads, "threads (OpenBLAS and the decoder's few-row products)")
      ->check(positive_count())->capture_default_str();
  v->weights.add_to(vc, "converted once, before scoring");
  vc->add_flag("--json", v->json, "one JSON object per file: file, loss, nll, tokens, precision");
  vc->add_option("files", v->files, "SubTransformer YAML files")->required()->check(CLI::ExistingFile);
  vc->callback([v] {
    with_ranks("valid-loss", [&](hat::communicator* comm) {
      v->comm = comm;
      run_valid(*v);
    });
  });
}

}  // namespace hat_cli
