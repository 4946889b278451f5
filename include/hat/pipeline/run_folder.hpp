// SPDX-License-Identifier: MIT
// run_folder: where each step of the pipeline keeps what it made. The files are the pipeline's state: a step
// whose output exists is done (each writes that output last and atomically), so a rerun resumes.
#pragma once

#include <filesystem>
#include <string>

namespace hat {

/// The layout of a pipeline run (docs/pipeline.md): one folder per step, one file per latency
/// constraint (`constraint` is its name: "75pct", "120ms").
struct run_folder {
  std::filesystem::path root;

  std::filesystem::path config_dir() const { return root / "config"; }
  std::filesystem::path supertransformer_dir() const { return root / "supertransformer"; }
  std::filesystem::path supertransformer_checkpoint() const { return supertransformer_dir() / "checkpoint_last.hat"; }
  std::filesystem::path latency_csv() const { return root / "latency" / "latency.csv"; }
  std::filesystem::path predictor_file() const { return root / "predictor" / "latency.pred"; }
  std::filesystem::path predictor_plot() const { return root / "predictor" / "fit.svg"; }
  std::filesystem::path search_arch(const std::string& constraint) const { return root / "search" / (constraint + ".yml"); }
  std::filesystem::path search_history(const std::string& constraint) const {
    return root / "search" / (constraint + ".csv");
  }
  std::filesystem::path subtransformer_dir(const std::string& constraint) const {
    return root / "subtransformer" / constraint;
  }
  std::filesystem::path subtransformer_checkpoint(const std::string& constraint) const {
    return subtransformer_dir(constraint) / "checkpoint_last.hat";
  }
  std::filesystem::path test_hypotheses(const std::string& constraint) const { return root / "test" / (constraint + ".hyp"); }
  std::filesystem::path test_record(const std::string& constraint) const { return root / "test" / (constraint + ".json"); }

  // The uniformly scaled baseline picked at each constraint (`baselines: true`).
  std::filesystem::path baseline_arch(const std::string& constraint) const { return root / "baseline" / (constraint + ".yml"); }
  std::filesystem::path baseline_dir(const std::string& constraint) const { return root / "baseline" / constraint; }
  std::filesystem::path baseline_checkpoint(const std::string& constraint) const {
    return baseline_dir(constraint) / "checkpoint_last.hat";
  }
  std::filesystem::path baseline_hypotheses(const std::string& constraint) const {
    return root / "test" / (constraint + ".baseline.hyp");
  }
  std::filesystem::path baseline_record(const std::string& constraint) const {
    return root / "test" / (constraint + ".baseline.json");
  }
  std::filesystem::path results_plot() const { return root / "results.svg"; }
  /// The weights' precision every step of this run is for (`precision`, `int8-scales`), in words.
  std::filesystem::path precision_file() const { return root / "precision.txt"; }

  /// Whether a step that is skipped once its output exists is done: the predictor, a search, a
  /// baseline's pick (a test is done once its record exists). Training and the latency dataset always run: they resume themselves.
  bool predictor_done() const { return std::filesystem::exists(predictor_file()); }
  bool search_done(const std::string& constraint) const { return std::filesystem::exists(search_arch(constraint)); }
  bool baseline_done(const std::string& constraint) const { return std::filesystem::exists(baseline_arch(constraint)); }
};

}  // namespace hat
