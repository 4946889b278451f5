// SPDX-License-Identifier: MIT
// `hat latency`: HAT's latency protocol (its latency_dataset.py) for SubTransformer YAML files, on this
// CPU or a GPU.
#include <iostream>
#include <memory>

#include <hat/backend/cpu.hpp>

#include "commands.hpp"
#include "validators.hpp"
#include "latency_runs.hpp"
#include "precision_flag.hpp"

namespace hat_cli {
namespace {

void run_latency(const latency_cli_options& o) {
  if (o.files.empty() && !o.space_max) throw CLI::ValidationError("hat latency", "give SubTransformer YAML files or --space-max");
  if (o.device == "cuda" && o.precision != "fp32")
    throw CLI::ValidationError("--precision", o.precision + " is timed on the CPU only (--device cuda times fp32)");
  if (o.device == "cuda") return run_latency_cuda(o);
  hat::cpu::set_threads(o.threads);
  if (const auto w = hat::cpu::blas_warning(); !w.empty()) std::cerr << "hat: warning: " << w << "\n";
  precision_flag(o.precision);  // a bad value is refused here, a slow one said before timing
  hat::cpu be;
  latency_run(be, o);
}

}  // namespace

void add_latency_command(CLI::App& app) {
  auto o = std::make_shared<latency_cli_options>();
  auto* cmd = app.add_subcommand(
      "latency", "HAT's latency protocol on this CPU or a GPU: batch 1, beam-5 incremental decoding, trimmed means (ms)");
  cmd->add_option("--task", o->task, "HAT task: fixes the space, the sentence length (30 WMT, 23 IWSLT) and the tables")
      ->check(CLI::IsMember(task_names()));
  cmd->add_option("--space", o->space, "or a space: wmt, iwslt, latency, multi30k, multi30k-tiny, number-words (measured as "
                                       "latency-dataset --space measures it)");
  cmd->add_option("--source-length", o->source_length, "dummy sentence length (default: the task's, else 30)")
      ->check(positive_count());
  cmd->add_option("--device", o->device, "cpu, or cuda (the first GPU; timed with CUDA events, as HAT's GPU protocol)")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "threads (OpenBLAS and the decoder's few-row products)")
      ->check(positive_count())->capture_default_str();
  cmd->add_option("--precision", o->precision, "the model's weights: fp32, bf16 or int8 (CPU; converted before timing)")
      ->check(CLI::IsMember({"fp32", "bf16", "int8"}))
      ->capture_default_str();
  cmd->add_option("--iters", o->iters, "timed runs of the encoder and of the decoder loop")
      ->check(positive_count())
      ->capture_default_str();
  cmd->add_option("--warmup", o->warmup, "untimed runs before each")->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--beam", o->beam, "decoder rows (HAT: 5)")->check(CLI::Range(1, 16))->capture_default_str();
  cmd->add_option("--vocab", o->vocab, "vocabulary size (default: 32768 for a task, HAT's WMT'14 En-De, else 8000)")
      ->check(CLI::Range(5, 1 << 24));
  cmd->add_option("--seed", o->seed, "seed of the random weights")->capture_default_str();
  cmd->add_option("--weights", o->weights,
                  "super: slices of the SuperTransformer; dense: the exported SubTransformer alone")
      ->check(CLI::IsMember({"super", "dense"}))
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "one JSON object per file: file, encoder_ms, decoder_ms, total_ms");
  cmd->add_flag("--space-max", o->space_max, "also measure the space's largest SubTransformer (file 'space-max')");
  cmd->add_option("files", o->files, "SubTransformer YAML files")->check(CLI::ExistingFile);
  cmd->callback([o] { run_latency(*o); });
}

}  // namespace hat_cli
