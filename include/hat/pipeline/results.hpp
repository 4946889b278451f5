// SPDX-License-Identifier: MIT
// results: the pipeline's final table, one row per latency constraint and family (HAT's searched
// SubTransformer, and with `baselines: true` a uniformly scaled Transformer), as Markdown (for
// people), CSV (for plots) and JSON (for programs), with BLEU against measured latency as SVG;
// each file written atomically.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <hat/io/atomic_file.hpp>
#include <hat/io/json.hpp>
#include <hat/io/svg_plot.hpp>

namespace hat {

/// The pipeline's latency check: rows of its latency dataset re-measured when the results are,
/// as a ratio of now to then. Far from 1, the device was not in the state it was in during the
/// dataset (another process on a shared core slows a single-threaded decode by about a third on
/// a 2-core machine: docs/pipeline.md), and predicted latencies are off by the same factor.
struct latency_drift {
  std::size_t rows = 0;                  // re-measured (0: no check, nothing reported)
  double median = 1, low = 1, high = 1;  // of now / recorded

  bool suspicious() const noexcept { return rows > 0 && (median > 1.1 || median < 1 / 1.1); }
  std::string sentence() const {
    char buf[400];
    std::snprintf(buf, sizeof buf,
                  "Latency check: %zu rows of the latency dataset, re-measured with the results, took %.2fx their "
                  "recorded latency (median; %.2f-%.2f).%s",
                  rows, median, low, high,
                  suspicious() ? " The device ran at another speed than during the dataset (another process, "
                                 "frequency scaling?): predicted latencies are off by about that factor; rerun "
                                 "on a quiet machine to compare them."
                               : "");
    return buf;
  }
};

/// The drift of rows measured `now` [n] against their `recorded` latencies [n].
inline latency_drift latency_drift_of(std::span<const double> now, std::span<const double> recorded) {
  latency_drift d;
  std::vector<double> r;
  for (std::size_t i = 0; i < now.size() && i < recorded.size(); ++i)
    if (recorded[i] > 0) r.push_back(now[i] / recorded[i]);
  if (r.empty()) return d;
  std::sort(r.begin(), r.end());
  d.rows = r.size();
  d.median = r.size() % 2 ? r[r.size() / 2] : (r[r.size() / 2 - 1] + r[r.size() / 2]) / 2;
  d.low = r.front();
  d.high = r.back();
  return d;
}

/// One trained and tested SubTransformer: searched (family "hat") or the uniformly scaled
/// baseline picked under the same constraint (family "baseline").
struct pipeline_row {
  std::string constraint;  // its name: "75pct", "120ms"
  std::string arch;        // the architecture, as arch<S>::to_string
  double limit_ms = 0, predicted_ms = 0, measured_ms = 0;
  double bleu = 0, bleu_tokenized = 0;
  std::int64_t params = 0, flops = 0;
  std::string family = "hat";
  /// With baselines: the paired bootstrap's p-value of the BLEU difference between the two
  /// families at this constraint (the same on both rows; include/hat/eval/paired_bootstrap.hpp).
  std::optional<double> bleu_p_value{};
};

/// HAT's rows against the baselines picked under the same constraints. In each pair, BLEU is
/// better or worse when the difference is significant (the paired bootstrap's p < 0.05; rows
/// without a p-value count any difference) and the same otherwise; latency is faster or slower
/// past the tolerance (5 %: the spread of repeated measurements at these sizes) and the same
/// within it. A **win** is better BLEU at the same or lower latency, or the same BLEU faster; a
/// **loss** the other way round; a **tie** the same BLEU at the same latency; **mixed** one
/// faster and the other better.
struct family_comparison {
  std::size_t pairs = 0, wins = 0, losses = 0, ties = 0;
  double mean_bleu_gain = 0;      // HAT's BLEU minus the baseline's, mean over pairs
  double mean_latency_ratio = 1;  // HAT's measured latency over the baseline's, geometric mean

  std::size_t mixed() const noexcept { return pairs - wins - losses - ties; }
  std::string sentence() const {
    if (!pairs) return "";
    char buf[500];
    const char* verdict = wins == pairs     ? "HAT's networks win at every constraint"
                          : losses == pairs ? "the uniformly scaled baselines win at every constraint"
                          : wins > losses   ? "HAT's networks win more often than they lose"
                          : losses > wins   ? "the uniformly scaled baselines win more often than they lose"
                                            : "neither family wins overall";
    std::snprintf(buf, sizeof buf,
                  "HAT against uniformly scaled Transformers under the same constraints: %s on this run (%zu win(s), "
                  "%zu loss(es), %zu tie(s), %zu mixed of %zu; BLEU differences with p >= 0.05 count as ties); "
                  "BLEU %+.2f on average at %.2fx the baselines' measured latency.",
                  verdict, wins, losses, ties, mixed(), pairs, mean_bleu_gain, mean_latency_ratio);
    return buf;
  }
};

inline family_comparison compare_families(const std::vector<pipeline_row>& rows, double latency_tolerance = 1.05,
                                          double alpha = 0.05) {
  family_comparison c;
  double log_ratio = 0;
  for (const auto& h : rows) {
    if (h.family != "hat") continue;
    const auto b = std::find_if(rows.begin(), rows.end(),
                                [&](const pipeline_row& r) { return r.family == "baseline" && r.constraint == h.constraint; });
    if (b == rows.end() || !(h.measured_ms > 0) || !(b->measured_ms > 0)) continue;
    ++c.pairs;
    const double gain = h.bleu - b->bleu, ratio = h.measured_ms / b->measured_ms;
    c.mean_bleu_gain += gain;
    log_ratio += std::log(ratio);
    const bool significant = !h.bleu_p_value || *h.bleu_p_value < alpha;
    const int bleu = !significant || gain == 0 ? 0 : gain > 0 ? 1 : -1;  // HAT's: better, same, worse
    const int speed = ratio < 1 / latency_tolerance ? 1 : ratio > latency_tolerance ? -1 : 0;  // faster, same, slower
    if ((bleu > 0 && speed >= 0) || (bleu == 0 && speed > 0)) ++c.wins;
    else if ((bleu < 0 && speed <= 0) || (bleu == 0 && speed < 0)) ++c.losses;
    else if (bleu == 0 && speed == 0) ++c.ties;
  }
  if (c.pairs) {
    c.mean_bleu_gain /= static_cast<double>(c.pairs);
    c.mean_latency_ratio = std::exp(log_ratio / static_cast<double>(c.pairs));
  }
  return c;
}

/// BLEU against measured latency, one series per family (the paper's trade-off figure).
inline std::string results_plot(const std::vector<pipeline_row>& rows, const std::string& device) {
  std::vector<plot_series> series;
  for (const char* family : {"hat", "baseline"}) {
    plot_series s;
    for (const auto& r : rows)
      if (r.family == family) s.points.emplace_back(r.measured_ms, r.bleu);
    if (s.points.empty()) continue;
    std::sort(s.points.begin(), s.points.end());
    s.line = true;
    s.radius = 4;
    s.label = std::string(family) == "hat" ? "HAT (searched SubTransformers)" : "Transformer, uniformly scaled";
    s.color = std::string(family) == "hat" ? "#d62728" : "#1f77b4";
    series.push_back(std::move(s));
  }
  return svg_plot(series, {"BLEU against measured latency", "latency (ms), " + device, "BLEU", false, true});
}

namespace detail {
inline std::string number(double v, const char* format) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}
}  // namespace detail

/// The rows as a Markdown table.
inline std::string results_markdown(const std::vector<pipeline_row>& rows) {
  using detail::number;
  std::string md = "| constraint | family | predicted latency (ms) | measured latency (ms) | measured / predicted | #params (M) | FLOPs (G) | BLEU | tokenized BLEU | architecture |\n"
                   "|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : rows)
    md += "| " + r.constraint + " (" + number(r.limit_ms, "%.2f") + " ms) | " + r.family + " | " + number(r.predicted_ms, "%.2f") + " | " +
          number(r.measured_ms, "%.2f") + " | " + number(r.measured_ms / r.predicted_ms, "%.2f") + " | " +
          number(static_cast<double>(r.params) / 1e6, "%.2f") + " | " +
          number(static_cast<double>(r.flops) / 1e9, "%.3f") + " | " + number(r.bleu, "%.2f") + " | " +
          number(r.bleu_tokenized, "%.2f") + " | `" + r.arch + "` |\n";
  return md;
}

/// Writes results.md (with the device the latencies were measured on, the comparison of the
/// families when there are baselines, and the latency check), results.csv (exact doubles),
/// results.json and results.svg into `dir`; returns the Markdown table. A value
/// that is not a finite number is a config_error naming it, and then no file is written.
inline std::string write_pipeline_results(const std::filesystem::path& dir, const std::vector<pipeline_row>& rows,
                                          const std::string& device, const latency_drift& drift = {}) {
  using detail::number;
  std::string csv = "constraint,family,limit_ms,predicted_ms,measured_ms,dataset_drift,params,flops,bleu,bleu_tokenized,bleu_p_value,arch\n";
  json all = json::array();
  for (const auto& r : rows) {
    csv += r.constraint + "," + r.family + "," + number(r.limit_ms, "%.17g") + "," + number(r.predicted_ms, "%.17g") + "," +
           number(r.measured_ms, "%.17g") + "," + number(drift.median, "%.17g") + "," + std::to_string(r.params) + "," +
           std::to_string(r.flops) + "," + number(r.bleu, "%.17g") + "," + number(r.bleu_tokenized, "%.17g") + "," +
           (r.bleu_p_value ? number(*r.bleu_p_value, "%.17g") : std::string()) + ",\"" +
           r.arch + "\"\n";
    all.push_back({{"constraint", r.constraint},
                   {"family", r.family},
                   {"limit_ms", r.limit_ms},
                   {"predicted_ms", r.predicted_ms},
                   {"measured_ms", r.measured_ms},
                   {"dataset_drift", drift.median},
                   {"params", r.params},
                   {"flops", r.flops},
                   {"bleu", r.bleu},
                   {"bleu_tokenized", r.bleu_tokenized},
                   {"arch", r.arch}});
    if (r.bleu_p_value) all.back()["bleu_p_value"] = *r.bleu_p_value;
  }
  const std::string md = results_markdown(rows);
  const std::string json_file = json_text(all, 2);  // first: a value that is not a number writes nothing
  const auto families = compare_families(rows);
  write_file_atomic(dir / "results.md", "Measured on " + device + ".\n\n" + md +
                                            (families.pairs ? "\n" + families.sentence() + "\n" : std::string()) +
                                            (drift.rows ? "\n" + drift.sentence() + "\n" : std::string()));
  write_file_atomic(dir / "results.csv", csv);
  write_file_atomic(dir / "results.json", json_file);
  write_file_atomic(dir / "results.svg", results_plot(rows, device));
  return md;
}

}  // namespace hat
