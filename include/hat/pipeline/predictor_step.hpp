// SPDX-License-Identifier: MIT
// predictor_step: the pipeline's latency predictor from a latency dataset (HAT's latency_predictor.py
// train step): trained on the 80 % split, scored on the held-out 10 %, saved last.
#pragma once

#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <hat/backend/concepts.hpp>
#include <hat/config.hpp>
#include <hat/io/atomic_file.hpp>
#include <hat/io/latency_csv.hpp>
#include <hat/io/same_file.hpp>
#include <hat/io/svg_plot.hpp>
#include <hat/predictor/latency_predictor.hpp>
#include <hat/predictor/metrics.hpp>
#include <hat/predictor/split.hpp>

namespace hat {

/// A predictor model by the name configs and flags use ("mlp", "linear", "quadratic"; "auto":
/// none, the best on the valid split); another name is a config_error naming `where`.
inline std::optional<predictor_model> predictor_model_named(const std::string& name, const std::string& where) {
  if (name == "auto") return std::nullopt;
  if (name == "mlp") return predictor_model::mlp;
  if (name == "linear") return predictor_model::linear;
  if (name == "quadratic") return predictor_model::quadratic;
  throw config_error(where + ": predictor model '" + name + "': expected mlp, linear, quadratic or auto");
}

/// The name of a predictor model, as predictor_model_named reads it.
inline std::string predictor_model_name(predictor_model m) {
  return m == predictor_model::linear ? "linear" : m == predictor_model::quadratic ? "quadratic" : "mlp";
}

struct predictor_inputs {
  std::filesystem::path csv;   // a HAT-format latency dataset
  std::filesystem::path out;   // the predictor file (written last: it marks the step done)
  std::filesystem::path plot;  // SVG of predicted against measured latency on the test split (empty: none)
  std::optional<predictor_model> model;  // none: the best of linear, quadratic and MLP on the valid split
  double lat_norm = 0;         // latency divisor (HAT: 200 GPU, 300 Xeon, 5000 Raspberry Pi)
  std::uint64_t seed = 1;      // the split's and the networks' (overrides train.seed)
  predictor_train_options train;
  std::function<void(std::size_t step, std::size_t total, double loss)> progress;  // MLP steps
};

template <backend_policy Backend>
struct predictor_outputs {
  latency_predictor<Backend> predictor;
  predictor_model model;    // the one trained (auto's choice)
  predictor_metrics test;   // on the held-out test split
  double seconds = 0;       // training time (reported only)
};

/// Scores predictor `p` on rows `rows` of `table`; with a `plot` path, also writes an SVG of
/// predicted against measured latency titled `title`.
template <class Predictor>
predictor_metrics evaluate_predictor(Predictor& p, const latency_table& table, std::span<const std::size_t> rows,
                                     const std::filesystem::path& plot = {}, const std::string& title = {}) {
  std::vector<std::array<double, 10>> x;
  std::vector<double> y;
  for (auto i : rows) {
    x.push_back(table.rows[i].features);
    y.push_back(table.rows[i].total_ms());
  }
  const auto predicted = p.predict_ms(x);
  if (!plot.empty()) {
    plot_series s{{}, "architectures (" + std::to_string(y.size()) + ")", "#1f77b4", 2.5, false};
    for (std::size_t i = 0; i < y.size(); ++i) s.points.emplace_back(y[i], predicted[i]);
    write_file_atomic(plot, svg_plot({s}, {title, "measured latency (ms)", "predicted latency (ms)", true}));
  }
  return evaluate_predictions(y, predicted);
}

/// Trains a latency predictor on the seeded 80 % split of in.csv (auto: the best model on the
/// 10 % valid split), scores it on the 10 % test split, writes the plot, then the predictor.
template <backend_policy Backend>
predictor_outputs<Backend> train_latency_predictor(Backend& be, const predictor_inputs& in) {
  if (!(in.lat_norm > 0) || !std::isfinite(in.lat_norm))
    throw config_error("predictor: lat_norm must be a positive number (the latency divisor)");
  refuse_to_overwrite(in.out, "the predictor file", {in.csv});
  refuse_to_overwrite(in.plot, "the plot", {in.csv});
  const auto table = read_latency_csv(in.csv);
  if (table.rows.size() < 10)  // HAT's 80/10/10 split leaves a split empty below that
    throw config_error(in.csv.string() + ": " + std::to_string(table.rows.size()) +
                       " rows; a predictor needs at least 10 (80 % to train, 10 % to choose, 10 % to test)");
  const auto split = split_rows(table.rows.size(), in.seed);
  predictor_train_options o = in.train;
  o.seed = in.seed;
  const auto progress = [&](std::size_t step, std::size_t total, double loss) {
    if (in.progress) in.progress(step, total, loss);
  };
  const auto t0 = std::chrono::steady_clock::now();
  predictor_model chosen = in.model.value_or(predictor_model::mlp);
  std::optional<latency_predictor<Backend>> trained;
  if (!in.model) {  // the test split stays unseen
    trained.emplace(fit_best_predictor(be, in.lat_norm, table, split, o, &chosen, progress));
  } else {
    trained.emplace(be, in.lat_norm, chosen);
    trained->fit(table, split.train, o, progress);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto test = evaluate_predictor(*trained, table, split.test, in.plot,
                                       "predictor fit: " + in.csv.filename().string() + " (test split)");
  trained->save(in.out.string());
  return {std::move(*trained), chosen, test, seconds};
}

}  // namespace hat
