// SPDX-License-Identifier: MIT
// `--device cuda` in a `hat` built without nvcc: a clear error instead of the GPU runs.
#include <hat/config.hpp>

#include "latency_runs.hpp"
#include "train_runs.hpp"

namespace hat_cli {

namespace {
[[noreturn]] void unavailable() {
  throw hat::config_error("--device cuda: this hat was built without CUDA (configure with nvcc on the PATH or "
                          "CMAKE_CUDA_COMPILER set, and HAT_CUDA=ON)");
}
}  // namespace

void run_latency_cuda(const latency_cli_options&) { unavailable(); }
void run_train_cuda(const train_cli_options&, const hat::training_config&) { unavailable(); }
void run_latency_dataset_cuda(const latency_dataset_cli_options&) { unavailable(); }
hat::measured_latencies measure_configs_cuda(const std::string&, std::span<const hat::transformer_config>, std::size_t,
                                             std::uint64_t, const hat::latency_options&) {
  unavailable();
}
hat::latency_dataset_outputs measure_latency_dataset_cuda(const std::string&, const hat::latency_dataset_inputs&) { unavailable(); }
hat::train_outputs train_model_cuda(const hat::training_config&, const hat::train_inputs&) { unavailable(); }

}  // namespace hat_cli
