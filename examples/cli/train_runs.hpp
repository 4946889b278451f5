// SPDX-License-Identifier: MIT
// `hat train` on any backend: the CPU's TU (train_command.cpp) and the CUDA one (cuda_commands.cu) share it.
#pragma once

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <hat/data/load_corpus.hpp>
#include <hat/data/subword_model.hpp>
#include <hat/io/atomic_file.hpp>
#include <hat/yaml/space.hpp>
#include <hat/yaml/subtransformer.hpp>
#include <hat/yaml/training.hpp>
#include <hat/nn/checkpoint.hpp>
#include <hat/train/loss_curve.hpp>
#include <hat/train/trainer.hpp>

#include "cli_spaces.hpp"
#include "json_lines.hpp"

namespace hat_cli {

namespace fs = std::filesystem;

inline std::atomic<int> train_stop_signal{0};
extern "C" inline void hat_cli_on_stop_signal(int sig) { train_stop_signal.store(sig); }

struct train_cli_options {
  std::string config, data, save_dir, restore_file, log, arch, device = "cpu";
  std::int64_t max_updates = -1;
  int threads = 1;
};

// On the GPU (cuda_commands.cu where nvcc built hat, else a clear error).
void run_train_cuda(const train_cli_options& o, const hat::training_config& c);

// What a run trains: a SuperTransformer (by its sampling rule) or one SubTransformer. A
// checkpoint resumes only a run of the same kind; any other run can start from its weights.
inline std::string run_kind(const hat::training_config& c) {
  switch (c.trainer.sampling) {
    case hat::sampling_rule::fixed: return "subtransformer " + hat::detail::arch_line(c.trainer.fixed);
    case hat::sampling_rule::sandwich: return "supertransformer sandwich";
    case hat::sampling_rule::hat_random: break;
  }
  return "supertransformer random";
}

// The state values a training checkpoint carries besides the trainer's: what valid-loss and
// translate need to read text the way training did, and what the run trains.
inline void describe_run(hat::checkpoint_extras& x, const hat::training_config& c, const std::string& subwords) {
  x.values.emplace_back("run", run_kind(c));
  x.values.emplace_back("space", c.space);
  x.values.emplace_back("subwords", fs::absolute(subwords).string());
  x.values.emplace_back("source_lang", c.source_lang);
  x.values.emplace_back("target_lang", c.target_lang);
  x.values.emplace_back("valid_split", c.valid_split);
  x.values.emplace_back("max_positions", std::to_string(c.max_positions));
}

inline hat::subword_model subwords_for(const hat::training_config& c, const hat::corpus_location& at, const fs::path& save_dir) {
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
inline void trim_log(const std::string& path, std::size_t updates) {
  if (path.empty() || !fs::exists(path)) return;
  std::ifstream in(path);
  std::string kept, line;
  std::size_t no = 0;
  while (std::getline(in, line)) {
    ++no;
    if (line.empty()) continue;
    const auto u = update_of_log_line(line);
    if (!u)
      throw hat::config_error(path + ":" + std::to_string(no) +
                              ": not a line of a hat train log; refusing to rewrite the file (choose another --log)");
    if (*u <= updates) kept += line + "\n";
  }
  hat::write_file_atomic(path, kept);
}

/// `hat train` of space S on backend `be`; `device` names it in the opening line.
template <class S, class Backend>
void train_space(Backend& be, const train_cli_options& cli, hat::training_config c, const std::string& device) {
  using trainer_t = hat::trainer<S, Backend>;
  using model_t = typename trainer_t::model_type;
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
    model = std::make_unique<model_t>(hat::load_checkpoint<typename model_t::maxima, Backend>(be, restore, &extras));
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

  std::signal(SIGINT, hat_cli_on_stop_signal);
  std::signal(SIGTERM, hat_cli_on_stop_signal);
  const std::size_t first = t.updates();
  const auto start = std::chrono::steady_clock::now();
  std::size_t tokens = 0;
  std::fprintf(stderr, "hat train: %s, %zu updates (%s), %zu-token batches x %zu, %s\n", c.space.c_str(),
               c.trainer.max_update, fixed ? "one fixed SubTransformer"
                                     : c.trainer.sampling == hat::sampling_rule::sandwich ? "sandwich rule"
                                                                                           : "one random SubTransformer each",
               c.trainer.batching.max_tokens, c.trainer.update_freq, device.c_str());
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
      log << update_json_line(r) << std::flush;
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
    if (const int sig = train_stop_signal.load()) {
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

template <class Backend>
void train_run(Backend& be, const train_cli_options& o, const hat::training_config& c, const std::string& device) {
  with_space<space_role::trainable>(c.space, c.file, [&]<class S>() { train_space<S>(be, o, c, device); });
}

}  // namespace hat_cli
