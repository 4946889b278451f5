// SPDX-License-Identifier: MIT
// A new device in minutes: a predictor of one of HAT's devices adapted to another with 10, 20 or
// 50 measured rows (latency_predictor::adapt), against predictors fitted from scratch on the same
// rows and one fitted on the whole file, for every ordered pair of HAT's six latency datasets.
// Prints Markdown tables (docs/results.md) and, with a third argument, an SVG of Kendall tau
// against the number of rows.
//   table_cpu_predictor_adapt [DATASET_DIR] [DRAWS] [PLOT.svg]
// Protocol: each target file is split once (seed 1) into 400 test rows and a pool of 1,600; each
// draw takes n rows from the pool (seeds 1..DRAWS), every model is scored on the 400 test rows,
// and a pair's figure is the median over its draws. The source predictor is the quadratic model
// fitted on every row of the source file.
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/io/atomic_file.hpp>
#include <hat/io/latency_csv.hpp>
#include <hat/io/svg_plot.hpp>
#include <hat/predictor/latency_predictor.hpp>
#include <hat/predictor/metrics.hpp>
#include <hat/predictor/split.hpp>

namespace {

using predictor = hat::latency_predictor<hat::cpu>;
using features = std::array<double, 10>;

struct rows {
  std::vector<features> x;
  std::vector<double> y;
  void add(const features& f, double ms) { x.push_back(f), y.push_back(ms); }
};

rows all_rows(const hat::latency_table& t) {
  rows r;
  for (const auto& row : t.rows) r.add(row.features, row.total_ms());
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

struct score {
  double tau, rmse;
};

const char* const methods[] = {"source alone, rescaled", "scratch: linear", "scratch: cost terms", "adapted",
                               "whole file: quadratic"};
constexpr std::size_t method_count = std::size(methods);
constexpr std::size_t sizes[] = {10, 20, 50};

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path dir = argc > 1 && *argv[1] ? argv[1] : HAT_DEFAULT_LATENCY_DIR;  // "" : the default
  const int draws = argc > 2 ? std::atoi(argv[2]) : 5;
  const std::string plot = argc > 3 ? argv[3] : "";
  if (!std::filesystem::is_directory(dir) || draws < 1) {
    std::fprintf(stderr, "usage: %s [DATASET_DIR] [DRAWS >= 1] [PLOT.svg]; '%s' is not a folder\n", argv[0], dir.c_str());
    return 2;
  }
  hat::cpu be;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".csv") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<rows> data;
  std::vector<std::string> names;
  for (const auto& f : files) {
    data.push_back(all_rows(hat::read_latency_csv(f)));
    names.push_back(f.stem().string());
  }
  // pair_scores[n][method] = one median score per ordered pair
  std::map<std::size_t, std::array<std::vector<score>, method_count>> pair_scores;
  std::vector<std::string> pair_names;
  for (std::size_t s = 0; s < data.size(); ++s) {
    predictor source(be, 200, hat::predictor_model::quadratic);
    source.fit(data[s].x, data[s].y, {});
    const auto source_file = [&] {  // a fresh copy per adaptation (adapt takes its source)
      const auto path = std::filesystem::temp_directory_path() / "hat_table_adapt_source.pred";
      source.save(path);
      return path;
    }();
    for (std::size_t t = 0; t < data.size(); ++t) {
      if (t == s) continue;
      pair_names.push_back(names[s] + " -> " + names[t]);
      const auto split = hat::shuffled_rows(data[t].y.size(), 1);
      const std::size_t n_test = data[t].y.size() / 5;
      rows test, pool;
      for (std::size_t i = 0; i < split.size(); ++i) (i < n_test ? test : pool).add(data[t].x[split[i]], data[t].y[split[i]]);
      const auto scored = [&](predictor& p) {
        const auto m = hat::evaluate_predictions(test.y, p.predict_ms(test.x));
        return score{m.kendall_tau, m.rmse_ms};
      };
      predictor full(be, 200, hat::predictor_model::quadratic);
      full.fit(pool.x, pool.y, {});
      const score whole = scored(full);
      const auto source_test = source.predict_ms(test.x), source_pool = source.predict_ms(pool.x);
      for (std::size_t n : sizes) {
        std::array<std::vector<score>, method_count> per_draw;
        for (int d = 1; d <= draws; ++d) {
          const auto pick = hat::shuffled_rows(pool.y.size(), static_cast<std::uint64_t>(d));
          rows few;
          std::vector<double> few_source;
          for (std::size_t i = 0; i < n; ++i) {
            few.add(pool.x[pick[i]], pool.y[pick[i]]);
            few_source.push_back(source_pool[pick[i]]);
          }
          // The source rescaled: least squares on its prediction alone (ranks as the source does).
          hat::linear_model<1> rescale;
          rescale.fit(few_source, few.y);
          std::vector<double> rescaled;
          for (double v : source_test) rescaled.push_back(rescale.predict(std::array<double, 1>{v}));
          const auto m = hat::evaluate_predictions(test.y, rescaled);
          per_draw[0].push_back({m.kendall_tau, m.rmse_ms});
          predictor lin(be, 200, hat::predictor_model::linear);
          lin.fit(few.x, few.y, {});
          per_draw[1].push_back(scored(lin));
          predictor cost(be, 200, hat::predictor_model::cost);
          cost.fit(few.x, few.y, {});
          per_draw[2].push_back(scored(cost));
          auto adapted = predictor::adapt(predictor::load(be, source_file), few.x, few.y);
          per_draw[3].push_back(scored(adapted));
          per_draw[4].push_back(whole);
        }
        for (std::size_t k = 0; k < method_count; ++k) {
          std::vector<double> tau, rmse;
          for (const auto& sc : per_draw[k]) tau.push_back(sc.tau), rmse.push_back(sc.rmse);
          pair_scores[n][k].push_back({median(tau), median(rmse)});
        }
      }
    }
    std::filesystem::remove(source_file);
  }

  std::printf("Kendall tau on each target's 400 test rows; per pair the median of %d draws; over the %zu ordered pairs:\n\n",
              draws, pair_names.size());
  std::printf("| rows of the new device | model | median tau | min tau | pairs with tau >= 0.85 | median RMSE / whole-file RMSE |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (std::size_t n : sizes)
    for (std::size_t k = 0; k < method_count; ++k) {
      std::vector<double> tau, ratio;
      std::size_t above = 0;
      for (std::size_t p = 0; p < pair_names.size(); ++p) {
        tau.push_back(pair_scores[n][k][p].tau);
        ratio.push_back(pair_scores[n][k][p].rmse / pair_scores[n][4][p].rmse);
        above += pair_scores[n][k][p].tau >= 0.85;
      }
      std::printf("| %zu | %s | %.3f | %.3f | %zu / %zu | %.2f |\n", n, methods[k], median(tau),
                  *std::min_element(tau.begin(), tau.end()), above, pair_names.size(), median(ratio));
    }
  std::printf("\nPer pair, 20 rows (Kendall tau):\n\n| source -> target | source alone | scratch: linear | scratch: cost terms | adapted | whole file |\n|---|---|---|---|---|---|\n");
  for (std::size_t p = 0; p < pair_names.size(); ++p) {
    std::printf("| %s |", pair_names[p].c_str());
    for (std::size_t k = 0; k < method_count; ++k) std::printf(" %.3f |", pair_scores[20][k][p].tau);
    std::printf("\n");
  }
  if (!plot.empty()) {
    const char* colors[] = {"#7f7f7f", "#ff7f0e", "#2ca02c", "#1f77b4", "#000000"};
    std::vector<hat::plot_series> series;
    for (std::size_t k = 0; k < method_count; ++k) {
      hat::plot_series sr{{}, methods[k], colors[k], 3, true};
      for (std::size_t n : sizes) {
        std::vector<double> tau;
        for (const auto& sc : pair_scores[n][k]) tau.push_back(sc.tau);
        sr.points.emplace_back(static_cast<double>(n), median(tau));
      }
      series.push_back(sr);
    }
    hat::write_file_atomic(plot, hat::svg_plot(series, {"A predictor for a new device from few rows (HAT's 6 datasets, 30 pairs)",
                                                        "measured rows of the new device", "median Kendall tau on 400 test rows"}));
    std::printf("\nwrote %s\n", plot.c_str());
  }
  return 0;
}
