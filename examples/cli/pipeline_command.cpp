// SPDX-License-Identifier: MIT
// `hat pipeline`: the whole HAT method, one command: SuperTransformer training, a latency dataset
// on this device, the latency predictor, evolutionary search at each latency constraint,
// SubTransformer training and test. Each step is a `hat` command line run in this process (and
// printed, so any step can be rerun by hand); a step whose output exists is skipped, and the
// training and latency steps resume themselves, so rerunning an interrupted pipeline resumes it.
// `hat demo`: the same on a built-in task (number words) that needs no download.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/data/load_corpus.hpp>
#include <hat/data/number_words.hpp>
#include <hat/data/subword_model.hpp>
#include <hat/data/text_reader.hpp>
#include <hat/io/atomic_file.hpp>
#include <hat/io/latency_csv.hpp>
#include <hat/yaml/pipeline.hpp>
#include <hat/io/python_float.hpp>
#include <hat/io/read_file.hpp>
#include <hat/yaml/subtransformer.hpp>
#include <hat/yaml/training.hpp>
#include <hat/nn/checkpoint.hpp>
#include <hat/latency/measure.hpp>
#include <hat/nn/super_transformer.hpp>
#include <hat/predictor/latency_predictor.hpp>

#include "commands.hpp"
#include "json_output.hpp"
#include "latency_runs.hpp"

namespace hat_cli {
namespace {

namespace fs = std::filesystem;

struct pipeline_cli_options {
  std::string config, run_dir, data;
  int threads = 0;
};

std::string fmt(double v, const char* f = "%g") {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

class step_runner {
 public:
  explicit step_runner(std::size_t total) : total_(total), start_(std::chrono::steady_clock::now()) {}

  /// Runs `args` as a `hat` command unless `done` (its output exists); a failure stops the pipeline.
  void operator()(const std::string& what, const std::vector<std::string>& args, bool done = false) {
    ++k_;
    std::string line = "hat";
    for (const auto& a : args) line += " " + (a.find(' ') != std::string::npos ? "'" + a + "'" : a);
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::fflush(stdout);  // the previous step's results before this step's header, when both go to one file
    std::fprintf(stderr, "\nhat pipeline: step %zu/%zu, %s%s (%.0f s so far)\n  $ %s\n", k_, total_, what.c_str(),
                 done ? ": done already, skipped" : "", elapsed, line.c_str());
    if (done) return;
    const int rc = run_hat(args);
    if (rc != 0) {
      std::fprintf(stderr, "hat pipeline: step %zu (%s) failed with exit code %d; fix the cause and rerun hat pipeline to "
                           "resume from this step\n", k_, what.c_str(), rc);
      throw exit_code{rc};
    }
  }
  double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }

 private:
  std::size_t total_, k_ = 0;
  std::chrono::steady_clock::time_point start_;
};

struct result_row {
  std::string constraint, arch;
  double limit_ms = 0, predicted_ms = 0, measured_ms = 0, bleu = 0, bleu_tokenized = 0;
  long long params = 0, flops = 0;
};

void write_results(const fs::path& dir, const std::vector<result_row>& rows, const std::string& device) {
  std::string md = "| constraint | predicted latency (ms) | measured latency (ms) | #params (M) | FLOPs (G) | BLEU | tokenized BLEU | architecture |\n"
                   "|---|---|---|---|---|---|---|---|\n";
  std::string csv = "constraint,limit_ms,predicted_ms,measured_ms,params,flops,bleu,bleu_tokenized,arch\n";
  json results = json::array();
  for (const auto& r : rows) {
    md += "| " + r.constraint + " (" + fmt(r.limit_ms, "%.2f") + " ms) | " + fmt(r.predicted_ms, "%.2f") + " | " +
          fmt(r.measured_ms, "%.2f") + " | " + fmt(static_cast<double>(r.params) / 1e6, "%.2f") + " | " +
          fmt(static_cast<double>(r.flops) / 1e9, "%.3f") + " | " + fmt(r.bleu, "%.2f") + " | " + fmt(r.bleu_tokenized, "%.2f") +
          " | `" + r.arch + "` |\n";
    csv += r.constraint + "," + fmt(r.limit_ms, "%.17g") + "," + fmt(r.predicted_ms, "%.17g") + "," + fmt(r.measured_ms, "%.17g") +
           "," + std::to_string(r.params) + "," + std::to_string(r.flops) + "," + fmt(r.bleu, "%.17g") + "," +
           fmt(r.bleu_tokenized, "%.17g") + ",\"" + r.arch + "\"\n";
    results.push_back({{"constraint", r.constraint},
                       {"limit_ms", r.limit_ms},
                       {"predicted_ms", r.predicted_ms},
                       {"measured_ms", r.measured_ms},
                       {"params", r.params},
                       {"flops", r.flops},
                       {"bleu", r.bleu},
                       {"bleu_tokenized", r.bleu_tokenized},
                       {"arch", r.arch}});
  }
  hat::write_file_atomic(dir / "results.md", "Measured on " + device + ".\n\n" + md);
  hat::write_file_atomic(dir / "results.csv", csv);
  write_json_atomic(dir / "results.json", results);
  std::printf("\n%s", md.c_str());
}

template <class S>
void run_space(const hat::pipeline_config& cfg, const hat::training_config& tc, const std::string& data, const fs::path& run,
               int threads, step_runner& step) {
  const fs::path super_dir = run / "supertransformer";
  const bool given = !cfg.supertransformer_checkpoint.empty();
  const fs::path super_ckpt = given ? fs::path(cfg.supertransformer_checkpoint) : super_dir / "checkpoint_last.hat";
  const std::string T = std::to_string(threads);
  const std::string space = tc.space;
  // 1. SuperTransformer (hat train resumes from its folder and returns at once when done).
  std::vector<std::string> train{"train", "--config", tc.file, "--data", data, "--save-dir", super_dir.string(), "--threads", T,
                                 "--device", cfg.train_device};
  if (cfg.supertransformer_updates) train.insert(train.end(), {"--max-updates", std::to_string(cfg.supertransformer_updates)});
  step(given ? "train the SuperTransformer (given: " + super_ckpt.string() + ")" : "train the SuperTransformer", train, given);

  // 2. Latency dataset, with the real vocabulary and the corpus's mean source length.
  std::string subword_file = (super_dir / "subwords.model").string();
  if (given) {
    const auto state = hat::read_checkpoint_state(super_ckpt.string());
    if (const std::string* space_of = state.value("space"); !space_of || *space_of != space)
      throw hat::config_error(super_ckpt.string() + ": not a SuperTransformer of space '" + space + "'");
    subword_file = recorded_value(state, super_ckpt.string(), "subwords", "");
  }
  const auto subwords = hat::subword_model::load(subword_file);
  std::size_t length = cfg.latency_source_length;
  if (length == 0) {
    const auto valid = hat::read_lines(hat::corpus_location{data, tc.source_lang, tc.target_lang}.file(tc.valid_split, tc.source_lang));
    double sum = 0;
    for (const auto& l : valid) sum += static_cast<double>(subwords.encode(l).size() + 1);
    length = std::max<std::size_t>(2, static_cast<std::size_t>(std::lround(sum / static_cast<double>(std::max<std::size_t>(1, valid.size())))));
  }
  const fs::path csv = run / "latency" / "latency.csv";
  fs::create_directories(csv.parent_path());
  step("measure the latency dataset on this device",
       {"latency-dataset", "--space", space, "--samples", std::to_string(cfg.latency_samples), "--out", csv.string(), "--seed",
        std::to_string(cfg.seed), "--iters", std::to_string(cfg.latency_iters), "--warmup", std::to_string(cfg.latency_warmup),
        "--beam", std::to_string(cfg.latency_beam), "--source-length", std::to_string(length), "--vocab",
        std::to_string(subwords.size()), "--threads", std::to_string(cfg.latency_threads), "--device", cfg.latency_device});
  const auto table = hat::read_latency_csv(csv);
  double slowest = 0;
  for (const auto& r : table.rows) slowest = std::max(slowest, r.total_ms());

  // 3. Predictor.
  const fs::path pred_file = run / "predictor" / "latency.pred";
  fs::create_directories(pred_file.parent_path());
  step("train the latency predictor",
       {"predictor", "train", "--csv", csv.string(), "--lat-norm", hat::python_repr(cfg.predictor_lat_norm > 0 ? cfg.predictor_lat_norm : slowest),
        "--out", pred_file.string(), "--model", cfg.predictor_model, "--plot", (run / "predictor" / "fit.svg").string(), "--seed",
        std::to_string(cfg.seed), "--threads", T},
       fs::exists(pred_file));

  std::vector<result_row> rows;
  for (const auto& limit : cfg.latency_constraints) {
    const std::string name = limit.name();
    const double ms = limit.ms(slowest);
    // 4. Search with the SuperTransformer's validation loss as fitness.
    const fs::path arch_file = run / "search" / (name + ".yml");
    fs::create_directories(arch_file.parent_path());
    step("search under " + fmt(ms, "%.2f") + " ms (" + name + ")",
         {"search", "--space", space, "--predictor", pred_file.string(), "--latency-constraint", hat::python_repr(ms), "--fitness",
          cfg.fitness, "--checkpoint", super_ckpt.string(), "--data", data, "--valid-batches", std::to_string(cfg.valid_batches),
          "--out", arch_file.string(), "--history", (run / "search" / (name + ".csv")).string(), "--seed",
          std::to_string(cfg.seed), "--iterations", std::to_string(cfg.iterations), "--population",
          std::to_string(cfg.population), "--parents", std::to_string(cfg.parents), "--mutations", std::to_string(cfg.mutations),
          "--crossovers", std::to_string(cfg.crossovers), "--mutation-prob", hat::python_repr(cfg.mutation_prob), "--threads", T},
         fs::exists(arch_file));
    // 5. SubTransformer training (inherited weights unless scratch; resumes from its own folder).
    const fs::path sub_dir = run / "subtransformer" / name, sub_ckpt = sub_dir / "checkpoint_last.hat";
    std::vector<std::string> sub{"train", "--config", tc.file, "--data", data, "--save-dir", sub_dir.string(), "--arch",
                                 arch_file.string(), "--max-updates", std::to_string(cfg.subtransformer_updates), "--threads", T,
                                 "--device", cfg.train_device};
    if (cfg.subtransformer_inherit && !fs::exists(sub_ckpt)) sub.insert(sub.end(), {"--restore-file", super_ckpt.string()});
    step("train the SubTransformer found under " + name, sub);
    // 6. Test: BLEU both ways, #params, FLOPs.
    const fs::path test_json = run / "test" / (name + ".json");
    fs::create_directories(test_json.parent_path());
    step("test the SubTransformer found under " + name,
         {"test", "--checkpoint", sub_ckpt.string(), "--arch", arch_file.string(), "--data", data, "--split", cfg.test_split.empty() ? tc.test_split : cfg.test_split,
          "--beam", std::to_string(cfg.beam), "--lenpen", hat::python_repr(cfg.lenpen), "--max-len-a", hat::python_repr(cfg.max_len_a),
          "--max-len-b", std::to_string(cfg.max_len_b), "--out", (run / "test" / (name + ".hyp")).string(), "--out-json",
          test_json.string(), "--flops-length", std::to_string(length), "--quiet", "--threads", T},
         fs::exists(test_json));
    const json t = read_json(test_json);
    const std::string where = test_json.string();
    result_row r;
    r.constraint = name;
    r.limit_ms = ms;
    r.bleu = json_get<double>(t, "bleu", where);
    r.bleu_tokenized = json_get<double>(t, "bleu_tokenized", where);
    r.params = json_get<long long>(t, "params", where);
    r.flops = json_get<long long>(t, "flops", where);
    const auto a = hat::read_subtransformer_yaml<S>(arch_file.string());
    r.arch = a.to_string();
    rows.push_back(r);
  }

  // 7. Predicted against measured latency of each result, on this device, as the dataset was measured.
  std::fprintf(stderr, "\nhat pipeline: last step, measure the latency of each result (%zu timed runs, sentences of %zu tokens)\n",
               cfg.latency_iters, length);
  hat::cpu::set_threads(cfg.latency_threads);
  hat::cpu be;
  auto pred = hat::latency_predictor<hat::cpu>::load(be, pred_file.string());
  hat::latency_options lo;
  lo.source_length = length;
  lo.beam = cfg.latency_beam;
  lo.iters = cfg.latency_iters;
  lo.warmup = cfg.latency_warmup;
  std::vector<hat::transformer_config> configs;
  for (auto& r : rows) {
    const auto a = hat::read_subtransformer_yaml<S>((run / "search" / (r.constraint + ".yml")).string());
    r.predicted_ms = pred(a);
    configs.push_back(hat::config_of(a));
  }
  measured_totals measured;
  if (cfg.latency_device == "cuda") {
    measured = measure_configs_cuda(space, configs, subwords.size(), cfg.seed, lo);
  } else {
    measured.ms = measure_configs<S>(be, configs, subwords.size(), cfg.seed, lo);
    measured.device = "this CPU (" + std::to_string(cfg.latency_threads) + " thread(s), OpenBLAS " + hat::cpu::blas_core() + ")";
  }
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i].measured_ms = measured.ms[i];
  write_results(run, rows, measured.device);
  std::fprintf(stderr, "hat pipeline: done in %.0f s; %s/results.md, .csv, .json; plots: supertransformer/loss.svg, "
                       "predictor/fit.svg, search/*.svg\n", step.seconds(), run.string().c_str());
}

void run_pipeline(const std::string& config_path, const std::string& run_dir, const std::string& data_override, int threads_override) {
  const auto cfg = hat::read_pipeline_yaml(config_path);
  const auto tc = hat::parse_training_yaml(hat::read_file(cfg.training_config), cfg.training_config);
  std::string data = !data_override.empty() ? data_override : !cfg.data.empty() ? cfg.data : tc.resolve(tc.data);
  if (data.empty()) throw hat::config_error(config_path + ": no corpus: set 'data' here or in " + cfg.training_config + ", or pass --data");
  const fs::path run = run_dir.empty() ? fs::path(config_path).parent_path() / "run" : fs::path(run_dir);
  fs::create_directories(run / "config");
  // The configs this run used, beside its results.
  hat::write_file_atomic(run / "config" / "pipeline.yml", hat::read_file(config_path));
  hat::write_file_atomic(run / "config" / "training.yml", tc.text);
  const int threads = threads_override > 0 ? threads_override : cfg.threads;
  step_runner step(3 + 3 * cfg.latency_constraints.size());
  with_space<space_role::trainable>(tc.space, cfg.training_config, [&]<class S>() { run_space<S>(cfg, tc, data, run, threads, step); });
}

// --- hat demo -------------------------------------------------------------------------------

constexpr const char* demo_training_yaml = R"(# The demo's SuperTransformer: German number words to English ones.
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

constexpr const char* demo_pipeline_yaml = R"(# hat demo: the whole HAT pipeline on number words (hat pipeline --config this file).
training-config: training.yml
data: ../data
# latency dataset on this device
latency-samples: 100
latency-iters: 10
latency-warmup: 2
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
test-split: test
beam: 5
max-len-b: 40
threads: 2
)";

struct demo_cli_options {
  std::string run_dir = "runs/demo", data, valid_split = "valid", test_split = "test", source_lang = "de", target_lang = "en";
  std::size_t bpe_vocab_size = 0;
  int threads = 0;
  bool quick = false;
};

void run_demo(const demo_cli_options& o) {
  const fs::path run = o.run_dir, cfg_dir = run / "config";
  fs::create_directories(cfg_dir);
  std::string data = o.data;
  if (data.empty()) {
    data = (run / "data").string();
    if (!fs::exists(run / "data" / "test.en")) {
      hat::number_words_options nw;
      if (o.quick) nw.train = 3000, nw.valid = 100, nw.test = 50;
      hat::write_number_words_corpus(run / "data", nw);
      std::fprintf(stderr, "hat demo: wrote %zu German/English number pairs to %s (train, valid, test)\n",
                   nw.train + nw.valid + nw.test, data.c_str());
    }
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
  }
  // Written once: a rerun resumes with the configs the run started with (edit them to change it).
  if (!fs::exists(cfg_dir / "training.yml")) hat::write_file_atomic(cfg_dir / "training.yml", training);
  if (!fs::exists(cfg_dir / "pipeline.yml")) hat::write_file_atomic(cfg_dir / "pipeline.yml", pipeline);
  run_pipeline((cfg_dir / "pipeline.yml").string(), run.string(), "", o.threads);
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
      ->check(CLI::PositiveNumber);
  cmd->callback([o] { run_pipeline(o->config, o->run_dir, o->data, o->threads); });

  auto d = std::make_shared<demo_cli_options>();
  auto* dc = app.add_subcommand("demo", "the pipeline on a built-in task (German to English number words), no download");
  dc->add_option("--run-dir", d->run_dir, "run folder; rerun to resume")->capture_default_str();
  dc->add_option("--data", d->data, "run on this corpus instead (<split>.<lang>, see --*-split, --*-lang)")
      ->check(CLI::ExistingDirectory);
  dc->add_option("--source-lang", d->source_lang, "with --data")->capture_default_str();
  dc->add_option("--target-lang", d->target_lang, "with --data")->capture_default_str();
  dc->add_option("--valid-split", d->valid_split, "with --data")->capture_default_str();
  dc->add_option("--test-split", d->test_split, "with --data")->capture_default_str();
  dc->add_option("--bpe-vocab-size", d->bpe_vocab_size, "joint BPE size (default: 400, or 8000 with --data)");
  dc->add_option("--threads", d->threads, "threads (default: the config's, 2)")->check(CLI::PositiveNumber);
  dc->add_flag("--quick", d->quick, "a minute-long smoke run of every step (tiny budgets)");
  dc->callback([d] { run_demo(*d); });
}

}  // namespace hat_cli
