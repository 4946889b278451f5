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
#include <hat/backend/precision.hpp>
#include <hat/config.hpp>
#include <hat/io/atomic_file.hpp>
#include <hat/io/latency_csv.hpp>
#include <hat/io/same_file.hpp>
#include <hat/io/svg_plot.hpp>
#include <hat/predictor/latency_predictor.hpp>
#include <hat/predictor/metrics.hpp>
#include <hat/predictor/split.hpp>

namespace hat {

/// A predictor model by the name configs and flags use ("mlp", "linear", "quadratic", "cost";
/// "auto": none, the best of the first three on the valid split); another name is a
/// config_error naming `where`.
inline std::optional<predictor_model> predictor_model_named(const std::string& name, const std::string& where) {
  if (name == "auto") return std::nullopt;
  if (name == "mlp") return predictor_model::mlp;
  if (name == "linear") return predictor_model::linear;
  if (name == "quadratic") return predictor_model::quadratic;
  if (name == "cost") return predictor_model::cost;
  throw config_error(where + ": predictor model '" + name + "': expected mlp, linear, quadratic, cost or auto");
}

/// The name of a predictor model, as predictor_model_named reads it.
inline std::string predictor_model_name(predictor_model m) {
  return m == predictor_model::linear      ? "linear"
         : m == predictor_model::quadratic ? "quadratic"
         : m == predictor_model::cost      ? "cost"
                                           : "mlp";
}

struct predictor_inputs {
  std::filesystem::path csv;   // a HAT-format latency dataset
  std::filesystem::path out;   // the predictor file (written last: it marks the step done)
  std::filesystem::path plot;  // SVG of predicted against measured latency on the test split (empty: none)
  std::optional<predictor_model> model;  // none: the best of linear, quadratic and MLP on the valid split
  double lat_norm = 0;         // latency divisor (HAT: 200 GPU, 300 Xeon, 5000 Raspberry Pi)
  std::uint64_t seed = 1;      // the split's and the networks' (overrides train.seed)
  /// A predictor of another device to adapt (latency_predictor::adapt) with every row of `csv`
  /// instead of training one from scratch; `model` and `lat_norm` are then its own.
  std::filesystem::path adapt_from;
  predictor_train_options train;
  std::function<void(std::size_t step, std::size_t total, double loss)> progress;  // MLP steps
};

template <backend_policy Backend>
struct predictor_outputs {
  latency_predictor<Backend> predictor;
  predictor_model model;    // the one trained (auto's choice)
  predictor_metrics test;   // on the held-out test split; adapted: leave-one-out over every row
  double seconds = 0;       // training time (reported only)
  bool leave_one_out = false;  // test is the leave-one-out error (an adapted predictor)
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

/// Adapts the predictor in.adapt_from to every row of in.csv (latency_predictor::adapt); its
/// accuracy is the leave-one-out error (each row predicted by the fit without it), the plot
/// shows those predictions. Writes the plot, then the predictor.
template <backend_policy Backend>
predictor_outputs<Backend> adapt_latency_predictor(Backend& be, const predictor_inputs& in) {
  refuse_to_overwrite(in.out, "the predictor file", {in.csv, in.adapt_from});
  refuse_to_overwrite(in.plot, "the plot", {in.csv, in.adapt_from});
  auto source = latency_predictor<Backend>::load(be, in.adapt_from);
  const auto table = read_latency_csv(in.csv);
  std::vector<std::array<double, 10>> x;
  std::vector<double> y;
  for (const auto& r : table.rows) {
    x.push_back(r.features);
    y.push_back(r.total_ms());
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto p = [&] {
    try {
      return latency_predictor<Backend>::adapt(std::move(source), x, y);
    } catch (const config_error& e) {
      throw config_error(in.csv.string() + ": " + e.what());
    }
  }();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto& loo = p.leave_one_out_ms();
  if (!in.plot.empty()) {
    plot_series s{{}, "architectures (" + std::to_string(y.size()) + ")", "#1f77b4", 2.5, false};
    for (std::size_t i = 0; i < y.size(); ++i) s.points.emplace_back(y[i], loo[i]);
    write_file_atomic(in.plot, svg_plot({s}, {"adapted predictor: " + in.csv.filename().string() + " (leave-one-out)",
                                              "measured latency (ms)", "predicted latency (ms)", true}));
  }
  const auto metrics = evaluate_predictions(y, loo);
  p.set_measured_at(table.weights);  // this device's rows, whatever the source was measured at
  p.save(in.out.string());
  return {std::move(p), predictor_model::cost, metrics, seconds, true};
}

/// Trains a latency predictor on the seeded 80 % split of in.csv (auto: the best model on the
/// 10 % valid split), scores it on the 10 % test split, writes the plot, then the predictor.
template <backend_policy Backend>
predictor_outputs<Backend> train_latency_predictor(Backend& be, const predictor_inputs& in) {
  if (!in.adapt_from.empty()) return adapt_latency_predictor(be, in);
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
  trained->set_measured_at(table.weights);
  trained->save(in.out.string());
  return {std::move(*trained), chosen, test, seconds, false};
}

}  // namespace hat
