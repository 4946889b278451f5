// SPDX-License-Identifier: MIT
// `hat train` and `hat valid-loss`: SuperTransformer / SubTransformer training on a parallel corpus, and HAT's fitness.
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/data/load_corpus.hpp>
#include <hat/data/subword_model.hpp>
#include <hat/io/atomic_file.hpp>
#include <hat/io/space_yaml.hpp>
#include <hat/io/subtransformer_yaml.hpp>
#include <hat/io/training_yaml.hpp>
#include <hat/nn/checkpoint.hpp>
#include <hat/space/small_spaces.hpp>
#include <hat/train/loss_curve.hpp>
#include <hat/train/trainer.hpp>

#include "commands.hpp"

namespace hat_cli {
namespace {

namespace fs = std::filesystem;

std::atomic<int> stop_signal{0};
extern "C" void on_stop_signal(int sig) { stop_signal.store(sig); }

struct train_cli_options {
  std::string config, data, save_dir, restore_file, log, arch;
  std::int64_t max_updates = -1;
  int threads = 1;
};

// What a run trains: a SuperTransformer (by its sampling rule) or one SubTransformer. A
// checkpoint resumes only a run of the same kind; any other run can start from its weights.
std::string run_kind(const hat::training_config& c) {
  switch (c.trainer.sampling) {
    case hat::sampling_rule::fixed: return "subtransformer " + hat::detail::arch_line(c.trainer.fixed);
    case hat::sampling_rule::sandwich: return "supertransformer sandwich";
    case hat::sampling_rule::hat_random: break;
  }
  return "supertransformer random";
}

// The state values a training checkpoint carries besides the trainer's: what valid-loss and
// translate need to read text the way training did, and what the run trains.
void describe_run(hat::checkpoint_extras& x, const hat::training_config& c, const std::string& subwords) {
  x.values.emplace_back("run", run_kind(c));
  x.values.emplace_back("space", c.space);
  x.values.emplace_back("subwords", fs::absolute(subwords).string());
  x.values.emplace_back("source_lang", c.source_lang);
  x.values.emplace_back("target_lang", c.target_lang);
  x.values.emplace_back("valid_split", c.valid_split);
  x.values.emplace_back("max_positions", std::to_string(c.max_positions));
}

hat::subword_model subwords_for(const hat::training_config& c, const hat::corpus_location& at, const fs::path& save_dir) {
  if (!c.bpe_model.empty()) return hat::subword_model::load(c.resolve(c.bpe_model));
  const fs::path own = save_dir / "subwords.model";
  if (fs::exists(own)) return hat::subword_model::load(own.string());
  const auto src = hat::read_lines(at.file(c.train_split, c.source_lang));
  const auto tgt = hat::read_lines(at.file(c.train_split, c.target_lang));
  std::fprintf(stderr, "hat train: learning a joint BPE of %zu subwords from %zu sentence pairs -> %s\n", c.bpe_vocab_size,
               src.size(), own.c_str());
  hat::subword_options o;
  o.vocab_size = c.bpe_vocab_size;
  return hat::subword_model::train({&src, &tgt}, own.string(), o);
}

// Keeps only the JSON lines of updates <= `updates` (a resumed run rewrites what follows).
// Refuses to touch a file that is not such a log.
void trim_log(const std::string& path, std::size_t updates) {
  if (path.empty() || !fs::exists(path)) return;
  std::ifstream in(path);
  std::string kept, line;
  std::size_t no = 0;
  while (std::getline(in, line)) {
    ++no;
    if (line.empty()) continue;
    const std::string prefix = "{\"update\": ";
    std::size_t used = 0;
    unsigned long long u = 0;
    try {
      if (line.compare(0, prefix.size(), prefix) != 0) throw std::invalid_argument(line);
      u = std::stoull(line.substr(prefix.size()), &used);
    } catch (const std::exception&) {
      throw hat::config_error(path + ":" + std::to_string(no) +
                              ": not a line of a hat train log; refusing to rewrite the file (choose another --log)");
    }
    if (u <= updates) kept += line + "\n";
  }
  hat::write_file_atomic(path, kept);
}

template <class S>
void train_space(const train_cli_options& cli, hat::training_config c) {
  using trainer_t = hat::trainer<S, hat::cpu>;
  using model_t = typename trainer_t::model_type;
  hat::cpu be;
  if (c.has_space_keys) {
    const auto diffs = hat::space_yaml_differences<S>(c.text, c.file);
    if (!diffs.empty()) {
      std::string all;
      for (const auto& d : diffs) all += "\n  " + d;
      throw hat::config_error(c.file + ": the search-space keys differ from space '" + c.space + "':" + all);
    }
  }
  if (c.data.empty()) throw hat::config_error(c.file + ": no data folder: set 'data' or pass --data");
  const fs::path save_dir = cli.save_dir.empty() ? fs::path("checkpoints") : fs::path(cli.save_dir);
  fs::create_directories(save_dir);
  const hat::corpus_location at{c.data, c.source_lang, c.target_lang};
  const hat::subword_model subwords = subwords_for(c, at, save_dir);
  hat::corpus_stats st;
  const auto train = hat::load_corpus(at, c.train_split, subwords, c.max_positions, &st);
  std::fprintf(stderr, "hat train: %s: %zu pairs (%zu empty, %zu longer than %zu dropped), %zu target tokens\n",
               c.train_split.c_str(), st.kept, st.empty, st.too_long, c.max_positions, train.target_tokens());
  const auto valid = hat::load_corpus(at, c.valid_split, subwords, c.max_positions, &st);
  std::fprintf(stderr, "hat train: %s: %zu pairs\n", c.valid_split.c_str(), valid.size());

  // The architecture of SubTransformer training.
  std::string arch_file = cli.arch.empty() ? c.resolve(c.subtransformer_config) : cli.arch;
  if (c.train_subtransformer || !cli.arch.empty()) {
    if (arch_file.empty())
      throw hat::config_error(c.file + ": train-subtransformer needs its architecture: set 'subtransformer-config' or pass --arch");
    c.trainer.sampling = hat::sampling_rule::fixed;
    c.trainer.fixed = hat::config_of(hat::read_subtransformer_yaml<S>(arch_file));
  }

  // The model: resumed (checkpoint_last in the save folder, or --restore-file), or new.
  const std::size_t vocab = subwords.size();
  const hat::vocabulary_sizes v{vocab, vocab, c.share_all_embeddings ? hat::embedding_sharing::all : hat::embedding_sharing::decoder};
  const fs::path last = save_dir / "checkpoint_last.hat";
  const std::string restore = !cli.restore_file.empty() ? cli.restore_file : fs::exists(last) ? last.string() : "";
  hat::checkpoint_extras extras;
  std::unique_ptr<model_t> model;
  if (!restore.empty()) {
    model = std::make_unique<model_t>(hat::load_checkpoint<typename model_t::maxima, hat::cpu>(be, restore, &extras));
    if (model->vocabulary().source != vocab)
      throw hat::config_error(restore + ": its vocabulary has " + std::to_string(model->vocabulary().source) +
                              " entries, the subword model " + std::to_string(vocab));
  } else {
    model = std::make_unique<model_t>(be, v);
    model->init_hat(be, c.init_seed);
  }
  trainer_t t(be, *model, train, c.trainer);
  if (!restore.empty()) {
    const std::string* kind = extras.value("run");
    const bool same_run = extras.value("trainer") && kind && *kind == run_kind(c);
    if (same_run) {
      t.restore(extras, restore);
      std::fprintf(stderr, "hat train: resumed from %s at update %zu\n", restore.c_str(), t.updates());
    } else if (cli.restore_file.empty()) {  // found in the save folder: never overwrite another run's checkpoint
      throw hat::config_error(restore + " is a checkpoint of another run (" + (kind ? *kind : std::string("no training state")) +
                              "); choose another --save-dir, or pass it as --restore-file to start from its weights");
    } else {
      std::fprintf(stderr, "hat train: starting from the weights of %s (inherited%s)\n", restore.c_str(),
                   kind ? (", its training state belongs to: " + *kind).c_str() : "");
    }
  }
  trim_log(cli.log, t.updates());
  std::ofstream log;
  if (!cli.log.empty()) {
    log.open(cli.log, std::ios::app);
    log.precision(17);  // exact doubles: runs can be compared line by line
    if (!log) throw hat::config_error(cli.log + ": cannot open the log for writing");
  }

  const bool fixed = c.trainer.sampling == hat::sampling_rule::fixed;
  const std::vector<std::pair<std::string, hat::transformer_config>> watched =
      fixed ? std::vector<std::pair<std::string, hat::transformer_config>>{{"subtransformer", c.trainer.fixed}}
            : std::vector<std::pair<std::string, hat::transformer_config>>{
                  {"largest", hat::config_of(hat::represent_largest<S>())},
                  {"smallest", hat::config_of(hat::represent_smallest<S>())}};
  hat::validation_log vlog;
  const fs::path vlog_path = save_dir / "valid.csv";
  if (fs::exists(vlog_path)) vlog = hat::read_validation_log(vlog_path.string(), t.updates());
  const auto validate = [&] {
    for (const auto& [name, cfg] : watched) {
      const auto s = hat::validation_loss(be, *model, cfg, valid, c.trainer.valid_max_tokens, c.valid_batches,
                                          c.trainer.label_smoothing);
      const double bits = hat::per_token_bits(s.loss, s.tokens);
      vlog.add(t.updates(), name, bits, hat::per_token_bits(s.nll, s.tokens));
      std::fprintf(stderr, "hat train: update %zu: valid loss %s %.4f (nll %.4f, ppl %.2f) over %zu tokens\n", t.updates(),
                   name.c_str(), bits, hat::per_token_bits(s.nll, s.tokens), std::exp2(hat::per_token_bits(s.nll, s.tokens)),
                   s.tokens);
    }
  };
  const auto save = [&] {
    hat::checkpoint_extras run;
    describe_run(run, c, subwords.path());
    t.save(last, run);
    hat::write_loss_curve(t.history(), vlog, (save_dir / "loss").string());
    hat::write_validation_log(vlog, vlog_path.string());
  };

  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  const std::size_t first = t.updates();
  const auto start = std::chrono::steady_clock::now();
  std::size_t tokens = 0;
  std::fprintf(stderr, "hat train: %s, %zu updates (%s), %zu-token batches x %zu, %zu threads\n", c.space.c_str(),
               c.trainer.max_update, fixed ? "one fixed SubTransformer"
                                     : c.trainer.sampling == hat::sampling_rule::sandwich ? "sandwich rule"
                                                                                           : "one random SubTransformer each",
               c.trainer.batching.max_tokens, c.trainer.update_freq, static_cast<std::size_t>(cli.threads));
  while (!t.done()) {
    hat::update_record r;
    try {
      r = t.step();
    } catch (const hat::training_diverged& e) {
      std::cerr << "hat train: " << e.what() << "; the last checkpoint (" << last.string() << ") is untouched\n";
      throw exit_code{1};
    }
    tokens += r.tokens;
    if (log)
      log << "{\"update\": " << r.update << ", \"loss\": " << r.loss << ", \"nll\": " << r.nll << ", \"lr\": " << r.lr
          << ", \"tokens\": " << r.tokens << ", \"grad_norm\": " << r.grad_norm << ", \"seconds\": " << r.seconds << "}\n"
          << std::flush;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::size_t done_here = t.updates() - first;
    if (c.log_interval && (t.updates() % c.log_interval == 0 || t.done())) {
      const double eta = elapsed / static_cast<double>(done_here) * static_cast<double>(c.trainer.max_update - t.updates());
      std::fprintf(stderr, "update %zu/%zu | loss %.3f | nll %.3f | lr %.3g | %.0f tok/s | epoch %zu | ETA %.0f s\n",
                   t.updates(), c.trainer.max_update, r.loss, r.nll, r.lr, static_cast<double>(tokens) / elapsed, t.epoch(),
                   eta);
    }
    if (c.validate_interval_updates && t.updates() % c.validate_interval_updates == 0 && !t.done()) validate();
    if (c.save_interval_updates && t.updates() % c.save_interval_updates == 0 && !t.done()) save();
    if (const int sig = stop_signal.load()) {
      save();
      std::fprintf(stderr, "hat train: %s at update %zu: saved %s; the same command resumes it\n",
                   sig == SIGINT ? "interrupted" : "terminated", t.updates(), last.c_str());
      throw exit_code{128 + sig};
    }
  }
  validate();
  save();
  std::fprintf(stderr, "hat train: done, %zu updates; %s, %s.csv, %s.svg\n", t.updates(), last.c_str(),
               (save_dir / "loss").c_str(), (save_dir / "loss").c_str());
}

void run_train(const train_cli_options& o) {
  hat::cpu::set_threads(o.threads);
  hat::training_config c = hat::read_training_yaml(o.config);
  if (!o.data.empty()) c.data = o.data;
  else c.data = c.resolve(c.data);
  if (o.max_updates >= 0) c.trainer.max_update = static_cast<std::size_t>(o.max_updates);
  with_training_space(c.space, c.file, [&]<class S>() { train_space<S>(o, c); });
}

struct valid_cli_options {
  std::string checkpoint, data, bpe_model, split;
  std::vector<std::string> files;
  std::int64_t batches = 0, max_tokens = 4096;
  int threads = 1;
  bool json = false;
};

template <class S>
void valid_space(const valid_cli_options& o) {
  using model_t = hat::super_transformer_for<S, hat::cpu>;
  hat::cpu be;
  hat::checkpoint_extras x;
  const auto model = hat::load_checkpoint<typename model_t::maxima, hat::cpu>(be, o.checkpoint, &x);
  const auto value = [&](const char* key, const std::string& given) { return recorded_value(x, o.checkpoint, key, given); };
  const auto subwords = hat::subword_model::load(value("subwords", o.bpe_model));
  const hat::corpus_location at{o.data, value("source_lang", ""), value("target_lang", "")};
  const std::string* mp = x.value("max_positions");
  const auto valid = hat::load_corpus(at, value("valid_split", o.split), subwords, mp ? std::stoul(*mp) : 1024);
  int failed = 0;
  for (const auto& file : o.files) {
    try {
      const auto cfg = hat::config_of(hat::read_subtransformer_yaml<S>(file));
      const auto s = hat::validation_loss(be, model, cfg, valid, static_cast<std::size_t>(o.max_tokens),
                                          static_cast<std::size_t>(o.batches));
      const double bits = hat::per_token_bits(s.loss, s.tokens), nll = hat::per_token_bits(s.nll, s.tokens);
      if (o.json)
        std::printf("{\"file\": \"%s\", \"loss\": %.6f, \"nll\": %.6f, \"tokens\": %zu}\n", json_escape(file).c_str(), bits, nll,
                    s.tokens);
      else
        std::printf("%s: valid loss %.4f bits/token (nll %.4f, ppl %.2f) over %zu tokens\n", file.c_str(), bits, nll,
                    std::exp2(nll), s.tokens);
      std::fflush(stdout);
    } catch (const hat::config_error& e) {
      std::cerr << "hat valid-loss: " << e.what() << "\n";
      ++failed;
    } catch (const hat::invalid_arch& e) {
      std::cerr << "hat valid-loss: " << file << ": " << e.what() << "\n";
      ++failed;
    }
  }
  if (failed) throw exit_code{1};
}

void run_valid(const valid_cli_options& o) {
  hat::cpu::set_threads(o.threads);
  // The space decides the model type: read it from the header before loading the weights.
  const auto state = hat::read_checkpoint_state(o.checkpoint);
  const std::string* space = state.value("space");
  if (!space) throw hat::config_error(o.checkpoint + ": no 'space' recorded (not written by hat train)");
  with_training_space(*space, o.checkpoint, [&]<class S>() { valid_space<S>(o); });
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto o = std::make_shared<train_cli_options>();
  auto* cmd = app.add_subcommand("train", "train a SuperTransformer (one random SubTransformer per update) or a SubTransformer");
  cmd->add_option("--config", o->config, "training YAML: HAT's keys (space*.yml, common.yml) plus data, space, bpe-*")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--data", o->data, "corpus folder (<split>.<lang>[.gz]); overrides the config's 'data'")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--max-updates", o->max_updates, "stop after this many updates; overrides 'max-update'")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--save-dir", o->save_dir, "checkpoints, subwords, loss curves (default: checkpoints)");
  cmd->add_option("--restore-file", o->restore_file,
                  "start from this checkpoint: a training one resumes, a model one gives inherited weights")
      ->check(CLI::ExistingFile);
  cmd->add_option("--arch", o->arch, "SubTransformer YAML: train this architecture only")->check(CLI::ExistingFile);
  cmd->add_option("--log", o->log, "append one JSON line per update (update, loss, nll, lr, tokens, grad_norm, seconds)");
  cmd->add_option("--threads", o->threads, "OpenBLAS threads")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->callback([o] { run_train(*o); });

  auto v = std::make_shared<valid_cli_options>();
  auto* vc = app.add_subcommand("valid-loss", "validation loss (base 2, per token) of SubTransformers with inherited weights");
  vc->add_option("--checkpoint", v->checkpoint, "a checkpoint written by hat train")->required()->check(CLI::ExistingFile);
  vc->add_option("--data", v->data, "corpus folder")->required()->check(CLI::ExistingDirectory);
  vc->add_option("--batches", v->batches, "validation batches to use (0: all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  vc->add_option("--max-tokens", v->max_tokens, "tokens per validation batch")->check(CLI::PositiveNumber)->capture_default_str();
  vc->add_option("--split", v->split, "validation split (default: the one training used)");
  vc->add_option("--bpe-model", v->bpe_model, "SentencePiece model (default: the one training used)")->check(CLI::ExistingFile);
  vc->add_option("--threads", v->threads, "OpenBLAS threads")->check(CLI::PositiveNumber)->capture_default_str();
  vc->add_flag("--json", v->json, "one JSON object per file: file, loss, nll, tokens");
  vc->add_option("files", v->files, "SubTransformer YAML files")->required()->check(CLI::ExistingFile);
  vc->callback([v] { run_valid(*v); });
}

}  // namespace hat_cli
