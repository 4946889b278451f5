// SPDX-License-Identifier: MIT
// Costs of the search-space operations an evolutionary search runs thousands of times, on HAT's
// space0: sampling, mutation, crossover, identity (canonical + hash), features, #params/FLOPs,
// and YAML round trips. Run: build/benchmarks/bm_space (no BLAS involved).
#include <benchmark/benchmark.h>

#include <hat/yaml/subtransformer.hpp>
#include <hat/profile/flops.hpp>
#include <hat/profile/params.hpp>
#include <hat/space/encode.hpp>
#include <hat/space/hat_spaces.hpp>

namespace {
using S = hat::hat_wmt_space;
using A = hat::arch<S>;

void BM_sample(benchmark::State& st) {
  hat::rng g(1);
  for (auto _ : st) benchmark::DoNotOptimize(A::sample(g));
}
void BM_mutate(benchmark::State& st) {
  hat::rng g(1);
  const A a = A::sample(g);
  for (auto _ : st) benchmark::DoNotOptimize(a.mutated(g, 0.3));
}
void BM_crossover(benchmark::State& st) {
  hat::rng g(1);
  const A a = A::sample(g), b = A::sample(g);
  for (auto _ : st) benchmark::DoNotOptimize(A::crossover(a, b, g));
}
void BM_canonical_hash(benchmark::State& st) {
  hat::rng g(1);
  const A a = A::sample(g);
  for (auto _ : st) benchmark::DoNotOptimize(a.canonical().hash());
}
void BM_hat_features(benchmark::State& st) {
  hat::rng g(1);
  const A a = A::sample(g);
  for (auto _ : st) benchmark::DoNotOptimize(hat::hat_normalized_features(a));
}
void BM_params_flops(benchmark::State& st) {
  hat::rng g(1);
  const A a = A::sample(g);
  for (auto _ : st) {
    benchmark::DoNotOptimize(hat::params(a));
    benchmark::DoNotOptimize(hat::flops(a, 30));
  }
}
void BM_yaml_write(benchmark::State& st) {
  hat::rng g(1);
  const A a = A::sample(g);
  for (auto _ : st) benchmark::DoNotOptimize(hat::to_subtransformer_yaml(a));
}
void BM_yaml_parse(benchmark::State& st) {
  hat::rng g(1);
  const std::string text = hat::to_subtransformer_yaml(A::sample(g));
  for (auto _ : st) benchmark::DoNotOptimize(hat::parse_subtransformer_yaml<S>(text, "bench.yml"));
}
}  // namespace

BENCHMARK(BM_sample);
BENCHMARK(BM_mutate);
BENCHMARK(BM_crossover);
BENCHMARK(BM_canonical_hash);
BENCHMARK(BM_hat_features);
BENCHMARK(BM_params_flops);
BENCHMARK(BM_yaml_write);
BENCHMARK(BM_yaml_parse);
