// SPDX-License-Identifier: MIT
// The main of the CPU benchmarks: print the active OpenBLAS kernels first, since every GEMM
// number depends on them (OPENBLAS_CORETYPE), then run Google Benchmark.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdio>

#include <hat/backend/cpu.hpp>

namespace hat_bench {

inline int run_cpu_benchmarks(int argc, char** argv) {
  std::printf("OpenBLAS kernels: %s\n", hat::cpu::blas_core().c_str());
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace hat_bench
