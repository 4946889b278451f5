// SPDX-License-Identifier: MIT
// NCCL runs on real GPUs (nccl.cu, compiled by nvcc), called by device.cpp's tests.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace hat_test {

/// A few training updates of the reverse task on hat::cuda.
struct gpu_training_run {
  std::vector<float> weights;
  std::vector<double> losses;
  bool sums_on_device = false;  // the trainer summed the gradient with NCCL
};

/// `gpus` ranks as threads, rank r on GPU r, update_freq F; with `nccl` each rank's communicator
/// is a hat::nccl_communicator (over ranks-as-threads), else the ranks sum through host memory
/// (one GPU alone: no communicator at all).
gpu_training_run gpu_training(std::size_t gpus, std::size_t F, bool nccl);

/// NCCL's all-reduce over `gpus` GPUs of n floats, rank r holding r + 1 + i / n at i: the
/// largest difference from the exact sums, downloaded from every rank.
double nccl_sum_error(std::size_t gpus, std::size_t n);

/// The NCCL this process loads ("2.28.9"); throws hat::nccl_error where none loads.
std::string loaded_nccl_version();

}  // namespace hat_test
