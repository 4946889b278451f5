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
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <hat/dist/communicator.hpp>
#include <hat/io/atomic_file.hpp>
#include <hat/pipeline/train_step.hpp>
#include <hat/yaml/training.hpp>

#include "cli_spaces.hpp"
#include "json_lines.hpp"

namespace hat_cli {

namespace fs = std::filesystem;

inline std::atomic<int> train_stop_signal{0};
extern "C" inline void hat_cli_on_stop_signal(int sig) { train_stop_signal.store(sig); }

struct train_cli_options {
  std::string config, data, save_dir, restore_file, log, arch, device = "cpu";
  std::string precision;  // --precision (empty: the config's)
  std::int64_t max_updates = -1;
  int threads = 1;
  // --restore-file of HAT's fairseq (a .pt): its weights, read by the CPU's TU before the run
  const hat::named_tensors* initial_weights = nullptr;
  std::optional<bool> initial_share_all;
  hat::communicator* comm = nullptr;  // the ranks under mpirun (ranks.hpp), else null
};

// On the GPU (cuda_commands.cu where nvcc built hat, else a clear error).
void run_train_cuda(const train_cli_options& o, const hat::training_config& c);
// The pipeline's training steps on the GPU.
hat::train_outputs train_model_cuda(const hat::training_config& c, const hat::train_inputs& in);

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

/// `hat train` of space S on backend `be`; `device` names it in the opening line. The run is
/// hat::train_model; the command adds the JSON-lines log, stopping on SIGINT/SIGTERM and the
/// exit codes.
template <class S, class Backend>
void train_space(Backend& be, const train_cli_options& cli, const hat::training_config& c, const std::string& device) {
  hat::train_inputs in;
  if (!cli.save_dir.empty()) in.save_dir = cli.save_dir;
  // a .pt (read into initial_weights, or left to the save folder's own checkpoint, which resumes)
  in.restore_file = cli.initial_weights || hat::is_torch_save_file(cli.restore_file) ? std::string() : cli.restore_file;
  in.initial_weights = cli.initial_weights;
  in.initial_share_all = cli.initial_share_all;
  in.arch = cli.arch;
  in.device = device;
  in.comm = cli.comm;
  const bool lead = !cli.comm || cli.comm->rank() == 0;  // prints the outcome; the others end quietly
  std::ofstream log;
  in.on_start = [&](std::size_t first) {
    trim_log(cli.log, first);
    if (cli.log.empty()) return;
    log.open(cli.log, std::ios::app);
    log.precision(17);  // exact doubles: runs can be compared line by line
    if (!log) throw hat::config_error(cli.log + ": cannot open the log for writing");
  };
  in.on_update = [&](const hat::update_record& r) {
    if (log) log << update_json_line(r) << std::flush;
  };
  in.stop_requested = [] { return train_stop_signal.load() != 0; };
  std::signal(SIGINT, hat_cli_on_stop_signal);
  std::signal(SIGTERM, hat_cli_on_stop_signal);
  hat::train_outputs r;
  try {
    r = hat::train_model<S>(be, c, in);
  } catch (const hat::training_diverged& e) {
    if (lead)
      std::cerr << "hat train: " << e.what() << "; the last checkpoint (" << (in.save_dir / "checkpoint_last.hat").string()
                << ") is untouched\n";
    throw exit_code{1};
  }
  if (r.stopped) {
    // Under mpirun the signal may have reached another rank only: every rank stopped with it.
    const int sig = train_stop_signal.load() ? train_stop_signal.load() : SIGTERM;
    if (lead)
      std::fprintf(stderr, "hat train: %s at update %zu: saved %s; the same command resumes it\n",
                   sig == SIGINT ? "interrupted" : "terminated", r.updates, r.checkpoint.c_str());
    throw exit_code{128 + sig};
  }
  if (lead && r.already_done)
    std::fprintf(stderr, "hat train: already done (%zu updates); %s\n", r.updates, r.checkpoint.c_str());
}

template <class Backend>
void train_run(Backend& be, const train_cli_options& o, const hat::training_config& c, const std::string& device) {
  with_space<space_role::trainable>(c.space, c.file, [&]<class S>() { train_space<S>(be, o, c, device); });
}

}  // namespace hat_cli
