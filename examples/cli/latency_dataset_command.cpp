// SPDX-License-Identifier: MIT
// `hat latency-dataset`: sample architectures of a space, measure each with HAT's latency
// protocol on this device, and write HAT's CSV (plus every gene as extra columns). Resumable:
// a rerun with the same seed checks the rows already written and measures the rest.
#include <memory>
#include <string>

#include <hat/backend/cpu.hpp>

#include "commands.hpp"
#include "validators.hpp"
#include "latency_runs.hpp"
#include "precision_flag.hpp"

namespace hat_cli {
namespace {

void run(const latency_dataset_cli_options& o) {
  if (o.task.empty() == o.space.empty()) throw hat::config_error("give exactly one of --task and --space");
  if (o.device == "cuda" && o.precision != "fp32")
    throw CLI::ValidationError("--precision", o.precision + " is timed on the CPU only (--device cuda times fp32)");
  if (o.device == "cuda") return run_latency_dataset_cuda(o);
  hat::cpu::set_threads(o.threads);
  precision_flag(o.precision);  // a bad value is refused here, a slow one said before timing
  hat::cpu be;
  latency_dataset_run(be, o, "BLAS " + hat::cpu::blas_core() + ", " + std::to_string(o.threads) + " thread(s)");
}

}  // namespace

void add_latency_dataset_command(CLI::App& app) {
  auto o = std::make_shared<latency_dataset_cli_options>();
  auto* cmd = app.add_subcommand("latency-dataset", "measure sampled SubTransformers on this CPU or a GPU and write HAT's latency CSV");
  cmd->add_option("--task", o->task, "a HAT task: its latency-dataset space, sentence length and embeddings")
      ->check(CLI::IsMember(task_names()));
  cmd->add_option("--space", o->space, "or a space: wmt, iwslt, latency, multi30k, multi30k-tiny, number-words");
  cmd->add_option("--samples", o->samples, "architectures to measure")->check(positive_count())->capture_default_str();
  cmd->add_option("--out", o->out, "CSV to write (a partial one from the same seed is continued)")->required();
  cmd->add_option("--seed", o->seed, "sampling seed (also the random weights')")->capture_default_str();
  cmd->add_option("--iters", o->iters, "timed runs per architecture (HAT's configs: 20)")->check(positive_count())->capture_default_str();
  cmd->add_option("--warmup", o->warmup, "untimed runs first")->capture_default_str();
  cmd->add_option("--passes", o->passes,
                  "measure the rows this many times, in alternating order, keeping each row's fastest "
                  "(1: HAT's protocol; 2 resists slowdowns that last a while on a shared machine)")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  cmd->add_option("--beam", o->beam, "decoder rows")->check(positive_count())->capture_default_str();
  cmd->add_option("--source-length", o->source_length, "dummy sentence length (default: the task's, else 30)");
  cmd->add_option("--vocab", o->vocab, "vocabulary size (default: 32768 for a task, else 8000)");
  cmd->add_option("--device", o->device, "cpu, or cuda (the first GPU; CUDA events)")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "threads (OpenBLAS and the decoder's few-row products)")
      ->check(positive_count())->capture_default_str();
  cmd->add_option("--precision", o->precision,
                  "the weights timed: fp32, bf16 or int8 (CPU; converted before timing; recorded in the CSV, and a "
                  "partial CSV of another precision is refused)")
      ->check(CLI::IsMember({"fp32", "bf16", "int8"}))
      ->capture_default_str();
  cmd->add_flag("--quiet", o->quiet, "no progress on stderr");
  cmd->callback([o] { run(*o); });
}

}  // namespace hat_cli
