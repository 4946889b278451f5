// SPDX-License-Identifier: MIT
// Pareto fronts: dominance, the non-dominated filter, and CSV / SVG output (atomic writes).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdio>  // snprintf
#include <filesystem>
#include <limits>
#include <numeric>  // iota
#include <string>
#include <string_view>
#include <vector>

#include <hat/io/atomic_file.hpp>
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
inline std::string xml_text(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}
inline std::string format_number(const char* f, double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}
// Axis of an SVG plot: data range [lo, hi] mapped onto pixels [p0, p1].
struct plot_axis {
  double lo, hi, p0, p1;
  double map(double v) const { return p0 + (v - lo) / (hi - lo) * (p1 - p0); }
  std::vector<double> ticks() const {  // about 5 at 1, 2 or 5 x 10^k
    const double raw = (hi - lo) / 4;
    if (!(raw > 0) || !std::isfinite(raw)) return {};
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    const double f = raw / mag, step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
    std::vector<double> t;
    for (double k = std::ceil(lo / step); k * step <= hi + step * 1e-9 && t.size() < 12; ++k) t.push_back(k * step + 0.0);  // + 0.0: no "-0" label
    return t;
  }
};
inline plot_axis make_axis(double lo, double hi, double p0, double p1) {
  if (!(lo <= hi)) lo = 0, hi = 1;  // no finite data
  const double pad = hi > lo ? 0.05 * (hi - lo) : (lo == 0 ? 1 : 0.05 * std::abs(lo));
  return {lo - pad, hi + pad, p0, p1};
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

/// A self-contained SVG scatter plot of objective 0 (x) against objective 1 (y): every point
/// of `all` as a light grey dot, `front` as a red line with markers, ~5 ticks per axis,
/// axis labels, a title and a legend. Non-finite values are left out.
template <class Space, std::size_t K>
std::string pareto_svg(const std::vector<pareto_point<Space, K>>& all,
                       const std::vector<pareto_point<Space, K>>& front, std::string_view x_name,
                       std::string_view y_name, std::string_view title = "Pareto front") {
  static_assert(K >= 2, "hat::pareto_svg: plots objectives 0 and 1, so it needs at least 2 objectives");
  constexpr double width = 640, height = 480, left = 90, right = 616, top = 48, bottom = 416;
  const auto finite = [](const auto& p) { return std::isfinite(p.objectives[0]) && std::isfinite(p.objectives[1]); };
  constexpr double inf = std::numeric_limits<double>::infinity();
  double x0 = inf, x1 = -inf, y0 = inf, y1 = -inf;
  for (const auto* set : {&all, &front})
    for (const auto& p : *set)
      if (finite(p)) {
        x0 = std::min(x0, p.objectives[0]), x1 = std::max(x1, p.objectives[0]);
        y0 = std::min(y0, p.objectives[1]), y1 = std::max(y1, p.objectives[1]);
      }
  const auto ax = detail::make_axis(x0, x1, left, right), ay = detail::make_axis(y0, y1, bottom, top);
  const auto px = [&](const auto& p) { return detail::format_number("%.1f", ax.map(p.objectives[0])); };
  const auto py = [&](const auto& p) { return detail::format_number("%.1f", ay.map(p.objectives[1])); };

  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"480\" viewBox=\"0 0 640 480\" "
                  "font-family=\"sans-serif\" font-size=\"12\">\n"
                  "<rect width=\"640\" height=\"480\" fill=\"white\"/>\n";
  s += "<text x=\"" + detail::format_number("%.0f", width / 2) + "\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">" +
       detail::xml_text(title) + "</text>\n";
  s += "<g stroke=\"#e6e6e6\">\n";  // grid, then ticks and their labels
  std::string labels;
  for (double t : ax.ticks()) {
    const auto x = detail::format_number("%.1f", ax.map(t));
    s += "<line x1=\"" + x + "\" y1=\"" + detail::format_number("%.0f", top) + "\" x2=\"" + x + "\" y2=\"" +
         detail::format_number("%.0f", bottom) + "\"/>\n";
    labels += "<text x=\"" + x + "\" y=\"" + detail::format_number("%.0f", bottom + 18) + "\" text-anchor=\"middle\">" +
              detail::format_number("%g", t) + "</text>\n";
  }
  for (double t : ay.ticks()) {
    const auto y = detail::format_number("%.1f", ay.map(t));
    s += "<line x1=\"" + detail::format_number("%.0f", left) + "\" y1=\"" + y + "\" x2=\"" + detail::format_number("%.0f", right) +
         "\" y2=\"" + y + "\"/>\n";
    labels += "<text x=\"" + detail::format_number("%.0f", left - 6) + "\" y=\"" + y +
              "\" text-anchor=\"end\" dominant-baseline=\"middle\">" + detail::format_number("%g", t) + "</text>\n";
  }
  s += "</g>\n" + labels;
  s += "<path d=\"M90 48 V416 H616\" stroke=\"black\" fill=\"none\"/>\n";
  s += "<text x=\"" + detail::format_number("%.0f", (left + right) / 2) + "\" y=\"" + detail::format_number("%.0f", height - 24) +
       "\" text-anchor=\"middle\">" + detail::xml_text(x_name) + "</text>\n";
  s += "<text transform=\"rotate(-90)\" x=\"" + detail::format_number("%.0f", -(top + bottom) / 2) +
       "\" y=\"20\" text-anchor=\"middle\">" + detail::xml_text(y_name) + "</text>\n";

  s += "<g fill=\"#c8c8c8\">\n";
  for (const auto& p : all)
    if (finite(p)) s += "<circle cx=\"" + px(p) + "\" cy=\"" + py(p) + "\" r=\"2\"/>\n";
  s += "</g>\n";
  std::vector<const pareto_point<Space, K>*> line;
  for (const auto& p : front)
    if (finite(p)) line.push_back(&p);
  std::stable_sort(line.begin(), line.end(),
                   [](const auto* a, const auto* b) { return a->objectives[0] < b->objectives[0]; });
  if (!line.empty()) {
    s += "<path d=\"";
    for (std::size_t i = 0; i < line.size(); ++i) s += (i ? " L" : "M") + px(*line[i]) + " " + py(*line[i]);
    s += "\" stroke=\"#d62728\" stroke-width=\"1.5\" fill=\"none\"/>\n<g fill=\"#d62728\">\n";
    for (const auto* p : line) s += "<circle cx=\"" + px(*p) + "\" cy=\"" + py(*p) + "\" r=\"3.5\"/>\n";
    s += "</g>\n";
  }
  s += "<g font-size=\"11\"><circle cx=\"470\" cy=\"62\" r=\"3\" fill=\"#c8c8c8\"/><text x=\"480\" y=\"66\">"
       "evaluated (" + std::to_string(all.size()) + ")</text>\n"
       "<circle cx=\"470\" cy=\"80\" r=\"3.5\" fill=\"#d62728\"/><text x=\"480\" y=\"84\">Pareto front (" +
       std::to_string(front.size()) + ")</text></g>\n";
  return s + "</svg>\n";
}

/// Writes `pareto_svg(...)` to `path` atomically (throws config_error).
template <class Space, std::size_t K>
void write_pareto_svg(const std::filesystem::path& path, const std::vector<pareto_point<Space, K>>& all,
                      const std::vector<pareto_point<Space, K>>& front, std::string_view x_name,
                      std::string_view y_name, std::string_view title = "Pareto front") {
  write_file_atomic(path, pareto_svg(all, front, x_name, y_name, title));
}

}  // namespace hat
