// SPDX-License-Identifier: MIT
// `hat latency-dataset`: sample architectures of a space, measure each with HAT's latency
// protocol on this device, and write HAT's CSV (plus every gene as extra columns). Resumable:
// a rerun with the same seed checks the rows already written and measures the rest.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/io/latency_csv.hpp>
#include <hat/nn/latency_dataset.hpp>
#include <hat/nn/super_transformer.hpp>

#include "commands.hpp"

namespace hat_cli {
namespace {

struct latency_dataset_cli_options {
  std::string task, space, out;
  std::size_t samples = 2000, iters = 20, warmup = 5, beam = 5, source_length = 0, vocab = 0;
  std::uint64_t seed = 1;
  int threads = 1;
  bool quiet = false;
};

template <class S>
void run_space(const latency_dataset_cli_options& o, std::size_t source_length, std::size_t vocab, bool shared) {
  using model_t = hat::super_transformer_for<S, hat::cpu>;
  hat::cpu be;
  model_t super(be, {vocab, vocab, shared ? hat::embedding_sharing::all : hat::embedding_sharing::none});
  super.init_hat(be, o.seed);  // latency does not depend on the values (hat-spec 5.3)
  hat::rng g(o.seed);
  std::vector<hat::arch<S>> archs;
  for (std::size_t i = 0; i < o.samples; ++i) archs.push_back(hat::arch<S>::sample(g));

  hat::latency_table table;
  table.extra_columns = hat::latency_gene_columns<S>();
  if (std::filesystem::exists(o.out)) {
    auto done = hat::read_latency_csv(o.out);
    if (done.extra_columns != table.extra_columns)
      throw hat::config_error(o.out + ": its columns are not those of this space's dataset (another --space or --task?)");
    if (done.rows.size() > o.samples)
      throw hat::config_error(o.out + ": has " + std::to_string(done.rows.size()) + " rows, more than --samples " +
                              std::to_string(o.samples));
    for (std::size_t i = 0; i < done.rows.size(); ++i) {
      const auto expected = hat::latency_dataset_row(archs[i], {});
      if (done.rows[i].features != expected.features || done.rows[i].extra != expected.extra)
        throw hat::config_error(o.out + ":" + std::to_string(i + 2) + ": not the architecture that --seed " +
                                std::to_string(o.seed) + " samples there (another seed or space?); nothing was changed");
    }
    table = std::move(done);
    if (!o.quiet && !table.rows.empty())
      std::fprintf(stderr, "hat latency-dataset: %s has %zu of %zu rows; measuring the rest\n", o.out.c_str(),
                   table.rows.size(), o.samples);
  }
  hat::latency_options lo;
  lo.source_length = source_length;
  lo.beam = o.beam;
  lo.iters = o.iters;
  lo.warmup = o.warmup;
  lo.trim = hat::trim_rule::dataset;
  const auto start = std::chrono::steady_clock::now();
  auto last_write = start, last_print = start;
  const std::size_t first = table.rows.size();
  for (std::size_t i = first; i < o.samples; ++i) {
    const auto r = hat::measure_latency(be, super, hat::config_of(archs[i]), lo);
    table.rows.push_back(hat::latency_dataset_row(archs[i], r));
    const auto now = std::chrono::steady_clock::now();
    // Rewriting the file after every row would cost O(rows^2): once a second, and at the end.
    if (i + 1 == o.samples || now - last_write > std::chrono::seconds(1)) {
      hat::write_latency_csv(table, o.out);
      last_write = now;
    }
    if (!o.quiet && (i + 1 == o.samples || now - last_print > std::chrono::seconds(1))) {  // a line a second at most
      last_print = now;
      const double s = std::chrono::duration<double>(now - start).count(), per = s / static_cast<double>(i + 1 - first);
      std::fprintf(stderr, "\rhat latency-dataset: %zu/%zu rows, %.2f s/row, ETA %.0f s, last %.2f ms   ", i + 1, o.samples, per,
                   per * static_cast<double>(o.samples - i - 1), r.total_ms());
      if (i + 1 == o.samples) std::fprintf(stderr, "\n");
    }
  }
  if (table.rows.size() == first) hat::write_latency_csv(table, o.out);  // nothing new: still a complete file
  double lo_ms = 1e300, hi_ms = 0, sum = 0;
  for (const auto& r : table.rows) lo_ms = std::min(lo_ms, r.total_ms()), hi_ms = std::max(hi_ms, r.total_ms()), sum += r.total_ms();
  if (!table.rows.empty())
    std::printf("%s: %zu rows, total latency %.2f - %.2f ms (mean %.2f), BLAS %s, %d thread(s)\n", o.out.c_str(),
                table.rows.size(), lo_ms, hi_ms, sum / static_cast<double>(table.rows.size()), hat::cpu::blas_core().c_str(),
                o.threads);
}

void run(const latency_dataset_cli_options& o) {
  if (o.task.empty() == o.space.empty()) throw hat::config_error("give exactly one of --task and --space");
  hat::cpu::set_threads(o.threads);
  if (!o.task.empty()) {
    const auto t = hat::find_task(o.task);
    // HAT samples its latency datasets from one broader space for every task (hat-spec 2).
    run_space<hat::hat_latency_space>(o, o.source_length ? o.source_length : static_cast<std::size_t>(t->source_length),
                                      o.vocab ? o.vocab : 32768, t->shared_embeddings);
    return;
  }
  with_latency_space(o.space, "--space", [&]<class S>() {
    run_space<S>(o, o.source_length ? o.source_length : 30, o.vocab ? o.vocab : 8000, true);
  });
}

}  // namespace

void add_latency_dataset_command(CLI::App& app) {
  auto o = std::make_shared<latency_dataset_cli_options>();
  auto* cmd = app.add_subcommand("latency-dataset", "measure sampled SubTransformers on this CPU and write HAT's latency CSV");
  cmd->add_option("--task", o->task, "a HAT task: its latency-dataset space, sentence length and embeddings")
      ->check(CLI::IsMember(task_names()));
  cmd->add_option("--space", o->space, "or a space: wmt, iwslt, latency, multi30k, multi30k-tiny, number-words");
  cmd->add_option("--samples", o->samples, "architectures to measure")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--out", o->out, "CSV to write (a partial one from the same seed is continued)")->required();
  cmd->add_option("--seed", o->seed, "sampling seed (also the random weights')")->capture_default_str();
  cmd->add_option("--iters", o->iters, "timed runs per architecture (HAT's configs: 20)")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--warmup", o->warmup, "untimed runs first")->capture_default_str();
  cmd->add_option("--beam", o->beam, "decoder rows")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--source-length", o->source_length, "dummy sentence length (default: the task's, else 30)");
  cmd->add_option("--vocab", o->vocab, "vocabulary size (default: 32768 for a task, else 8000)");
  cmd->add_option("--threads", o->threads, "OpenBLAS threads")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_flag("--quiet", o->quiet, "no progress on stderr");
  cmd->callback([o] { run(*o); });
}

}  // namespace hat_cli
