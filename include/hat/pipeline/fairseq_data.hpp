// SPDX-License-Identifier: MIT
// fairseq_data_for: a split of fairseq's binarized data (HAT's data/binary/... folders) checked
// against the model that will read it: dictionary sizes against its tables, sentences against its
// position table.
#pragma once

#include <cstddef>
#include <string>

#include <hat/config.hpp>
#include <hat/data/fairseq_binarized.hpp>
#include <hat/nn/super_transformer.hpp>

namespace hat {

/// A split whose sentences all fit the model; `dropped` counts the pairs longer than
/// `max_positions` (with </s>) on either side, left out as fairseq's
/// --skip-invalid-size-inputs-valid-test leaves them out.
struct fairseq_data {
  fairseq_split split;
  std::size_t dropped = 0;
};

/// read_fairseq_split, then the dictionaries must have as many symbols as `v`'s tables have rows
/// (another dictionary is an error naming it), and pairs longer than `max_positions` are dropped.
inline fairseq_data fairseq_data_for(const vocabulary_sizes& v, std::size_t max_positions, const std::string& dir,
                                     const std::string& split, const std::string& src, const std::string& tgt) {
  fairseq_data d{read_fairseq_split(dir, split, src, tgt), 0};
  const auto check = [](const fairseq_dictionary& dict, std::size_t rows, const char* table) {
    if (dict.size() != rows)
      throw config_error(dict.file() + ": " + std::to_string(dict.size()) + " symbols, but the model's " + table + " table has " +
                         std::to_string(rows) + " rows (another dictionary?)");
  };
  check(d.split.source_dict, v.source, "source");
  check(d.split.target_dict, v.target, "target");
  auto& c = d.split.corpus;
  parallel_corpus kept;
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (c.source[i].size() > max_positions || c.target[i].size() > max_positions) {
      ++d.dropped;
      continue;
    }
    kept.source.push_back(std::move(c.source[i]));
    kept.target.push_back(std::move(c.target[i]));
  }
  c = std::move(kept);
  if (c.size() == 0) throw config_error(dir + ": the " + split + " split holds no sentence the model can read");
  return d;
}

}  // namespace hat
