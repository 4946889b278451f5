// SPDX-License-Identifier: MIT
// `hat latency`: HAT's latency protocol (hat-spec 5) for SubTransformer YAML files, on this CPU.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/io/subtransformer_yaml.hpp>
#include <hat/nn/dense_export.hpp>
#include <hat/nn/latency.hpp>

#include "commands.hpp"

namespace hat_cli {
namespace {

struct latency_cli_options {
  std::string task;
  std::vector<std::string> files;
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

template <class S>
void run_space(const latency_cli_options& o, const hat::task_info& task) {
  using model_t = hat::super_transformer_for<S, hat::cpu>;
  hat::cpu be;
  const auto v = static_cast<std::size_t>(o.vocab);
  model_t super(be, {v, v, task.shared_embeddings ? hat::embedding_sharing::all : hat::embedding_sharing::none});
  super.init_hat(be, o.seed);  // latency does not depend on the values (hat-spec 5.3)
  hat::latency_options lo;
  lo.source_length = static_cast<std::size_t>(task.source_length);
  lo.beam = static_cast<std::size_t>(o.beam);
  lo.iters = static_cast<std::size_t>(o.iters);
  lo.warmup = static_cast<std::size_t>(o.warmup);
  if (!o.json)
    std::printf("%-44s %10s %10s %10s %9s\n", "file", "encoder_ms", "decoder_ms", "total_ms", "std_ms");
  int failed = 0;
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> files = o.files;
  if (o.space_max) files.push_back("space-max");
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string& file = files[i];
    try {
      const auto config =
          hat::config_of(o.space_max && i + 1 == files.size() ? hat::arch<S>::largest() : hat::read_subtransformer_yaml<S>(file));
      const auto r = o.weights == "dense" ? hat::measure_latency(be, hat::export_dense(be, super, config), config, lo)
                                          : hat::measure_latency(be, super, config, lo);
      if (o.json)
        std::printf("{\"file\": \"%s\", \"encoder_ms\": %.4f, \"decoder_ms\": %.4f, \"total_ms\": %.4f}\n",
                    json_escape(file).c_str(), r.encoder.mean_ms, r.decoder.mean_ms, r.total_ms());
      else
        std::printf("%-44s %10.2f %10.2f %10.2f %9.2f\n", std::filesystem::path(file).filename().c_str(), r.encoder.mean_ms,
                    r.decoder.mean_ms, r.total_ms(), r.encoder.std_ms + r.decoder.std_ms);
      std::fflush(stdout);
    } catch (const hat::config_error& e) {
      std::cerr << "hat latency: " << e.what() << "\n";
      ++failed;
    } catch (const hat::invalid_arch& e) {
      std::cerr << "hat latency: " << file << ": " << e.what() << "\n";
      ++failed;
    }
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double per = elapsed / static_cast<double>(i + 1);
    if (files.size() > 1)
      std::fprintf(stderr, "hat latency: %zu/%zu files, %.2f s/file, ETA %.0f s\n", i + 1, files.size(), per,
                   per * static_cast<double>(files.size() - i - 1));
  }
  if (failed) {
    std::cerr << "hat latency: " << failed << " of " << files.size() << " files could not be measured\n";
    throw exit_code{1};
  }
}

void run_latency(const latency_cli_options& o) {
  if (o.files.empty() && !o.space_max) throw CLI::ValidationError("hat latency", "give SubTransformer YAML files or --space-max");
  hat::cpu::set_threads(o.threads);
  if (const auto w = hat::cpu::blas_warning(); !w.empty()) std::cerr << "hat: warning: " << w << "\n";
  const auto task = *hat::find_task(o.task);
  hat::with_task_space(task, [&]<class S>() { run_space<S>(o, task); });
}

}  // namespace

void add_latency_command(CLI::App& app) {
  auto o = std::make_shared<latency_cli_options>();
  auto* cmd = app.add_subcommand(
      "latency", "HAT's latency protocol on this CPU: batch 1, beam-5 incremental decoding, trimmed means (ms)");
  cmd->add_option("--task", o->task, "HAT task: fixes the space, the sentence length (30 WMT, 23 IWSLT) and the tables")
      ->required()
      ->check(CLI::IsMember(task_names()));
  cmd->add_option("--threads", o->threads, "OpenBLAS threads")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--iters", o->iters, "timed runs of the encoder and of the decoder loop")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--warmup", o->warmup, "untimed runs before each")->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--beam", o->beam, "decoder rows (HAT: 5)")->check(CLI::Range(1, 16))->capture_default_str();
  cmd->add_option("--vocab", o->vocab, "vocabulary size (HAT's WMT'14 En-De: 32768)")
      ->check(CLI::Range(5, 1 << 24))
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "seed of the random weights")->capture_default_str();
  cmd->add_option("--weights", o->weights,
                  "super: slices of the SuperTransformer; dense: the exported SubTransformer alone")
      ->check(CLI::IsMember({"super", "dense"}))
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "one JSON object per file: file, encoder_ms, decoder_ms, total_ms");
  cmd->add_flag("--space-max", o->space_max, "also measure the task space's largest SubTransformer (file 'space-max')");
  cmd->add_option("files", o->files, "SubTransformer YAML files")->check(CLI::ExistingFile);
  cmd->callback([o] { run_latency(*o); });
}

}  // namespace hat_cli
