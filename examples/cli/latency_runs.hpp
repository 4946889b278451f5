// SPDX-License-Identifier: MIT
// `hat latency` and `hat latency-dataset` on any backend: the CPU's TU and the CUDA one (cuda_commands.cu) share them.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <span>
#include <string>
#include <vector>

#include <hat/backend/precision.hpp>
#include <hat/io/latency_csv.hpp>
#include <hat/yaml/subtransformer.hpp>
#include <hat/nn/dense_export.hpp>
#include <hat/latency/measure.hpp>
#include <hat/latency/dataset.hpp>
#include <hat/pipeline/latency_step.hpp>
#include <hat/nn/super_transformer.hpp>

#include "cli_spaces.hpp"
#include "per_file.hpp"
#include "json_lines.hpp"

namespace hat_cli {

struct latency_cli_options {
  std::string task, space;
  std::size_t source_length = 0;  // 0: the task's, else 30
  std::vector<std::string> files;
  std::string device = "cpu";
  int threads = 1;
  std::int64_t iters = 20;
  std::int64_t warmup = 5;
  std::int64_t beam = 5;
  std::int64_t vocab = 0;  // 0: 32768 for a task (HAT's WMT'14 En-De), else 8000 (as latency-dataset)
  std::uint64_t seed = 1;
  std::string weights = "super";
  std::string precision = "fp32";  // of the model's weights (CPU)
  bool json = false;
  bool space_max = false;
};

struct latency_dataset_cli_options {
  std::string task, space, out, device = "cpu";
  std::string precision = "fp32";  // of the weights timed (recorded in the CSV)
  std::size_t samples = 2000, iters = 20, warmup = 5, beam = 5, source_length = 0, vocab = 0, passes = 1;
  std::uint64_t seed = 1;
  int threads = 1;
  bool quiet = false;
};

// On the GPU (cuda_commands.cu where nvcc built hat, else a clear error): the same runs on hat::cuda.
void run_latency_cuda(const latency_cli_options& o);
void run_latency_dataset_cuda(const latency_dataset_cli_options& o);
hat::measured_latencies measure_configs_cuda(const std::string& space, std::span<const hat::transformer_config> configs,
                                             std::size_t vocab, std::uint64_t seed, const hat::latency_options& lo);
hat::latency_dataset_outputs measure_latency_dataset_cuda(const std::string& space, const hat::latency_dataset_inputs& in);

template <class S, class Backend>
void latency_run_space(Backend& be, const latency_cli_options& o, std::size_t source_length, std::size_t vocab, bool shared) {
  using model_t = hat::super_transformer_for<S, Backend>;
  model_t super(be, {vocab, vocab, shared ? hat::embedding_sharing::all : hat::embedding_sharing::none});
  super.init_hat(be, o.seed);  // latency does not depend on the values (HAT times random weights too)
  hat::latency_options lo;
  lo.source_length = source_length;
  lo.beam = static_cast<std::size_t>(o.beam);
  lo.iters = static_cast<std::size_t>(o.iters);
  lo.warmup = static_cast<std::size_t>(o.warmup);
  // --precision bf16: the weights measured are converted once, before any clock starts (the
  // SuperTransformer's for every file; a dense export's with it).
  const auto p = hat::parse_precision(o.precision, "--precision");
  const auto dense_latency = [&](const auto& dense, const hat::transformer_config& config) {
    return hat::with_decode_precision(be, dense, p, [&](Backend& run) { return hat::measure_latency(run, dense, config, lo); });
  };
  hat::with_decode_precision(be, super, o.weights == "dense" ? hat::precision::fp32 : p, [&](Backend& super_be) {
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
      const auto r = o.weights == "dense" ? dense_latency(hat::export_dense(be, super, config), config)
                                          : hat::measure_latency(super_be, super, config, lo);
      if (o.json)
        std::fputs(latency_json_line(file, r).c_str(), stdout);
      else
        std::printf("%-44s %10.2f %10.2f %10.2f %9.2f\n", std::filesystem::path(file).filename().c_str(), r.encoder.mean_ms,
                    r.decoder.mean_ms, r.total_ms(), r.encoder.std_ms + r.decoder.std_ms);
      std::fflush(stdout);
    };
    if (for_each_file("latency", files, measure, progress)) throw exit_code{1};
  });
}

/// A task fixes the space, the sentence length and the tables (HAT's); a space is measured as
/// `hat latency-dataset --space` measures it (sentences of 30, a shared table of 8000).
template <class Backend>
void latency_run(Backend& be, const latency_cli_options& o) {
  if (o.task.empty() == o.space.empty()) throw hat::config_error("give exactly one of --task and --space");
  const auto vocab = static_cast<std::size_t>(o.vocab);
  if (!o.task.empty()) {
    const auto task = *hat::find_task(o.task);
    return hat::with_task_space(task, [&]<class S>() {
      latency_run_space<S>(be, o, o.source_length ? o.source_length : static_cast<std::size_t>(task.source_length),
                           vocab ? vocab : 32768, task.shared_embeddings);
    });
  }
  with_space<space_role::measurable>(o.space, "--space", [&]<class S>() {
    latency_run_space<S>(be, o, o.source_length ? o.source_length : 30, vocab ? vocab : 8000, true);
  });
}

/// Measures the rest of the dataset's rows (hat::measure_latency_dataset); `device` names the
/// hardware in the closing summary.
template <class S, class Backend>
void latency_dataset_run_space(Backend& be, const latency_dataset_cli_options& o, std::size_t source_length,
                               std::size_t vocab, bool shared, const std::string& device) {
  hat::latency_dataset_inputs in;
  in.out = o.out;
  in.samples = o.samples;
  in.vocab = vocab;
  in.shared_embeddings = shared;
  in.protocol.source_length = source_length;
  in.protocol.beam = o.beam;
  in.protocol.iters = o.iters;
  in.protocol.warmup = o.warmup;
  in.protocol.passes = o.passes;
  in.seed = o.seed;
  in.weights = hat::parse_precision(o.precision, "--precision");
  in.progress = o.quiet ? nullptr : stderr;
  const auto r = hat::measure_latency_dataset<S>(be, in);
  if (!r.table.rows.empty())
    std::printf("%s: %zu rows, total latency %.2f - %.2f ms (mean %.2f), %s weights, %s\n", o.out.c_str(), r.table.rows.size(),
                r.fastest_ms, r.slowest_ms, r.mean_ms, std::string(hat::precision_name(r.table.weights)).c_str(), device.c_str());
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
