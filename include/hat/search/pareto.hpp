// SPDX-License-Identifier: MIT
// Pareto fronts: dominance, the non-dominated filter, and CSV / SVG output (atomic writes).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <filesystem>
#include <numeric>  // iota
#include <string>
#include <string_view>
#include <vector>

#include <hat/io/atomic_file.hpp>
#include <hat/io/svg_plot.hpp>
#include <hat/search/detail/numbers.hpp>
#include <hat/search/result.hpp>

namespace hat {

/// `p` dominates `q`: no worse in every objective and better in one (all minimised; NaN is
/// worse than any number).
template <std::size_t K>
bool dominates(const std::array<double, K>& p, const std::array<double, K>& q) noexcept {
  bool better = false;
  for (std::size_t i = 0; i < K; ++i) {
    if (detail::less_nan_last(q[i], p[i])) return false;
    better = better || detail::less_nan_last(p[i], q[i]);
  }
  return better;
}

/// The points no other point dominates, sorted by objective 0, then 1, ... (ties keep input
/// order). Points with equal objective vectors do not dominate each other, so all are kept.
/// Sorting first means a point only needs checking against the front found so far:
/// O(n log n + n * front size).
template <class Space, std::size_t K>
std::vector<pareto_point<Space, K>> pareto_front(const std::vector<pareto_point<Space, K>>& points) {
  std::vector<std::size_t> order(points.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const auto &x = points[a].objectives, &y = points[b].objectives;
    for (std::size_t i = 0; i < K; ++i) {
      if (detail::less_nan_last(x[i], y[i])) return true;
      if (detail::less_nan_last(y[i], x[i])) return false;
    }
    return false;
  });
  std::vector<pareto_point<Space, K>> front;
  for (std::size_t i : order) {
    const auto& p = points[i];
    if (std::none_of(front.begin(), front.end(), [&](const auto& f) { return dominates(f.objectives, p.objectives); }))
      front.push_back(p);
  }
  return front;
}

namespace detail {
inline std::string csv_field(std::string_view s, bool always_quote) {
  if (!always_quote && s.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}
}  // namespace detail

/// CSV text: a header of the objective names then `arch`, one row per point, numbers in
/// shortest round-trip form, `arch` as `arch::to_string()` in double quotes.
template <class Space, std::size_t K>
std::string pareto_csv(const std::vector<pareto_point<Space, K>>& points,
                       const std::array<std::string_view, K>& objective_names) {
  std::string out;
  for (auto name : objective_names) out += detail::csv_field(name, false) + ",";
  out += "arch\n";
  for (const auto& p : points) {
    for (double v : p.objectives) out += detail::number_text(v) + ",";
    out += detail::csv_field(p.architecture.to_string(), true) + "\n";
  }
  return out;
}

/// Writes `pareto_csv(points, objective_names)` to `path` atomically (throws config_error).
template <class Space, std::size_t K>
void write_pareto_csv(const std::filesystem::path& path, const std::vector<pareto_point<Space, K>>& points,
                      const std::array<std::string_view, K>& objective_names) {
  write_file_atomic(path, pareto_csv(points, objective_names));
}

/// An SVG scatter plot of objective 0 (x) against objective 1 (y): every point of `all` as a
/// light grey dot, `front` as a red line with markers (sorted by x), with a legend.
template <class Space, std::size_t K>
std::string pareto_svg(const std::vector<pareto_point<Space, K>>& all,
                       const std::vector<pareto_point<Space, K>>& front, std::string_view x_name,
                       std::string_view y_name, std::string_view title = "Pareto front") {
  static_assert(K >= 2, "hat::pareto_svg: plots objectives 0 and 1, so it needs at least 2 objectives");
  plot_series evaluated{{}, "evaluated (" + std::to_string(all.size()) + ")", "#c8c8c8", 2, false};
  for (const auto& p : all) evaluated.points.emplace_back(p.objectives[0], p.objectives[1]);
  plot_series line{{}, "Pareto front (" + std::to_string(front.size()) + ")", "#d62728", 3.5, true};
  for (const auto& p : front) line.points.emplace_back(p.objectives[0], p.objectives[1]);
  std::stable_sort(line.points.begin(), line.points.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  return svg_plot({evaluated, line}, {std::string(title), std::string(x_name), std::string(y_name), false});
}

/// Writes `pareto_svg(...)` to `path` atomically (throws config_error).
template <class Space, std::size_t K>
void write_pareto_svg(const std::filesystem::path& path, const std::vector<pareto_point<Space, K>>& all,
                      const std::vector<pareto_point<Space, K>>& front, std::string_view x_name,
                      std::string_view y_name, std::string_view title = "Pareto front") {
  write_file_atomic(path, pareto_svg(all, front, x_name, y_name, title));
}

}  // namespace hat
