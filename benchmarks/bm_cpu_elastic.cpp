// SPDX-License-Identifier: MIT
// Elastic overhead: a sub-layer computed from the super weights (a corner view, ld = MaxIn)
// against the same layer from dense weights of exactly its shape, side by side. HAT shapes:
// fc1 of space0 (super 640 -> 3072) as a 512 -> 2048 sub-layer, for the encoder (30 rows) and
// a beam-5 decoder step (5 rows). Run with OPENBLAS_NUM_THREADS=1 and state OPENBLAS_CORETYPE.
#include <benchmark/benchmark.h>

#include <vector>

#include <hat/backend/cpu.hpp>
#include "support/cpu_benchmark_main.hpp"
#include <hat/nn/elastic_linear.hpp>
#include <hat/space/random.hpp>
#include <hat/tensor/arena.hpp>

namespace {

constexpr std::size_t in = 512, out = 2048;

template <std::size_t MaxIn, std::size_t MaxOut>
void run(benchmark::State& st) {
  hat::cpu::set_threads(1);
  hat::cpu be;
  using layer_t = hat::elastic_linear<MaxIn, MaxOut, hat::cpu>;
  hat::arena<hat::cpu> params(layer_t::param_count);
  const layer_t layer(params.take(layer_t::param_count));
  hat::rng g(1);
  for (std::size_t i = 0; i < params.size(); ++i) params.data()[i] = static_cast<float>(g.uniform() - 0.5);
  const auto rows = static_cast<std::size_t>(st.range(0));
  std::vector<float> x(rows * in, 0.5f), y(rows * out);
  for (auto _ : st) {
    layer.forward(be, hat::dense(x.data(), rows, in), hat::dense(y.data(), rows, out));
    benchmark::DoNotOptimize(y.data());
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()) * static_cast<std::int64_t>(rows * in * out * 2));
}

void BM_fc1_sliced_from_super(benchmark::State& st) { run<640, 3072>(st); }  // corner of the super weight
void BM_fc1_dense(benchmark::State& st) { run<in, out>(st); }                // weights of exactly this shape

}  // namespace

BENCHMARK(BM_fc1_sliced_from_super)->Arg(30)->Arg(5)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_fc1_dense)->Arg(30)->Arg(5)->Repetitions(5)->ReportAggregatesOnly(true);

int main(int argc, char** argv) { return hat_bench::run_cpu_benchmarks(argc, argv); }
