// SPDX-License-Identifier: MIT
// hat::cuda on a real GPU against hat::cpu; exits 77 (ctest: skipped) where there is no GPU.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cuda_runtime_api.h>  // cudaGetDeviceCount: host API, no nvcc needed here

#include <cstdio>

#include "compare.hpp"

using namespace hat_test;

TEST_CASE("cuda: every primitive matches the CPU backend", "[cuda]") {
  compare(cuda_primitives_float(), cpu_primitives_float(), primitives_float.rtol, primitives_float.atol);
  compare(cuda_primitives_double(), cpu_primitives_double(), primitives_double.rtol, primitives_double.atol);
}

TEST_CASE("cuda: the whole model (loss, gradient, decoding, beam search) matches the CPU", "[cuda]") {
  compare(cuda_model(), cpu_model(), whole_model.rtol, whole_model.atol);
}

TEST_CASE("cuda: training updates match the CPU and repeat exactly", "[cuda]") {
  const results first = cuda_training();
  compare(first, cpu_training(), training.rtol, training.atol);
  compare(cuda_training(), first, 0, 0);
}

int main(int argc, char** argv) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::puts("no CUDA device: the CUDA tests are skipped");
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
