// SPDX-License-Identifier: MIT
// latency_step: the pipeline's latency dataset (HAT's latency_dataset.py on this device: sampled
// SubTransformers timed with HAT's protocol, written as HAT's CSV), resumable row by row.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <hat/backend/concepts.hpp>
#include <hat/backend/precision.hpp>
#include <hat/config.hpp>
#include <hat/io/latency_csv.hpp>
#include <hat/latency/dataset.hpp>
#include <hat/latency/measure.hpp>
#include <hat/nn/super_transformer.hpp>
#include <hat/space/random.hpp>
#include <hat/space/space.hpp>

namespace hat {

struct latency_dataset_inputs {
  std::filesystem::path out;     // the CSV; a partial one of the same seed is checked and continued
  std::size_t samples = 2000;    // architectures
  std::size_t vocab = 8000;      // vocabulary of the random-weight SuperTransformer
  bool shared_embeddings = true;  // one table (HAT's WMT tasks), else separate ones (IWSLT)
  latency_options protocol;      // source length, beam, timed and warm-up runs (trim: the dataset's)
  std::uint64_t seed = 1;        // sampling and weights
  precision weights = precision::fp32;  // converted once before any clock starts; recorded in the CSV
  std::FILE* progress = stderr;  // a line a second at most (null: quiet)
};

/// Latencies measured on some device, and that device in words.
struct measured_latencies {
  std::vector<double> ms;
  std::string device;
};

struct latency_dataset_outputs {
  latency_table table;
  std::size_t measured_now = 0;  // rows this call measured (the rest were in the file)
  double slowest_ms = 0, fastest_ms = 0, mean_ms = 0;
};

/// The architectures a latency dataset of `samples` rows and `seed` holds, in its order.
template <transformer_space S>
std::vector<arch<S>> latency_dataset_archs(std::size_t samples, std::uint64_t seed) {
  rng g(seed);
  std::vector<arch<S>> archs;
  for (std::size_t i = 0; i < samples; ++i) archs.push_back(arch<S>::sample(g));
  return archs;
}

/// Rows of a latency table to re-measure later (the pipeline's drift check): `count` rows spread
/// evenly over the range of recorded total latency, slowest and fastest included; their indices.
inline std::vector<std::size_t> latency_check_rows(const latency_table& t, std::size_t count) {
  std::vector<std::size_t> order(t.rows.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return t.rows[a].total_ms() < t.rows[b].total_ms(); });
  count = std::min(count, order.size());
  std::vector<std::size_t> out;
  for (std::size_t k = 0; k < count; ++k)
    out.push_back(order[count == 1 ? 0 : k * (order.size() - 1) / (count - 1)]);
  return out;
}

/// Samples in.samples architectures of S with rng(seed), times each on `be` with HAT's
/// protocol on a SuperTransformer with random weights (latency does not depend on them; HAT's
/// latency_dataset.py loads none either), and writes HAT's CSV plus every gene as an extra
/// column, atomically once a second and at the end. A file already there must hold the rows this
/// seed samples, measured at in.weights (else a config_error, the file untouched): its rows are
/// kept, the rest measured.
template <transformer_space S, backend_policy Backend>
latency_dataset_outputs measure_latency_dataset(Backend& be, const latency_dataset_inputs& in) {
  const std::string out = in.out.string();
  if (in.samples == 0) throw config_error(out + ": a latency dataset needs at least one sample");
  super_transformer_for<S, Backend> super(be, {in.vocab, in.vocab, in.shared_embeddings ? embedding_sharing::all : embedding_sharing::none});
  super.init_hat(be, in.seed);
  const auto archs = latency_dataset_archs<S>(in.samples, in.seed);

  latency_dataset_outputs result;
  latency_table& table = result.table;
  table.extra_columns = latency_gene_columns<S>();
  table.weights = in.weights;
  if (std::filesystem::exists(in.out)) {
    auto done = read_latency_csv(in.out);
    if (done.extra_columns != table.extra_columns)
      throw config_error(out + ": its columns are not those of this space's dataset (another --space or --task?)");
    if (done.weights != in.weights)
      throw config_error(out + ": measured at precision " + std::string(precision_name(done.weights)) + ", this run measures " +
                         std::string(precision_name(in.weights)) + " (a dataset holds one precision: another precision or file); nothing was changed");
    if (done.rows.size() > in.samples)
      throw config_error(out + ": has " + std::to_string(done.rows.size()) + " rows, more than --samples " +
                         std::to_string(in.samples));
    for (std::size_t i = 0; i < done.rows.size(); ++i) {
      const auto expected = latency_dataset_row(archs[i], {});
      if (done.rows[i].features != expected.features || done.rows[i].extra != expected.extra)
        throw config_error(out + ":" + std::to_string(i + 2) + ": not the architecture that --seed " + std::to_string(in.seed) +
                           " samples there (another seed or space?); nothing was changed");
    }
    table = std::move(done);
    if (in.progress && !table.rows.empty())
      std::fprintf(in.progress, "hat latency-dataset: %s has %zu of %zu rows; measuring the rest\n", out.c_str(),
                   table.rows.size(), in.samples);
  }
  const std::size_t first = table.rows.size();
  // The weights timed are converted once, before any clock starts (bf16, int8); fp32 runs on
  // be, and a complete file converts nothing.
  const auto converted = first < in.samples ? backend_at(be, super, in.weights) : nullptr;
  Backend& run = converted ? *converted : be;
  latency_options lo = in.protocol;
  lo.trim = trim_rule::dataset;
  const auto start = std::chrono::steady_clock::now();
  auto last_write = start, last_print = start;
  for (std::size_t i = first; i < in.samples; ++i) {
    const auto r = measure_latency(run, super, config_of(archs[i]), lo);
    table.rows.push_back(latency_dataset_row(archs[i], r));
    const auto now = std::chrono::steady_clock::now();
    // Rewriting the file after every row would cost O(rows^2): once a second, and at the end.
    if (i + 1 == in.samples || now - last_write > std::chrono::seconds(1)) {
      write_latency_csv(table, in.out);
      last_write = now;
    }
    if (in.progress && (i + 1 == in.samples || now - last_print > std::chrono::seconds(1))) {  // a line a second at most
      last_print = now;
      const double s = std::chrono::duration<double>(now - start).count(), per = s / static_cast<double>(i + 1 - first);
      std::fprintf(in.progress, "\rhat latency-dataset: %zu/%zu rows, %.2f s/row, ETA %.0f s, last %.2f ms   ", i + 1,
                   in.samples, per, per * static_cast<double>(in.samples - i - 1), r.total_ms());
      if (i + 1 == in.samples) std::fprintf(in.progress, "\n");
    }
  }
  // Further passes over the rows measured now, written once at the end (an interrupted pass
  // leaves the rows of the passes before it).
  for (std::size_t pass = 2; pass <= lo.passes && first < in.samples; ++pass) {
    const std::size_t count = in.samples - first;
    for (std::size_t j = 0; j < count; ++j) {
      const std::size_t i = pass % 2 == 0 ? in.samples - 1 - j : first + j;
      auto row = latency_dataset_row(archs[i], measure_latency(run, super, config_of(archs[i]), lo));
      if (row.total_ms() < table.rows[i].total_ms()) table.rows[i] = std::move(row);
      const auto now = std::chrono::steady_clock::now();
      if (in.progress && (j + 1 == count || now - last_print > std::chrono::seconds(1))) {
        last_print = now;
        std::fprintf(in.progress, "\rhat latency-dataset: pass %zu/%zu, %zu/%zu rows   ", pass, lo.passes, j + 1, count);
        if (j + 1 == count) std::fprintf(in.progress, "\n");
      }
    }
    write_latency_csv(table, in.out);
  }
  if (table.rows.size() == first) write_latency_csv(table, in.out);  // nothing new: still a complete file
  result.measured_now = table.rows.size() - first;
  double sum = 0;
  result.fastest_ms = table.rows.empty() ? 0 : 1e300;
  for (const auto& r : table.rows) {
    result.fastest_ms = std::min(result.fastest_ms, r.total_ms());
    result.slowest_ms = std::max(result.slowest_ms, r.total_ms());
    sum += r.total_ms();
  }
  result.mean_ms = table.rows.empty() ? 0 : sum / static_cast<double>(table.rows.size());
  return result;
}

/// The total latency (ms) of each SubTransformer of space S, on a SuperTransformer with random
/// weights and every embedding shared, timed as measure_latency_dataset times its rows, passes
/// included, at the weights' precision `weights` (the pipeline's last step: measured against
/// predicted latency).
template <transformer_space S, backend_policy Backend>
std::vector<double> measure_totals(Backend& be, std::span<const transformer_config> configs, std::size_t vocab,
                                   std::uint64_t seed, const latency_options& lo, precision weights = precision::fp32) {
  super_transformer_for<S, Backend> model(be, {vocab, vocab, embedding_sharing::all});
  model.init_hat(be, seed);
  std::vector<double> ms(configs.size(), std::numeric_limits<double>::infinity());
  const auto converted = backend_at(be, model, weights);
  Backend& run = converted ? *converted : be;
  for (std::size_t pass = 1; pass <= std::max<std::size_t>(1, lo.passes); ++pass)
    for (std::size_t j = 0; j < configs.size(); ++j) {
      const std::size_t i = pass % 2 == 0 ? configs.size() - 1 - j : j;
      ms[i] = std::min(ms[i], measure_latency(run, model, configs[i], lo).total_ms());
    }
  return ms;
}

}  // namespace hat
