// SPDX-License-Identifier: MIT
// Cost of the search machinery itself: full HAT-default evolutions (30 x 125) and an NSGA-II
// run on HAT's space0 with cheap analytic fitness, so the time is sampling, rejection,
// sorting and caching. Counters: fitness evaluations (cache misses) and cache hits per run,
// against HAT's 3750 scores. Run: build/benchmarks/bm_search (no BLAS involved).
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>

#include <hat/profile/flops.hpp>
#include <hat/profile/params.hpp>
#include <hat/search/evolution.hpp>
#include <hat/search/nsga2.hpp>
#include <hat/space/hat_spaces.hpp>

namespace {
using S = hat::hat_wmt_space;
using A = hat::arch<S>;

double gflops(const A& a) { return static_cast<double>(hat::flops(a, 30)) / 1e9; }
// Halfway between the smallest and the largest network: the budget rejects about half the draws.
const double budget = (gflops(A::smallest()) + gflops(A::largest())) / 2;

// Fitness 0: -#params, which drives the population together (many cache hits).
double minus_params(const A& a) { return -static_cast<double>(hat::params(a)); }
// Fitness 1: a pseudo-loss from the network's hash, a rugged landscape (fewer hits).
double pseudo_loss(const A& a) { return static_cast<double>(a.canonical().hash() % 1000003) / 1000003.0; }

template <double (*Fitness)(const A&)>
void BM_evolution_hat_defaults(benchmark::State& st) {
  const hat::evolution<S> search{};  // 30 iterations x 125, HAT's defaults
  std::size_t evaluations = 0, hits = 0;
  for (auto _ : st) {
    const auto r = search.run(Fitness, hat::at_most(gflops, budget));
    benchmark::DoNotOptimize(r.best_fitness);
    evaluations = r.evaluations;
    hits = r.cache_hits;
  }
  st.counters["evaluations"] = static_cast<double>(evaluations);
  st.counters["cache_hits"] = static_cast<double>(hits);
  st.counters["hat_scores"] = 30 * 125;
}

void BM_nsga2_params_flops(benchmark::State& st) {
  const hat::nsga2<S, 2> search{{.population = 100, .generations = 30}};
  const auto objectives = [](const A& a) { return std::array<double, 2>{minus_params(a), gflops(a)}; };
  std::size_t evaluations = 0, front = 0;
  for (auto _ : st) {
    const auto r = search.run(objectives, hat::at_most(gflops, budget));
    benchmark::DoNotOptimize(r.front.data());
    evaluations = r.evaluations;
    front = r.front.size();
  }
  st.counters["evaluations"] = static_cast<double>(evaluations);
  st.counters["front"] = static_cast<double>(front);
}
}  // namespace

BENCHMARK_TEMPLATE(BM_evolution_hat_defaults, minus_params)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_evolution_hat_defaults, pseudo_loss)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_nsga2_params_flops)->Unit(benchmark::kMillisecond);
