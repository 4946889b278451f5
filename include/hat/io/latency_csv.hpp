// SPDX-License-Identifier: MIT
// HAT's latency-dataset CSV (as its latency_dataset.py writes it): read with errors naming file, line
// and column; write in its format. A dataset measured at another precision than fp32 carries one
// more column, `precision`, the same name on every row.
#pragma once

#include <array>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <hat/backend/precision.hpp>
#include <hat/config.hpp>
#include <hat/io/atomic_file.hpp>
#include <hat/io/python_float.hpp>
#include <hat/io/read_file.hpp>
#include <hat/space/encode.hpp>

namespace hat {

/// The largest latency a CSV may hold (about 2.8 hours per sentence) and the largest magnitude of
/// an architecture value: anything beyond is a broken file, not a measurement.
inline constexpr double max_latency_ms = 1e7;
inline constexpr double max_feature_value = 1e9;

/// One measured architecture: HAT's 10 raw features, then the trimmed means and standard
/// deviations of encoder and decoder latency in ms, then any extra columns (per-layer values
/// that richer predictors may read; HAT's files have none).
struct latency_row {
  std::array<double, 10> features{};
  double encoder_ms = 0, decoder_ms = 0, encoder_std = 0, decoder_std = 0;
  std::vector<double> extra;

  double total_ms() const noexcept { return encoder_ms + decoder_ms; }
};

struct latency_table {
  std::vector<std::string> extra_columns;
  std::vector<latency_row> rows;
  /// The weights' precision every row was measured at (backend/precision.hpp). HAT's files and
  /// every fp32 dataset have no `precision` column (HAT's latency_dataset.py times in fp32); any
  /// other precision is written as a last column of text that HAT's readers, which take the
  /// first 14 columns by position, pass over.
  precision weights = precision::fp32;
};

/// The column that names a dataset's precision (text; every other column is a number).
inline constexpr std::string_view latency_precision_column = "precision";

inline constexpr std::array<std::string_view, 4> latency_columns{"latency_mean_encoder", "latency_mean_decoder",
                                                                  "latency_std_encoder", "latency_std_decoder"};

namespace detail {
inline std::vector<std::string_view> split_csv_line(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const auto comma = line.find(',', start);
    out.push_back(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}
}  // namespace detail

/// Reads a HAT latency CSV. The header must start with HAT's 14 columns; further columns are
/// kept as extras, but `precision` (latency_table::weights). Every other value must be a finite
/// number, latencies non-negative. Throws
/// config_error naming the file, the line and the column.
inline latency_table parse_latency_csv(std::string_view text, const std::string& file) {
  latency_table t;
  if (text.find('\0') != std::string_view::npos) throw config_error(file + ": not a CSV text file (NUL bytes)");
  std::size_t pos = 0, line_no = 0;
  std::vector<std::string> columns;
  std::size_t precision_at = 0;       // the precision column's index (0: none, fp32)
  std::size_t precision_line = 0;     // the first row's line, which set t.weights
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string at = file + ":" + std::to_string(line_no);
    if (line_no == 1) {
      for (auto c : detail::split_csv_line(line)) {
        for (char ch : c)
          if (static_cast<unsigned char>(ch) < 0x20)  // a name a writer could not give back as read
            throw config_error(at + ": column " + std::to_string(columns.size() + 1) + ": a control character in its name");
        columns.emplace_back(c);
      }
      for (std::size_t i = 0; i < 14; ++i) {
        const std::string_view want = i < 10 ? hat_feature_names[i] : latency_columns[i - 10];
        if (i >= columns.size() || columns[i] != want)
          throw config_error(at + ": not a HAT latency CSV: column " + std::to_string(i + 1) + " must be '" +
                             std::string(want) + "', found '" + (i < columns.size() ? columns[i] : "") + "'");
      }
      for (std::size_t i = 14; i < columns.size(); ++i) {
        if (columns[i] != latency_precision_column) t.extra_columns.push_back(columns[i]);
        else if (precision_at != 0) throw config_error(at + ": column '" + columns[i] + "' appears twice");
        else precision_at = i;
      }
      continue;
    }
    if (line.empty()) continue;
    const auto fields = detail::split_csv_line(line);
    if (fields.size() != columns.size())
      throw config_error(at + ": expected " + std::to_string(columns.size()) + " values, found " +
                         std::to_string(fields.size()));
    latency_row row;
    row.extra.resize(t.extra_columns.size());
    for (std::size_t i = 0, extra = 0; i < fields.size(); ++i) {
      double v = 0;
      const auto f = fields[i];
      if (precision_at != 0 && i == precision_at) {
        const precision p = parse_precision(f, at + ": column '" + columns[i] + "'");
        if (precision_line == 0) t.weights = p, precision_line = line_no;
        else if (p != t.weights)
          throw config_error(at + ": column '" + columns[i] + "': " + std::string(f) + ", but line " +
                             std::to_string(precision_line) + " says " + std::string(precision_name(t.weights)) +
                             " (a dataset holds one precision)");
        continue;
      }
      const auto [p, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
      if (ec != std::errc{} || p != f.data() + f.size() || f.empty() || !std::isfinite(v))
        throw config_error(at + ": column '" + columns[i] + "': expected a number, found '" + std::string(f) + "'");
      if (i >= 10 && i < 14 && v < 0)
        throw config_error(at + ": column '" + columns[i] + "': a latency cannot be negative (" + std::string(f) + ")");
      // Values a measurement can have: a larger one is a broken file, and would train a
      // predictor to numbers that are not finite.
      if (i >= 10 && i < 14 && v > max_latency_ms)
        throw config_error(at + ": column '" + columns[i] + "': " + std::string(f) + " ms is not a latency (at most " +
                           std::to_string(static_cast<long long>(max_latency_ms)) + " ms)");
      if ((i < 10 || i >= 14) && std::abs(v) > max_feature_value)
        throw config_error(at + ": column '" + columns[i] + "': " + std::string(f) + " is not an architecture's value (at most " +
                           std::to_string(static_cast<long long>(max_feature_value)) + " in size)");
      if (i < 10) row.features[i] = v;
      else if (i == 10) row.encoder_ms = v;
      else if (i == 11) row.decoder_ms = v;
      else if (i == 12) row.encoder_std = v;
      else if (i == 13) row.decoder_std = v;
      else row.extra[extra++] = v;
    }
    if (!(row.total_ms() > 0))
      throw config_error(at + ": the mean latencies add up to 0 ms: not a measurement (a relative error needs a positive latency)");
    t.rows.push_back(std::move(row));
  }
  if (line_no == 0) throw config_error(file + ": the file is empty (expected HAT's latency CSV header)");
  if (t.rows.empty()) throw config_error(file + ": no data rows after the header");
  return t;
}

inline latency_table read_latency_csv(const std::filesystem::path& path) {
  return parse_latency_csv(read_file(path), path.string());
}

/// The CSV text, as HAT's script writes it: layer counts and embedding widths as integers,
/// every other value as Python's repr() of a float.
inline std::string to_latency_csv(const latency_table& t) {
  std::string out;
  for (auto n : hat_feature_names) out.append(n).append(",");
  for (auto n : latency_columns) out.append(n).append(",");
  for (const auto& n : t.extra_columns) out.append(n).append(",");
  const bool fp32 = t.weights == precision::fp32;  // HAT's format exactly
  if (!fp32) out.append(latency_precision_column).append(",");
  out.back() = '\n';
  for (const auto& r : t.rows) {
    for (std::size_t i = 0; i < 10; ++i) {
      const bool integral = i == 0 || i == 1 || i == 4 || i == 5;
      out += integral ? std::to_string(static_cast<long long>(std::llround(r.features[i]))) : python_repr(r.features[i]);
      out += ',';
    }
    for (double v : {r.encoder_ms, r.decoder_ms, r.encoder_std, r.decoder_std}) out += python_repr(v) + ",";
    for (double v : r.extra) out += python_repr(v) + ",";
    if (!fp32) out.append(precision_name(t.weights)).append(",");
    out.back() = '\n';
  }
  return out;
}

inline void write_latency_csv(const latency_table& t, const std::filesystem::path& path) {
  write_file_atomic(path, to_latency_csv(t));
}

}  // namespace hat
