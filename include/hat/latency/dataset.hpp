// SPDX-License-Identifier: MIT
// Rows of a latency dataset (as in HAT's latency_dataset/*_all.csv): HAT's 10 features and the
// measured encoder and decoder latency, plus every gene's raw value as extra columns (inactive
// layers 0), which a predictor for a space HAT's features do not describe well can read instead.
#pragma once

#include <string>
#include <vector>

#include <hat/io/latency_csv.hpp>
#include <hat/latency/measure.hpp>
#include <hat/space/arch.hpp>
#include <hat/space/encode.hpp>

namespace hat {

/// Extra column names: `gene.<name>` for a global dimension, `gene.<name>.<layer>` (from 1) per layer.
template <transformer_space S>
std::vector<std::string> latency_gene_columns() {
  std::vector<std::string> names;
  for (const auto& d : S::dims) {
    if (d.layers == 1 && !d.per_layer) names.push_back("gene." + std::string(d.name));
    else
      for (std::size_t l = 0; l < d.layers; ++l) names.push_back("gene." + std::string(d.name) + "." + std::to_string(l + 1));
  }
  return names;
}

template <transformer_space S>
latency_row latency_dataset_row(const arch<S>& a, const latency_result& r) {
  latency_row row;
  row.features = hat_features(a);
  row.encoder_ms = r.encoder.mean_ms;
  row.decoder_ms = r.decoder.mean_ms;
  row.encoder_std = r.encoder.std_ms;
  row.decoder_std = r.decoder.std_ms;
  row.extra.assign(S::gene_count, 0.0);
  for (std::size_t i = 0; i < S::dim_count; ++i) {
    const auto& d = S::dims[i];
    for (std::size_t l = 0, n = a.active_layers(i); l < n; ++l) row.extra[d.first_gene + l] = a.value(i, l);
  }
  return row;
}

}  // namespace hat
