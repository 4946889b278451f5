// SPDX-License-Identifier: MIT
// fairseq_data_for: a split of fairseq's binarized data (HAT's data/binary/... folders) checked
// against the model that will read it: dictionary sizes against its tables, sentences against its
// position table; fairseq_text_for: the same folder's dictionaries (and BPE codes) as the text
// front end of such a model.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>

#include <hat/config.hpp>
#include <hat/data/fairseq_binarized.hpp>
#include <hat/data/fairseq_text.hpp>
#include <hat/io/checksum.hpp>
#include <hat/nn/checkpoint.hpp>
#include <hat/nn/super_transformer.hpp>

namespace hat {

/// A split whose sentences all fit the model; `dropped` counts the pairs longer than
/// `max_positions` (with </s>) on either side, left out as fairseq's
/// --skip-invalid-size-inputs-valid-test leaves them out.
struct fairseq_data {
  fairseq_split split;
  std::size_t dropped = 0;
};

/// Records in a checkpoint's state the hashes of the dictionaries its tables are indexed by.
inline void record_fairseq_dictionaries(checkpoint_extras& x, const fairseq_dictionary& source, const fairseq_dictionary& target) {
  x.values.emplace_back("source_dict_fnv1a", file_hash(source.file()));
  x.values.emplace_back("target_dict_fnv1a", file_hash(target.file()));
}

/// Throws config_error when a dictionary is not the one the state `x` of `checkpoint` records
/// (other bytes: another run's, even of the same size). States without hashes (imported from a
/// .pt, which does not name its dictionaries) pass.
inline void check_fairseq_dictionaries(const checkpoint_extras& x, const std::string& checkpoint, const fairseq_dictionary& source,
                                       const fairseq_dictionary& target) {
  for (const auto& [key, dict] : {std::pair{"source_dict_fnv1a", &source}, std::pair{"target_dict_fnv1a", &target}})
    if (const std::string* h = x.value(key); h && *h != file_hash(dict->file()))
      throw config_error(dict->file() + ": not the dictionary " + checkpoint + " was trained with (its bytes differ)");
}

/// The dictionaries must have as many symbols as `v`'s tables have rows: another dictionary is an
/// error naming it.
inline void check_fairseq_dictionaries(const vocabulary_sizes& v, const fairseq_dictionary& source, const fairseq_dictionary& target) {
  const auto check = [](const fairseq_dictionary& dict, std::size_t rows, const char* table) {
    if (dict.size() != rows)
      throw config_error(dict.file() + ": " + std::to_string(dict.size()) + " symbols, but the model's " + table + " table has " +
                         std::to_string(rows) + " rows (another dictionary?)");
  };
  check(source, v.source, "source");
  check(target, v.target, "target");
}

/// read_fairseq_split, then the dictionaries are checked against `v` (and against the hashes
/// `recorded`, the state of `checkpoint`, holds, when given) and pairs longer than
/// `max_positions` are dropped.
inline fairseq_data fairseq_data_for(const vocabulary_sizes& v, std::size_t max_positions, const std::string& dir,
                                     const std::string& split, const std::string& src, const std::string& tgt,
                                     const checkpoint_extras* recorded = nullptr, const std::string& checkpoint = {}) {
  fairseq_data d{read_fairseq_split(dir, split, src, tgt), 0};
  check_fairseq_dictionaries(v, d.split.source_dict, d.split.target_dict);
  if (recorded) check_fairseq_dictionaries(*recorded, checkpoint, d.split.source_dict, d.split.target_dict);
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

/// The validation split `split` for a model with vocabulary `v` and `positions` positions
/// (fairseq_data_for); the pairs left out are counted on `progress` (null: quiet) by `who`.
inline parallel_corpus fairseq_valid_split(const vocabulary_sizes& v, std::size_t positions, const std::string& dir,
                                           const std::string& split, const std::string& src, const std::string& tgt,
                                           std::ostream* progress, const std::string& who,
                                           const checkpoint_extras* recorded = nullptr, const std::string& checkpoint = {}) {
  auto d = fairseq_data_for(v, positions, dir, split, src, tgt, recorded, checkpoint);
  if (d.dropped && progress)
    *progress << who << ": " << d.dropped << " " << split << " pairs longer than " << positions
              << " tokens left out (fairseq's --skip-invalid-size-inputs-valid-test)\n";
  return std::move(d.split.corpus);
}

/// The text front end of a model with vocabulary `v`: `dir`'s dict.<src>.txt and dict.<tgt>.txt
/// (checked against `v`) and, unless `bpe_codes` is empty, subword-nmt's codes.
inline fairseq_text fairseq_text_for(const vocabulary_sizes& v, const std::filesystem::path& dir, const std::string& src,
                                     const std::string& tgt, const std::string& bpe_codes, const std::string& remove_bpe,
                                     const checkpoint_extras* recorded = nullptr, const std::string& checkpoint = {}) {
  fairseq_text t{fairseq_dictionary::read(dir / ("dict." + src + ".txt")), fairseq_dictionary::read(dir / ("dict." + tgt + ".txt")),
                 std::nullopt, remove_bpe};
  check_fairseq_dictionaries(v, t.source, t.target);
  if (recorded) check_fairseq_dictionaries(*recorded, checkpoint, t.source, t.target);
  if (!bpe_codes.empty()) t.bpe = subword_nmt_bpe::read(bpe_codes);
  return t;
}

}  // namespace hat
