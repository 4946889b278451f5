// SPDX-License-Identifier: MIT
// `--device cuda` of hat latency, latency-dataset and train (and the pipeline's GPU latencies): the CPU's runs on hat::cuda (nvcc).
#include <cstdio>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <hat/backend/cuda.hpp>

#include "latency_runs.hpp"
#include "train_runs.hpp"

namespace hat_cli {

namespace {
hat::cuda open_device() {
  if (hat::cuda_device_count() == 0) throw hat::config_error("--device cuda: no CUDA device is visible to this process");
  hat::cuda be(0);
  std::fprintf(stderr, "hat: using %s\n", be.describe().c_str());
  return be;
}
}  // namespace

void run_latency_cuda(const latency_cli_options& o) {
  hat::cuda be = open_device();
  latency_run(be, o);
}

void run_latency_dataset_cuda(const latency_dataset_cli_options& o) {
  hat::cuda be = open_device();
  latency_dataset_run(be, o, be.describe());
}

void run_train_cuda(const train_cli_options& o, const hat::training_config& c) {
  hat::cuda be = open_device();
  train_run(be, o, c, be.describe());
}

hat::measured_latencies measure_configs_cuda(const std::string& space, std::span<const hat::transformer_config> configs,
                                             std::size_t vocab, std::uint64_t seed, const hat::latency_options& lo) {
  hat::cuda be = open_device();
  auto ms = with_space<space_role::measurable>(space, "latency-device: cuda",
                                               [&]<class S>() { return hat::measure_totals<S>(be, configs, vocab, seed, lo); });
  return {std::move(ms), be.describe()};
}

hat::latency_dataset_outputs measure_latency_dataset_cuda(const std::string& space, const hat::latency_dataset_inputs& in) {
  hat::cuda be = open_device();
  return with_space<space_role::measurable>(space, "latency-device: cuda",
                                            [&]<class S>() { return hat::measure_latency_dataset<S>(be, in); });
}

hat::train_outputs train_model_cuda(const hat::training_config& c, const hat::train_inputs& in) {
  hat::cuda be = open_device();
  hat::train_inputs on_gpu = in;
  on_gpu.device = be.describe();
  return with_space<space_role::trainable>(c.space, c.file, [&]<class S>() { return hat::train_model<S>(be, c, on_gpu); });
}

}  // namespace hat_cli
