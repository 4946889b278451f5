// SPDX-License-Identifier: MIT
// hat::cuda on a real GPU against hat::cpu; exits 77 (ctest: skipped) where there is no GPU.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cuda_runtime_api.h>  // cudaGetDeviceCount: host API, no nvcc needed here

#include <cstdio>

#include "compare.hpp"
#if HAT_TEST_NCCL
#include "nccl_runs.hpp"
#endif

using namespace hat_test;

TEST_CASE("cuda: every primitive matches the CPU backend", "[cuda]") {
  compare_with_cpu(cuda_scenario(scenario_id::primitives_float), scenario_id::primitives_float);
  compare_with_cpu(cuda_scenario(scenario_id::primitives_double), scenario_id::primitives_double);
}

TEST_CASE("cuda: the whole model (loss, gradient, decoding, beam search) matches the CPU", "[cuda]") {
  compare_with_cpu(cuda_scenario(scenario_id::model), scenario_id::model);
}

TEST_CASE("cuda: training updates match the CPU and repeat exactly", "[cuda]") {
  const results first = cuda_scenario(scenario_id::training);
  compare_with_cpu(first, scenario_id::training);
  compare(cuda_scenario(scenario_id::training), first, 0, 0);
}

#if HAT_TEST_NCCL
// The path of `mpirun -np N hat train --device cuda`: NCCL sums the gradient on the GPUs. One GPU
// checks it whole (NCCL with one rank); two or more also check the sums against one GPU with
// update-freq 2 (two addends: the same bits whichever order NCCL adds in).
TEST_CASE("cuda + NCCL: the gradient summed by NCCL on the GPU trains as one rank does", "[cuda][nccl]") {
  INFO("NCCL: HAT_NCCL_LIBRARY or libnccl.so.2 on the loader's path (scripts/gpu-check finds PyTorch's)");
  const std::string version = loaded_nccl_version();
  std::printf("NCCL %s\n", version.c_str());
  CHECK(nccl_sum_error(1, 1000) == 0.0);
  const gpu_training_run alone = gpu_training(1, 2, false), one = gpu_training(1, 2, true);
  CHECK_FALSE(alone.sums_on_device);
  CHECK(one.sums_on_device);
  CHECK(one.losses == alone.losses);
  CHECK(one.weights == alone.weights);
  int devices = 0;
  cudaGetDeviceCount(&devices);
  if (devices >= 2) {
    CHECK(nccl_sum_error(2, 1 << 20) <= 2.5e-7);  // one rounding of a float sum below 5: half an ulp, 2.4e-7
    const gpu_training_run two = gpu_training(2, 1, true);
    CHECK(two.sums_on_device);
    CHECK(two.losses == alone.losses);
    CHECK(two.weights == alone.weights);
  } else {
    std::puts("one GPU: NCCL across GPUs is not checked here");
  }
}
#endif

int main(int argc, char** argv) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::puts("no CUDA device: the CUDA tests are skipped");
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
