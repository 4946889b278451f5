// SPDX-License-Identifier: MIT
// Loss curves of a training run: per-update CSV, validation CSV, and an SVG plot of both.
#pragma once

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include <hat/config.hpp>
#include <hat/io/atomic_file.hpp>
#include <hat/io/read_file.hpp>
#include <hat/io/svg_plot.hpp>
#include <hat/train/trainer.hpp>

namespace hat {

/// Validation losses over a run: (update, SubTransformer name, loss, nll), base 2 per token.
struct validation_log {
  struct entry {
    std::size_t update = 0;
    std::string name;
    double loss = 0, nll = 0;
  };
  std::vector<entry> entries;
  void add(std::size_t update, std::string name, double loss, double nll) {
    entries.push_back({update, std::move(name), loss, nll});
  }
};

/// `update,name,loss,nll` lines, written atomically.
inline void write_validation_log(const validation_log& v, const std::string& path) {
  std::string s = "update,name,loss,nll\n";
  char line[256];
  for (const auto& e : v.entries) {
    std::snprintf(line, sizeof line, "%zu,%s,%.6f,%.6f\n", e.update, e.name.c_str(), e.loss, e.nll);
    s += line;
  }
  write_file_atomic(path, s);
}

/// Reads what write_validation_log wrote, keeping entries at or before `max_update` (a resumed
/// run drops what the interrupted one logged after its checkpoint). Throws config_error naming
/// the file and line of a malformed row.
inline validation_log read_validation_log(const std::string& path, std::size_t max_update) {
  std::istringstream in(read_file(path));
  validation_log v;
  std::string line;
  std::size_t no = 0;
  while (std::getline(in, line)) {
    if (++no == 1) continue;  // header
    if (line.empty()) continue;
    std::istringstream row(line);
    std::string update, name, loss, nll;
    if (!std::getline(row, update, ',') || !std::getline(row, name, ',') || !std::getline(row, loss, ',') ||
        !std::getline(row, nll))
      throw config_error(path + ":" + std::to_string(no) + ": expected update,name,loss,nll");
    try {
      const std::size_t u = std::stoul(update);
      if (u <= max_update) v.add(u, name, std::stod(loss), std::stod(nll));
    } catch (const std::exception&) {
      throw config_error(path + ":" + std::to_string(no) + ": not numbers: '" + line + "'");
    }
  }
  return v;
}

/// `<prefix>.csv` (update, loss, nll, lr, tokens, seconds per update) and `<prefix>.svg`: the
/// training loss (a running mean over 1 % of the run, at least 1 update) and every validation
/// series, in bits per token against updates. Both written atomically.
inline void write_loss_curve(const std::vector<update_record>& history, const validation_log& valid, const std::string& prefix) {
  std::string csv = "update,loss,nll,lr,tokens,seconds\n";
  char line[256];
  for (const auto& r : history) {
    std::snprintf(line, sizeof line, "%zu,%.6f,%.6f,%.6g,%zu,%.4f\n", r.update, r.loss, r.nll, r.lr, r.tokens, r.seconds);
    csv += line;
  }
  write_file_atomic(prefix + ".csv", csv);

  std::vector<plot_series> series;
  plot_series train;
  train.label = "train (running mean)";
  train.radius = 0;
  train.line = true;
  const std::size_t window = history.size() / 100 > 1 ? history.size() / 100 : 1;
  double sum = 0;
  for (std::size_t i = 0; i < history.size(); ++i) {
    sum += history[i].loss;
    if (i >= window) sum -= history[i - window].loss;
    const std::size_t n = i + 1 < window ? i + 1 : window;
    train.points.emplace_back(static_cast<double>(history[i].update), sum / static_cast<double>(n));
  }
  series.push_back(std::move(train));
  const char* colors[] = {"#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};
  std::vector<std::string> names;
  for (const auto& e : valid.entries) {
    std::size_t k = 0;
    while (k < names.size() && names[k] != e.name) ++k;
    if (k == names.size()) {
      names.push_back(e.name);
      plot_series s;
      s.label = "valid " + e.name;
      s.color = colors[k % 5];
      s.line = true;
      series.push_back(std::move(s));
    }
    series[1 + k].points.emplace_back(static_cast<double>(e.update), e.loss);
  }
  plot_options o;
  o.title = "loss (label-smoothed, bits per target token)";
  o.x_label = "update";
  o.y_label = "loss (bits/token)";
  write_file_atomic(prefix + ".svg", svg_plot(series, o));
}

}  // namespace hat
