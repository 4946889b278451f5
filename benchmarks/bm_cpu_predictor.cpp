// SPDX-License-Identifier: MIT
// Latency-predictor speed on one core: training on 1,600 rows (hat's default recipe side by side
// with HAT's), and prediction throughput, batched and one architecture at a time.
// Run with OPENBLAS_NUM_THREADS=1 (the benchmark also sets one BLAS thread) and state the
// OPENBLAS_CORETYPE used: the first line of the output prints the active kernels.
#include <benchmark/benchmark.h>


#include <hat/backend/cpu.hpp>
#include <hat/interop/xtensor.hpp>
#include "support/cpu_benchmark_main.hpp"
#include <hat/predictor/latency_predictor.hpp>
#include <hat/space/hat_spaces.hpp>

namespace {

// 2,000 architectures of HAT's latency space with a smooth synthetic latency: speed does not
// depend on the values, and the benchmark then needs no data files.
const hat::latency_table& rows() {
  static const hat::latency_table t = [] {
    hat::latency_table t;
    hat::rng g(1);
    for (int i = 0; i < 2000; ++i) {
      hat::latency_row r;
      r.features = hat::hat_features(hat::arch<hat::hat_latency_space>::sample(g));
      r.encoder_ms = 5 + r.features[2] / 400;
      r.decoder_ms = r.features[5] * (10 + r.features[6] / 100 + 5 * r.features[9]);
      t.rows.push_back(r);
    }
    return t;
  }();
  return t;
}

void train(benchmark::State& st, hat::predictor_model model, const hat::predictor_train_options& o) {
  hat::cpu::set_threads(1);
  hat::cpu be;
  const auto split = hat::split_rows(rows().rows.size(), 1);  // 1,600 training rows
  for (auto _ : st) {
    hat::latency_predictor<hat::cpu> p(be, 300, model);
    p.fit(rows(), split.train, o);
    benchmark::DoNotOptimize(p);
  }
  st.counters["rows"] = static_cast<double>(split.train.size());
  st.counters["steps"] = static_cast<double>(o.steps * o.ensemble);
}

void BM_train_mlp_default(benchmark::State& st) { train(st, hat::predictor_model::mlp, {}); }
void BM_train_mlp_hat_recipe(benchmark::State& st) {
  train(st, hat::predictor_model::mlp, hat::predictor_train_options::hat());
}
void BM_train_quadratic(benchmark::State& st) { train(st, hat::predictor_model::quadratic, {}); }
void BM_train_quadratic_lapack(benchmark::State& st) {
  hat::predictor_train_options o;
  o.least_squares = hat::lapack_least_squares;
  train(st, hat::predictor_model::quadratic, o);
}

void predict(benchmark::State& st, hat::predictor_model model, bool batched) {
  hat::cpu::set_threads(1);
  hat::cpu be;
  const auto split = hat::split_rows(rows().rows.size(), 1);
  hat::latency_predictor<hat::cpu> p(be, 300, model);
  hat::predictor_train_options o;
  o.steps = 10;
  p.fit(rows(), split.train, o);
  std::vector<std::array<double, 10>> x;
  for (const auto& r : rows().rows) x.push_back(r.features);
  for (auto _ : st) {
    if (batched) {
      benchmark::DoNotOptimize(p.predict_ms(x));
    } else {
      for (const auto& f : x) benchmark::DoNotOptimize(p.predict_ms(f));
    }
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()) * static_cast<std::int64_t>(x.size()));
}
void BM_predict_mlp_batched(benchmark::State& st) { predict(st, hat::predictor_model::mlp, true); }
void BM_predict_mlp_one_by_one(benchmark::State& st) { predict(st, hat::predictor_model::mlp, false); }
void BM_predict_quadratic_one_by_one(benchmark::State& st) { predict(st, hat::predictor_model::quadratic, false); }

}  // namespace

BENCHMARK(BM_train_mlp_default)->Unit(benchmark::kSecond)->Iterations(1)->Repetitions(3)->ReportAggregatesOnly(true);
BENCHMARK(BM_train_mlp_hat_recipe)->Unit(benchmark::kSecond)->Iterations(1)->Repetitions(3)->ReportAggregatesOnly(true);
BENCHMARK(BM_train_quadratic)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_train_quadratic_lapack)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_predict_mlp_batched)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_predict_mlp_one_by_one)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_predict_quadratic_one_by_one)->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) { return hat_bench::run_cpu_benchmarks(argc, argv); }
