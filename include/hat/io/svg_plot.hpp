// SPDX-License-Identifier: MIT
// svg_plot: a self-contained SVG chart of point and line series (Pareto fronts, predictor fits, loss curves).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hat {

/// One series: points drawn as dots (radius > 0) and/or joined by a line, in one colour.
struct plot_series {
  std::vector<std::pair<double, double>> points;  // (x, y); non-finite points are left out
  std::string label;                               // legend text; empty: no legend entry
  std::string color = "#1f77b4";
  double radius = 2.5;
  bool line = false;
};

struct plot_options {
  std::string title;
  std::string x_label;
  std::string y_label;
  bool diagonal = false;  // draw y = x (predicted against measured)
  bool legend_low = false;  // legend in the lower right corner (for series that rise to the upper right)
};

namespace detail {
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
// Axis of a plot: data range [lo, hi] mapped onto pixels [p0, p1].
struct plot_axis {
  double lo, hi, p0, p1;
  double map(double v) const { return p0 + (v - lo) / (hi - lo) * (p1 - p0); }
  std::vector<double> ticks() const {  // about 5 at 1, 2 or 5 x 10^k
    const double raw = (hi - lo) / 4;
    if (!(raw > 0) || !std::isfinite(raw)) return {};
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    const double f = raw / mag, step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
    std::vector<double> t;
    for (double k = std::ceil(lo / step); k * step <= hi + step * 1e-9 && t.size() < 12; ++k)
      t.push_back(k * step + 0.0);  // + 0.0: no "-0" label
    return t;
  }
};
inline plot_axis make_axis(double lo, double hi, double p0, double p1) {
  if (!(lo <= hi)) lo = 0, hi = 1;  // no finite data
  const double pad = hi > lo ? 0.05 * (hi - lo) : (lo == 0 ? 1 : 0.05 * std::abs(lo));
  return {lo - pad, hi + pad, p0, p1};
}
}  // namespace detail

/// A 640 x 480 SVG: grid with ~5 ticks per axis, axis labels, title, legend, then the series
/// in order (later ones on top).
inline std::string svg_plot(const std::vector<plot_series>& series, const plot_options& o) {
  constexpr double left = 90, right = 616, top = 48, bottom = 416;
  const auto finite = [](const std::pair<double, double>& p) { return std::isfinite(p.first) && std::isfinite(p.second); };
  constexpr double inf = std::numeric_limits<double>::infinity();
  double x0 = inf, x1 = -inf, y0 = inf, y1 = -inf;
  for (const auto& s : series)
    for (const auto& p : s.points)
      if (finite(p)) x0 = std::min(x0, p.first), x1 = std::max(x1, p.first), y0 = std::min(y0, p.second), y1 = std::max(y1, p.second);
  if (o.diagonal) x0 = y0 = std::min(x0, y0), x1 = y1 = std::max(x1, y1);
  const auto ax = detail::make_axis(x0, x1, left, right), ay = detail::make_axis(y0, y1, bottom, top);
  const auto fx = [&](double v) { return detail::format_number("%.1f", ax.map(v)); };
  const auto fy = [&](double v) { return detail::format_number("%.1f", ay.map(v)); };

  std::string s =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"480\" viewBox=\"0 0 640 480\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"640\" height=\"480\" fill=\"white\"/>\n";
  s += "<text x=\"320\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">" + detail::xml_text(o.title) + "</text>\n";
  s += "<g stroke=\"#e6e6e6\">\n";  // grid, then tick labels
  std::string labels;
  for (double t : ax.ticks()) {
    s += "<line x1=\"" + fx(t) + "\" y1=\"48\" x2=\"" + fx(t) + "\" y2=\"416\"/>\n";
    labels += "<text x=\"" + fx(t) + "\" y=\"434\" text-anchor=\"middle\">" + detail::format_number("%g", t) + "</text>\n";
  }
  for (double t : ay.ticks()) {
    s += "<line x1=\"90\" y1=\"" + fy(t) + "\" x2=\"616\" y2=\"" + fy(t) + "\"/>\n";
    labels += "<text x=\"84\" y=\"" + fy(t) + "\" text-anchor=\"end\" dominant-baseline=\"middle\">" +
              detail::format_number("%g", t) + "</text>\n";
  }
  s += "</g>\n" + labels;
  s += "<path d=\"M90 48 V416 H616\" stroke=\"black\" fill=\"none\"/>\n";
  s += "<text x=\"353\" y=\"456\" text-anchor=\"middle\">" + detail::xml_text(o.x_label) + "</text>\n";
  s += "<text transform=\"rotate(-90)\" x=\"-232\" y=\"20\" text-anchor=\"middle\">" + detail::xml_text(o.y_label) +
       "</text>\n";
  if (o.diagonal)
    s += "<path d=\"M" + fx(ax.lo) + " " + fy(ax.lo) + " L" + fx(ax.hi) + " " + fy(ax.hi) +
         "\" stroke=\"#888\" stroke-dasharray=\"4 3\" fill=\"none\"/>\n";
  const auto labelled = std::count_if(series.begin(), series.end(), [](const plot_series& x) { return !x.label.empty(); });
  double legend_y = o.legend_low ? 418 - 18.0 * static_cast<double>(labelled) : 62;
  std::string legend;
  for (const auto& ser : series) {
    std::vector<std::pair<double, double>> pts;
    for (const auto& p : ser.points)
      if (finite(p)) pts.push_back(p);
    if (ser.line && !pts.empty()) {
      s += "<path d=\"";
      for (std::size_t i = 0; i < pts.size(); ++i) s += (i ? " L" : "M") + fx(pts[i].first) + " " + fy(pts[i].second);
      s += "\" stroke=\"" + ser.color + "\" stroke-width=\"1.5\" fill=\"none\"/>\n";
    }
    if (ser.radius > 0) {
      s += "<g fill=\"" + ser.color + "\">\n";
      const auto r = detail::format_number("%g", ser.radius);
      for (const auto& p : pts) s += "<circle cx=\"" + fx(p.first) + "\" cy=\"" + fy(p.second) + "\" r=\"" + r + "\"/>\n";
      s += "</g>\n";
    }
    if (!ser.label.empty()) {
      legend += "<circle cx=\"470\" cy=\"" + detail::format_number("%.0f", legend_y) + "\" r=\"3.5\" fill=\"" + ser.color +
                "\"/><text x=\"480\" y=\"" + detail::format_number("%.0f", legend_y + 4) + "\">" +
                detail::xml_text(ser.label) + "</text>\n";
      legend_y += 18;
    }
  }
  if (!legend.empty()) s += "<g font-size=\"11\">\n" + legend + "</g>\n";
  return s + "</svg>\n";
}

}  // namespace hat
