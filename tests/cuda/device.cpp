// SPDX-License-Identifier: MIT
// hat::cuda on a real GPU against hat::cpu; exits 77 (ctest: skipped) where there is no GPU.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cuda_runtime_api.h>  // cudaGetDeviceCount: host API, no nvcc needed here

#include <cstdio>

#include "compare.hpp"

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

int main(int argc, char** argv) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::puts("no CUDA device: the CUDA tests are skipped");
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
