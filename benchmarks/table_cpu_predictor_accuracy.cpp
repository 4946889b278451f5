// SPDX-License-Identifier: MIT
// Latency-predictor accuracy on HAT's six latency datasets: the linear and quadratic least-squares
// models, HAT's MLP recipe and ours, each trained on the 80 % train split and measured on the
// 10 % test split, averaged over several seeded splits. Prints a Markdown table (docs/results.md).
//   table_cpu_predictor_accuracy [DATASET_DIR] [SPLITS] [MODEL_FILTER]
// DATASET_DIR defaults to ../shared/reference/latency-datasets; SPLITS to 3; MODEL_FILTER keeps
// the models whose name contains it ("HAT", "default", "quadratic", ...).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/interop/xtensor.hpp>
#include <hat/predictor/latency_predictor.hpp>
#include <hat/predictor/metrics.hpp>

namespace {

struct recipe {
  const char* name;
  hat::predictor_model model;
  hat::predictor_train_options options;
};

double lat_norm_for(const std::string& file) {  // HAT's predictor configs
  if (file.find("raspberrypi") != std::string::npos) return 5000;
  if (file.find("xeon") != std::string::npos) return 300;
  return 200;
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path dir = argc > 1 ? argv[1] : HAT_DEFAULT_LATENCY_DIR;
  const int splits = argc > 2 ? std::atoi(argv[2]) : 3;
  const std::string filter = argc > 3 ? argv[3] : "";
  if (!std::filesystem::is_directory(dir) || splits < 1) {
    std::fprintf(stderr, "usage: %s [DATASET_DIR] [SPLITS >= 1]; '%s' is not a folder\n", argv[0], dir.c_str());
    return 2;
  }
  hat::cpu be;
  const auto warn = hat::cpu::blas_warning();
  std::printf("OpenBLAS core: %s, threads %d%s%s\n\n", hat::cpu::blas_core().c_str(), hat::cpu::threads(),
              warn.empty() ? "" : "; WARNING: ", warn.c_str());
  hat::predictor_train_options lapack;
  lapack.least_squares = hat::lapack_least_squares;
  const std::vector<recipe> recipes = {
      {"linear", hat::predictor_model::linear, {}},
      {"quadratic", hat::predictor_model::quadratic, {}},
      {"linear, LAPACK", hat::predictor_model::linear, lapack},
      {"quadratic, LAPACK", hat::predictor_model::quadratic, lapack},
      {"MLP, HAT's recipe", hat::predictor_model::mlp, hat::predictor_train_options::hat()},
      {"MLP, hat's default", hat::predictor_model::mlp, {}},
      {"auto: best on valid split", hat::predictor_model::mlp, {}},
  };
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".csv") files.push_back(e.path());
  std::sort(files.begin(), files.end());

  std::printf("| dataset | model | RMSE (ms) | MAPE | within 10%% | Kendall tau | train s |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (const auto& path : files) {
    const auto table = hat::read_latency_csv(path);
    const double norm = lat_norm_for(path.filename().string());
    for (const auto& r : recipes) {
      if (std::string(r.name).find(filter) == std::string::npos) continue;
      hat::predictor_metrics sum;
      double seconds = 0;
      for (int s = 1; s <= splits; ++s) {
        const auto split = hat::split_rows(table.rows.size(), static_cast<std::uint64_t>(s));
        std::vector<std::array<double, 10>> x;
        std::vector<double> y;
        for (auto i : split.test) {
          x.push_back(table.rows[i].features);
          y.push_back(table.rows[i].total_ms());
        }
        auto o = r.options;
        o.seed = static_cast<std::uint64_t>(s);
        const auto t0 = std::chrono::steady_clock::now();
        auto p = std::string(r.name).starts_with("auto")
                     ? hat::fit_best_predictor(be, norm, table, split, o)
                     : hat::latency_predictor<hat::cpu>(be, norm, r.model);
        if (!std::string(r.name).starts_with("auto")) p.fit(table, split.train, o);
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const auto m = hat::evaluate_predictions(y, p.predict_ms(x));
        sum.rmse_ms += m.rmse_ms;
        sum.mape += m.mape;
        sum.within10 += m.within10;
        sum.kendall_tau += m.kendall_tau;
      }
      std::printf("| %s | %s | %.2f | %.2f %% | %.1f %% | %.4f | %.2f |\n", path.stem().c_str(), r.name,
                  sum.rmse_ms / splits, 100 * sum.mape / splits, 100 * sum.within10 / splits, sum.kendall_tau / splits,
                  seconds / splits);
      std::fflush(stdout);
    }
  }
  return 0;
}
