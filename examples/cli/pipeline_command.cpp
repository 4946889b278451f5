// SPDX-License-Identifier: MIT
// `hat pipeline`: the whole HAT method, one command: hat::run_pipeline (include/hat/pipeline/) on
// the space the training config names, on this CPU or, with train-device / latency-device cuda,
// with those steps on the first GPU. A step whose output exists is skipped, and the training and
// latency steps resume themselves, so rerunning an interrupted pipeline resumes it.
// `hat demo`: the same on a built-in task that needs no download: a generated German-English
// grammar corpus where capacity matters, with uniformly scaled baselines (docs/pipeline.md), or
// number words for the seconds-long smoke run.
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <span>
#include <string>

#include <hat/backend/cpu.hpp>
#include <hat/data/grammar_corpus.hpp>
#include <hat/data/number_words.hpp>
#include <hat/interop/xtensor.hpp>
#include <hat/io/atomic_file.hpp>
#include <hat/io/read_file.hpp>
#include <hat/io/same_file.hpp>
#include <hat/pipeline/run_pipeline.hpp>
#include <hat/yaml/pipeline.hpp>
#include <hat/yaml/training.hpp>

#include "commands.hpp"
#include "validators.hpp"
#include "latency_runs.hpp"
#include "ranks.hpp"
#include "train_runs.hpp"

namespace hat_cli {
namespace {

namespace fs = std::filesystem;

struct pipeline_cli_options {
  std::string config, run_dir, data;
  int threads = 0;
};

void run_pipeline(const std::string& config_path, const std::string& run_dir, const std::string& data_override, int threads_override,
                  hat::communicator* comm) {
  const auto cfg = hat::read_pipeline_yaml(config_path);
  const auto tc = hat::parse_training_yaml(hat::read_file(cfg.training_config), cfg.training_config);
  hat::check_training_device(cfg, tc);  // before the configs are copied into the run folder
  hat::pipeline_inputs in;
  in.folder.root = run_dir.empty() ? fs::path(config_path).parent_path() / "run" : fs::path(run_dir);
  in.data = data_override;
  in.threads = threads_override;
  in.comm = comm;
  const bool lead = !comm || comm->rank() == 0;  // prints; the other ranks end quietly
  in.predictor.least_squares = hat::lapack_least_squares;
  in.stop_requested = [] { return train_stop_signal.load() != 0; };
  std::signal(SIGINT, hat_cli_on_stop_signal);
  std::signal(SIGTERM, hat_cli_on_stop_signal);
  if (cfg.train_device == "cuda") in.devices.train = train_model_cuda;
  if (cfg.latency_device == "cuda") {
    in.devices.latency_dataset = [&](const hat::latency_dataset_inputs& l) { return measure_latency_dataset_cuda(tc.space, l); };
    in.devices.measure = [&](std::span<const hat::transformer_config> configs, std::size_t vocab, std::uint64_t seed,
                             const hat::latency_options& lo) { return measure_configs_cuda(tc.space, configs, vocab, seed, lo); };
  }
  fs::create_directories(in.folder.config_dir());
  // The configs this run used, beside its results (unless they are those files already).
  const auto keep_copy = [](const fs::path& copy, const std::string& original, const std::string& text) {
    if (!hat::same_file(copy, original)) hat::write_file_atomic(copy, text);
  };
  hat::on_rank0(comm ? *comm : hat::this_process_alone(), [&] {
    keep_copy(in.folder.config_dir() / "pipeline.yml", config_path, hat::read_file(config_path));
    keep_copy(in.folder.config_dir() / "training.yml", cfg.training_config, tc.text);
  });
  if (const auto w = hat::cpu::blas_warning(); lead && !w.empty()) std::cerr << "hat: warning: " << w << "\n";
  hat::cpu be;
  hat::pipeline_outputs out;
  try {
    with_space<space_role::trainable>(tc.space, cfg.training_config,
                                      [&]<class S>() { out = hat::run_pipeline<S>(be, cfg, tc, in); });
  } catch (const hat::infeasible_constraint& e) {  // on every rank alike
    if (lead) std::cerr << "hat pipeline: " << e.what() << "\n";
    throw exit_code{3};
  } catch (const hat::training_diverged& e) {
    if (lead) std::cerr << "hat pipeline: " << e.what() << "; the last checkpoint is untouched\n";
    throw exit_code{1};
  }
  if (out.stopped) {
    const int sig = train_stop_signal.load() ? train_stop_signal.load() : SIGTERM;
    if (lead)
      std::fprintf(stderr, "hat pipeline: %s: the checkpoint is saved; the same command resumes the run\n",
                   sig == SIGINT ? "interrupted" : "terminated");
    throw exit_code{128 + sig};
  }
  if (!lead) return;
  std::printf("\n%s", out.table.c_str());
  if (out.families.pairs) std::printf("\n%s\n", out.families.sentence().c_str());
  if (out.drift.rows) std::printf("\n%s\n", out.drift.sentence().c_str());
}

// --- hat demo -------------------------------------------------------------------------------

constexpr const char* demo_training_yaml = R"(# The demo's SuperTransformer: German to English on a built-in corpus.
# HAT's keys keep HAT's meaning; `space`, `*-subset`, `bpe-*`, `sampling` and the
# `*-interval-updates` keys are hat's.
space: number-words
share-all-embeddings: True
source-lang: de
target-lang: en
train-subset: train
valid-subset: valid
bpe-vocab-size: 400
max-tokens: 2048
max-source-positions: 64
max-target-positions: 64

# HAT's IWSLT recipe, shortened
optimizer: adam
adam-betas: (0.9, 0.98)
weight-decay: 0.0001
clip-norm: 25
dropout: 0.1
attention-dropout: 0.1
criterion: label_smoothed_cross_entropy
label-smoothing: 0.1
update-freq: 1
max-update: 600
warmup-updates: 100
lr-scheduler: inverse_sqrt
warmup-init-lr: 1e-7
lr: 0.002
seed: 1
sampling: random

log-interval: 50
validate-interval-updates: 200
save-interval-updates: 200
valid-batches: 2

# SuperTransformer (must match the space)
encoder-embed-dim: 128
decoder-embed-dim: 128
encoder-ffn-embed-dim: 256
decoder-ffn-embed-dim: 256
encoder-layers: 2
decoder-layers: 3
encoder-attention-heads: 4
decoder-attention-heads: 4
qkv-dim: 128

# SubTransformers search space (must match the space)
encoder-embed-choice: [128, 64]
decoder-embed-choice: [128, 64]
encoder-ffn-embed-dim-choice: [256, 128]
decoder-ffn-embed-dim-choice: [256, 128]
encoder-layer-num-choice: [2]
decoder-layer-num-choice: [3, 2, 1]
encoder-self-attention-heads-choice: [4, 2]
decoder-self-attention-heads-choice: [4, 2]
decoder-ende-attention-heads-choice: [4, 2]
decoder-arbitrary-ende-attn-choice: [-1, 1]
)";

constexpr const char* demo_pipeline_yaml = R"(# hat demo: the whole HAT pipeline on a built-in corpus (hat pipeline --config this file).
training-config: training.yml
data: ../data
# latency dataset on this device
latency-samples: 100
latency-iters: 10
latency-warmup: 2
latency-passes: 2
# predictor and search; constraints as a share of the slowest measured latency, so that they
# suit any device
predictor-model: auto
latency-constraints: [50%, 75%]
fitness: valid-loss
valid-batches: 2
iterations: 8
population: 30
parents: 8
mutations: 11
crossovers: 11
mutation-prob: 0.3
seed: 1
# SubTransformers: fine-tuned from the inherited weights, then tested
subtransformer-updates: 200
subtransformer-init: inherit
# and, with baselines, a uniformly scaled Transformer at each constraint, trained and tested alike
baselines: False
test-split: test
beam: 5
max-len-a: 0
max-len-b: 40
threads: 2
)";

struct demo_cli_options {
  std::string run_dir = "runs/demo", data, task, valid_split = "valid", test_split = "test", source_lang = "de", target_lang = "en";
  std::size_t bpe_vocab_size = 0;
  int threads = 0;
  bool quick = false;
};

void run_demo(const demo_cli_options& o, hat::communicator* comm) {
  hat::communicator& ranks = comm ? *comm : hat::this_process_alone();  // rank 0 writes the corpus and configs
  const fs::path run = o.run_dir, cfg_dir = run / "config";
  // grammar: the capacity task with baselines; number words: the smoke run's task (--quick)
  const std::string task = !o.task.empty() ? o.task : o.quick ? "number-words" : "grammar";
  fs::create_directories(cfg_dir);
  std::string data = o.data;
  if (data.empty()) {
    data = (run / "data").string();
    hat::on_rank0(ranks, [&] {
    if (!fs::exists(run / "data" / "test.en")) {
      std::size_t pairs = 0;
      if (task == "grammar") {
        hat::grammar_corpus_options g;
        if (o.quick) g.train = 3000, g.valid = 100, g.test = 50;
        hat::write_grammar_corpus(run / "data", g);
        pairs = g.train + g.valid + g.test;
      } else {
        hat::number_words_options nw;
        if (o.quick) nw.train = 3000, nw.valid = 100, nw.test = 50;
        hat::write_number_words_corpus(run / "data", nw);
        pairs = nw.train + nw.valid + nw.test;
      }
      std::fprintf(stderr, "hat demo: wrote %zu German/English %s pairs to %s (train, valid, test)\n", pairs,
                   task == "grammar" ? "sentence" : "number", data.c_str());
    }
    });
  } else {
    data = fs::absolute(data).string();
  }
  std::string training = demo_training_yaml, pipeline = demo_pipeline_yaml;
  const auto set = [](std::string& text, const std::string& key, const std::string& value) {
    const auto at = text.find("\n" + key + ": ");
    if (at == std::string::npos) throw hat::config_error("hat demo: no key " + key);  // the built-in texts have them all
    const auto end = text.find('\n', at + 1);
    text.replace(at + 1, end - at - 1, key + ": " + value);
  };
  if (!o.data.empty()) {
    set(training, "source-lang", o.source_lang);
    set(training, "target-lang", o.target_lang);
    set(training, "valid-subset", o.valid_split);
    set(pipeline, "test-split", o.test_split);
    set(pipeline, "data", data);
    set(training, "bpe-vocab-size", "8000");
  }
  if (task == "grammar") {  // the calibrated budget (docs/pipeline.md): 3 constraints and their baselines
    if (o.data.empty()) set(training, "bpe-vocab-size", "2000");
    set(training, "max-update", "1200");
    set(training, "validate-interval-updates", "400");
    set(training, "save-interval-updates", "400");
    set(pipeline, "subtransformer-updates", "100");
    set(pipeline, "latency-constraints", "[40%, 60%, 80%]");
    set(pipeline, "baselines", "True");
    set(pipeline, "max-len-a", "1.5");
    set(pipeline, "max-len-b", "10");
  }
  if (o.bpe_vocab_size) set(training, "bpe-vocab-size", std::to_string(o.bpe_vocab_size));
  if (o.quick) {  // the plumbing only, in well under a minute: what the command-line test runs
    set(training, "max-update", "30");
    set(training, "validate-interval-updates", "15");
    set(training, "save-interval-updates", "15");
    set(pipeline, "latency-samples", "12");
    set(pipeline, "latency-iters", "2");
    set(pipeline, "latency-warmup", "0");
    set(pipeline, "latency-constraints", "[75%]");
    set(pipeline, "iterations", "2");
    set(pipeline, "population", "8");
    set(pipeline, "parents", "2");
    set(pipeline, "mutations", "3");
    set(pipeline, "crossovers", "3");
    set(pipeline, "valid-batches", "1");
    set(pipeline, "subtransformer-updates", "5");
    set(pipeline, "beam", "2");
    set(pipeline, "predictor-model", "linear");
    set(pipeline, "baselines", "True");  // the smoke run goes through the baselines' steps too
    if (o.data.empty() && !o.bpe_vocab_size) set(training, "bpe-vocab-size", "400");
  }
  // Written once: a rerun resumes with the configs the run started with (edit them to change it).
  hat::on_rank0(ranks, [&] {
    if (!fs::exists(cfg_dir / "training.yml")) hat::write_file_atomic(cfg_dir / "training.yml", training);
    if (!fs::exists(cfg_dir / "pipeline.yml")) hat::write_file_atomic(cfg_dir / "pipeline.yml", pipeline);
  });
  run_pipeline((cfg_dir / "pipeline.yml").string(), run.string(), "", o.threads, comm);
}

}  // namespace

void add_pipeline_command(CLI::App& app) {
  auto o = std::make_shared<pipeline_cli_options>();
  auto* cmd = app.add_subcommand("pipeline", "the whole HAT method: train, measure, predict, search, train, test");
  cmd->add_option("--config", o->config, "pipeline YAML (training-config, latency-constraints, ...)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--run-dir", o->run_dir, "run folder (default: run/ beside the config); rerun to resume");
  cmd->add_option("--data", o->data, "corpus folder; overrides the configs' 'data'")->check(CLI::ExistingDirectory);
  cmd->add_option("--threads", o->threads, "threads for training, search and test (default: the config's)")
      ->check(positive_count());
  cmd->callback([o] {
    with_ranks("pipeline", [&](hat::communicator* comm) { run_pipeline(o->config, o->run_dir, o->data, o->threads, comm); });
  });

  auto d = std::make_shared<demo_cli_options>();
  auto* dc = app.add_subcommand("demo", "the pipeline on a built-in German-English task against uniformly scaled "
                                        "Transformers, no download");
  dc->add_option("--run-dir", d->run_dir, "run folder; rerun to resume")->capture_default_str();
  dc->add_option("--task", d->task, "the built-in corpus: grammar (sentences where capacity matters; the default), or "
                                    "number-words (the default with --quick)")
      ->check(CLI::IsMember({"grammar", "number-words"}));
  dc->add_option("--data", d->data, "run on this corpus instead (<split>.<lang>, see --*-split, --*-lang)")
      ->check(CLI::ExistingDirectory);
  dc->add_option("--source-lang", d->source_lang, "with --data")->capture_default_str();
  dc->add_option("--target-lang", d->target_lang, "with --data")->capture_default_str();
  dc->add_option("--valid-split", d->valid_split, "with --data")->capture_default_str();
  dc->add_option("--test-split", d->test_split, "with --data")->capture_default_str();
  dc->add_option("--bpe-vocab-size", d->bpe_vocab_size, "joint BPE size (default: 400, or 8000 with --data)");
  dc->add_option("--threads", d->threads, "threads (default: the config's, 2)")->check(positive_count());
  dc->add_flag("--quick", d->quick, "a seconds-long smoke run of every step (tiny budgets)");
  dc->callback([d] { with_ranks("demo", [&](hat::communicator* comm) { run_demo(*d, comm); }); });
}

}  // namespace hat_cli
