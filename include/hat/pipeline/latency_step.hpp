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
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <hat/backend/concepts.hpp>
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

/// Samples in.samples architectures of S with rng(seed), times each on `be` with HAT's
/// protocol on a SuperTransformer with random weights (latency does not depend on them; HAT's
/// latency_dataset.py loads none either), and writes HAT's CSV plus every gene as an extra
/// column, atomically once a second and at the end. A file already there must hold the rows this
/// seed samples (else a config_error, the file untouched): its rows are kept, the rest measured.
template <transformer_space S, backend_policy Backend>
latency_dataset_outputs measure_latency_dataset(Backend& be, const latency_dataset_inputs& in) {
  const std::string out = in.out.string();
  if (in.samples == 0) throw config_error(out + ": a latency dataset needs at least one sample");
  super_transformer_for<S, Backend> super(be, {in.vocab, in.vocab, in.shared_embeddings ? embedding_sharing::all : embedding_sharing::none});
  super.init_hat(be, in.seed);
  rng g(in.seed);
  std::vector<arch<S>> archs;
  for (std::size_t i = 0; i < in.samples; ++i) archs.push_back(arch<S>::sample(g));

  latency_dataset_outputs result;
  latency_table& table = result.table;
  table.extra_columns = latency_gene_columns<S>();
  if (std::filesystem::exists(in.out)) {
    auto done = read_latency_csv(in.out);
    if (done.extra_columns != table.extra_columns)
      throw config_error(out + ": its columns are not those of this space's dataset (another --space or --task?)");
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
  latency_options lo = in.protocol;
  lo.trim = trim_rule::dataset;
  const auto start = std::chrono::steady_clock::now();
  auto last_write = start, last_print = start;
  const std::size_t first = table.rows.size();
  for (std::size_t i = first; i < in.samples; ++i) {
    const auto r = measure_latency(be, super, config_of(archs[i]), lo);
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
/// weights and every embedding shared, timed as measure_latency_dataset times its rows (the
/// pipeline's last step: measured against predicted latency).
template <transformer_space S, backend_policy Backend>
std::vector<double> measure_totals(Backend& be, std::span<const transformer_config> configs, std::size_t vocab,
                                   std::uint64_t seed, const latency_options& lo) {
  super_transformer_for<S, Backend> model(be, {vocab, vocab, embedding_sharing::all});
  model.init_hat(be, seed);
  std::vector<double> ms;
  for (const auto& c : configs) ms.push_back(measure_latency(be, model, c, lo).total_ms());
  return ms;
}

}  // namespace hat
