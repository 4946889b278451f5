// SPDX-License-Identifier: MIT
// `hat latency` and `hat latency-dataset` on any backend: the CPU's TU and the CUDA one (cuda_commands.cu) share them.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <hat/io/latency_csv.hpp>
#include <hat/yaml/subtransformer.hpp>
#include <hat/nn/dense_export.hpp>
#include <hat/latency/measure.hpp>
#include <hat/latency/dataset.hpp>
#include <hat/nn/super_transformer.hpp>

#include "cli_spaces.hpp"
#include "per_file.hpp"
#include "json_lines.hpp"

namespace hat_cli {

struct latency_cli_options {
  std::string task;
  std::vector<std::string> files;
  std::string device = "cpu";
  int threads = 1;
  std::int64_t iters = 20;
  std::int64_t warmup = 5;
  std::int64_t beam = 5;
  std::int64_t vocab = 32768;
  std::uint64_t seed = 1;
  std::string weights = "super";
  bool json = false;
  bool space_max = false;
};

struct latency_dataset_cli_options {
  std::string task, space, out, device = "cpu";
  std::size_t samples = 2000, iters = 20, warmup = 5, beam = 5, source_length = 0, vocab = 0;
  std::uint64_t seed = 1;
  int threads = 1;
  bool quiet = false;
};

/// Total latencies (ms) of SubTransformer files, and the device they were measured on.
struct measured_totals {
  std::vector<double> ms;
  std::string device;
};

// On the GPU (cuda_commands.cu where nvcc built hat, else a clear error): the same runs on hat::cuda.
void run_latency_cuda(const latency_cli_options& o);
void run_latency_dataset_cuda(const latency_dataset_cli_options& o);
measured_totals measure_configs_cuda(const std::string& space, const std::vector<hat::transformer_config>& configs,
                                     std::size_t vocab, std::uint64_t seed, const hat::latency_options& lo);

/// The total latency of each SubTransformer of space S, on a SuperTransformer with random
/// weights (latency does not depend on them; HAT's latency_dataset.py loads none either) and every
/// embedding shared, as latency-dataset measures its rows (the pipeline's last step).
template <class S, class Backend>
std::vector<double> measure_configs(Backend& be, const std::vector<hat::transformer_config>& configs, std::size_t vocab,
                                    std::uint64_t seed, const hat::latency_options& lo) {
  hat::super_transformer_for<S, Backend> model(be, {vocab, vocab, hat::embedding_sharing::all});
  model.init_hat(be, seed);
  std::vector<double> ms;
  for (const auto& c : configs) ms.push_back(hat::measure_latency(be, model, c, lo).total_ms());
  return ms;
}

template <class S, class Backend>
void latency_run_space(Backend& be, const latency_cli_options& o, const hat::task_info& task) {
  using model_t = hat::super_transformer_for<S, Backend>;
  const auto v = static_cast<std::size_t>(o.vocab);
  model_t super(be, {v, v, task.shared_embeddings ? hat::embedding_sharing::all : hat::embedding_sharing::none});
  super.init_hat(be, o.seed);  // latency does not depend on the values (HAT times random weights too)
  hat::latency_options lo;
  lo.source_length = static_cast<std::size_t>(task.source_length);
  lo.beam = static_cast<std::size_t>(o.beam);
  lo.iters = static_cast<std::size_t>(o.iters);
  lo.warmup = static_cast<std::size_t>(o.warmup);
  if (!o.json)
    std::printf("%-44s %10s %10s %10s %9s\n", "file", "encoder_ms", "decoder_ms", "total_ms", "std_ms");
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> files = o.files;
  if (o.space_max) files.push_back("space-max");
  const auto progress = [&](std::size_t done) {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double per = elapsed / static_cast<double>(done);
    if (files.size() > 1)
      std::fprintf(stderr, "hat latency: %zu/%zu files, %.2f s/file, ETA %.0f s\n", done, files.size(), per,
                   per * static_cast<double>(files.size() - done));
  };
  const auto measure = [&](std::size_t i, const std::string& file) {
    const auto config =
        hat::config_of(o.space_max && i + 1 == files.size() ? hat::arch<S>::largest() : hat::read_subtransformer_yaml<S>(file));
    const auto r = o.weights == "dense" ? hat::measure_latency(be, hat::export_dense(be, super, config), config, lo)
                                        : hat::measure_latency(be, super, config, lo);
    if (o.json)
      std::fputs(latency_json_line(file, r).c_str(), stdout);
    else
      std::printf("%-44s %10.2f %10.2f %10.2f %9.2f\n", std::filesystem::path(file).filename().c_str(), r.encoder.mean_ms,
                  r.decoder.mean_ms, r.total_ms(), r.encoder.std_ms + r.decoder.std_ms);
    std::fflush(stdout);
  };
  if (for_each_file("latency", files, measure, progress)) throw exit_code{1};
}

template <class Backend>
void latency_run(Backend& be, const latency_cli_options& o) {
  const auto task = *hat::find_task(o.task);
  hat::with_task_space(task, [&]<class S>() { latency_run_space<S>(be, o, task); });
}

/// Measures the rest of the dataset's rows (resuming a file of the same seed); `device` names
/// the hardware in the closing summary.
template <class S, class Backend>
void latency_dataset_run_space(Backend& be, const latency_dataset_cli_options& o, std::size_t source_length,
                               std::size_t vocab, bool shared, const std::string& device) {
  using model_t = hat::super_transformer_for<S, Backend>;
  model_t super(be, {vocab, vocab, shared ? hat::embedding_sharing::all : hat::embedding_sharing::none});
  super.init_hat(be, o.seed);  // latency does not depend on the values (HAT times random weights too)
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
    std::printf("%s: %zu rows, total latency %.2f - %.2f ms (mean %.2f), %s\n", o.out.c_str(), table.rows.size(), lo_ms,
                hi_ms, sum / static_cast<double>(table.rows.size()), device.c_str());
}

template <class Backend>
void latency_dataset_run(Backend& be, const latency_dataset_cli_options& o, const std::string& device) {
  if (!o.task.empty()) {
    const auto t = hat::find_task(o.task);
    // HAT samples its latency datasets from one broader space for every task
    // (its configs/*/latency_dataset/*.yml).
    latency_dataset_run_space<hat::hat_latency_space>(
        be, o, o.source_length ? o.source_length : static_cast<std::size_t>(t->source_length), o.vocab ? o.vocab : 32768,
        t->shared_embeddings, device);
    return;
  }
  with_space<space_role::measurable>(o.space, "--space", [&]<class S>() {
    latency_dataset_run_space<S>(be, o, o.source_length ? o.source_length : 30, o.vocab ? o.vocab : 8000, true, device);
  });
}

}  // namespace hat_cli
