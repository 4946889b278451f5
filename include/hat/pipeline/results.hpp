// SPDX-License-Identifier: MIT
// results: the pipeline's final table, one row per latency constraint, as Markdown (for people), CSV
// (for plots) and JSON (for programs), each written atomically.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include <hat/io/atomic_file.hpp>
#include <hat/io/json.hpp>

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

/// One searched, trained and tested SubTransformer.
struct pipeline_row {
  std::string constraint;  // its name: "75pct", "120ms"
  std::string arch;        // the architecture, as arch<S>::to_string
  double limit_ms = 0, predicted_ms = 0, measured_ms = 0;
  double bleu = 0, bleu_tokenized = 0;
  std::int64_t params = 0, flops = 0;
};

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
  std::string md = "| constraint | predicted latency (ms) | measured latency (ms) | measured / predicted | #params (M) | FLOPs (G) | BLEU | tokenized BLEU | architecture |\n"
                   "|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : rows)
    md += "| " + r.constraint + " (" + number(r.limit_ms, "%.2f") + " ms) | " + number(r.predicted_ms, "%.2f") + " | " +
          number(r.measured_ms, "%.2f") + " | " + number(r.measured_ms / r.predicted_ms, "%.2f") + " | " +
          number(static_cast<double>(r.params) / 1e6, "%.2f") + " | " +
          number(static_cast<double>(r.flops) / 1e9, "%.3f") + " | " + number(r.bleu, "%.2f") + " | " +
          number(r.bleu_tokenized, "%.2f") + " | `" + r.arch + "` |\n";
  return md;
}

/// Writes results.md (with the device the latencies were measured on and the latency check),
/// results.csv (exact doubles) and results.json into `dir`; returns the Markdown table. A value
/// that is not a finite number is a config_error naming it, and then no file is written.
inline std::string write_pipeline_results(const std::filesystem::path& dir, const std::vector<pipeline_row>& rows,
                                          const std::string& device, const latency_drift& drift = {}) {
  using detail::number;
  std::string csv = "constraint,limit_ms,predicted_ms,measured_ms,dataset_drift,params,flops,bleu,bleu_tokenized,arch\n";
  json all = json::array();
  for (const auto& r : rows) {
    csv += r.constraint + "," + number(r.limit_ms, "%.17g") + "," + number(r.predicted_ms, "%.17g") + "," +
           number(r.measured_ms, "%.17g") + "," + number(drift.median, "%.17g") + "," + std::to_string(r.params) + "," +
           std::to_string(r.flops) + "," + number(r.bleu, "%.17g") + "," + number(r.bleu_tokenized, "%.17g") + ",\"" +
           r.arch + "\"\n";
    all.push_back({{"constraint", r.constraint},
                   {"limit_ms", r.limit_ms},
                   {"predicted_ms", r.predicted_ms},
                   {"measured_ms", r.measured_ms},
                   {"dataset_drift", drift.median},
                   {"params", r.params},
                   {"flops", r.flops},
                   {"bleu", r.bleu},
                   {"bleu_tokenized", r.bleu_tokenized},
                   {"arch", r.arch}});
  }
  const std::string md = results_markdown(rows);
  const std::string json_file = json_text(all, 2);  // first: a value that is not a number writes nothing
  write_file_atomic(dir / "results.md", "Measured on " + device + ".\n\n" + md +
                                            (drift.rows ? "\n" + drift.sentence() + "\n" : std::string()));
  write_file_atomic(dir / "results.csv", csv);
  write_file_atomic(dir / "results.json", json_file);
  return md;
}

}  // namespace hat
