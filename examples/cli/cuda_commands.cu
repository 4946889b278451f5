// SPDX-License-Identifier: MIT
// `--device cuda` of hat latency, latency-dataset and train (and the pipeline's GPU latencies): the CPU's runs on hat::cuda (nvcc);
// train under mpirun: one GPU per rank, the gradient summed by NCCL.
#include <cstdio>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <hat/backend/cuda.hpp>
#if HAT_WITH_NCCL
#include <hat/backend/cuda/nccl.hpp>
#endif

#include "latency_runs.hpp"
#include "train_runs.hpp"

namespace hat_cli {

namespace {
#if HAT_WITH_NCCL
// The GPU's UUID (as nvidia-smi -L prints it): how ranks tell whether they hold the same GPU.
std::string gpu_uuid(int device) {
  cudaDeviceProp p{};
  if (cudaGetDeviceProperties(&p, device) != cudaSuccess)
    throw hat::config_error("--device cuda: cannot query CUDA device " + std::to_string(device));
  std::string id = "GPU-";
  char hex[3];
  for (int i = 0; i < 16; ++i) {
    std::snprintf(hex, sizeof hex, "%02x", static_cast<unsigned char>(p.uuid.bytes[i]));
    id += hex;
    if (i == 3 || i == 5 || i == 7 || i == 9) id += '-';
  }
  return id;
}
#endif

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
  if (!o.comm) {
    hat::cuda be = open_device();
    return train_run(be, o, c, be.describe());
  }
#if HAT_WITH_NCCL
  // Under mpirun (one rank included): rank i of a machine's ranks takes its GPU i, or the one GPU
  // it sees where the launcher gave each rank its own (CUDA_VISIBLE_DEVICES, srun
  // --gpus-per-task=1); NCCL sums the gradient there (docs/distributed.md). Every rank checks
  // first, so all stop alike.
  hat::communicator& host = *o.comm;
  const hat::machine_place place = hat::place_on_machine(host);
  int device = 0;
  std::string uuid;
  hat::on_every_rank(host, [&] {
    const int gpus = hat::cuda_device_count();
    if (gpus == 0) throw hat::config_error("--device cuda: no CUDA device is visible to this process");
    if (place.count <= static_cast<std::size_t>(gpus))
      device = static_cast<int>(place.index);
    else if (gpus > 1)
      throw hat::config_error("--device cuda: " + std::to_string(place.count) + " ranks on this machine, " + std::to_string(gpus) +
                              " CUDA devices visible: one GPU per rank (start at most " + std::to_string(gpus) +
                              " ranks per machine, e.g. mpirun --map-by ppr:" + std::to_string(gpus) + ":node)");
    uuid = gpu_uuid(device);
  });
  // NCCL refuses two ranks on one GPU: say which ranks share one.
  const std::vector<std::string> uuids = host.gather(uuid);
  for (std::size_t a = 0; a < uuids.size(); ++a)
    for (std::size_t b = a + 1; b < uuids.size(); ++b)
      if (uuids[a] == uuids[b])
        throw hat::rank_failed("--device cuda: ranks " + std::to_string(a) + " and " + std::to_string(b) + " would share the GPU " +
                               uuids[a] + ": give each rank its own GPU (one rank per visible GPU on each machine)");
  hat::cuda be(device);
  hat::nccl_communicator nccl(host, be);
  if (host.rank() == 0) std::fprintf(stderr, "hat: %zu ranks, NCCL %s\n", host.size(), hat::nccl_version().c_str());
  train_cli_options on_gpus = o;
  on_gpus.comm = &nccl;
  train_run(be, on_gpus, c, be.describe());
#else
  if (o.comm->size() > 1)
    throw hat::config_error("hat train --device cuda on " + std::to_string(o.comm->size()) +
                            " ranks: this hat was built without NCCL (nccl.h was not found at configure time); train on "
                            "--device cpu across ranks, or on one GPU");
  hat::cuda be = open_device();
  train_run(be, o, c, be.describe());
#endif
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
