// SPDX-License-Identifier: MIT
// load_corpus: a split of a parallel corpus folder (<prefix>.<lang>[.gz]) read, encoded to subwords and length-filtered.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include <hat/config.hpp>
#include <hat/data/parallel_corpus.hpp>
#include <hat/data/subword_model.hpp>
#include <hat/data/text_reader.hpp>
#include <hat/data/token_batch.hpp>

namespace hat {

/// Where a corpus lives: files <dir>/<split>.<lang>, plain or with .gz (Multi30k's layout:
/// train, val, test_2016_flickr).
struct corpus_location {
  std::string dir;
  std::string source_lang = "de", target_lang = "en";

  /// The file of `split` in `lang`: the plain file if present, else the .gz one; throws
  /// config_error naming both candidates when neither exists.
  std::string file(const std::string& split, const std::string& lang) const {
    const std::filesystem::path base = std::filesystem::path(dir) / (split + "." + lang);
    if (std::filesystem::exists(base)) return base.string();
    if (std::filesystem::exists(base.string() + ".gz")) return base.string() + ".gz";
    throw config_error("corpus: neither " + base.string() + " nor " + base.string() + ".gz exists");
  }
};

/// What load_corpus kept and dropped.
struct corpus_stats {
  std::size_t lines = 0, kept = 0, too_long = 0, empty = 0;
};

/// Reads split `split` of both languages, encodes each line with `subwords`, appends </s>, and
/// drops pairs with an empty side or a side longer than max_positions tokens (fairseq's
/// filter_by_size; the model's position table bounds it). Throws config_error when the two
/// files have different line counts or no pair is left.
inline parallel_corpus load_corpus(const corpus_location& at, const std::string& split, const subword_model& subwords,
                                   std::size_t max_positions, corpus_stats* stats = nullptr) {
  const std::string src_file = at.file(split, at.source_lang), tgt_file = at.file(split, at.target_lang);
  const std::vector<std::string> src = read_lines(src_file), tgt = read_lines(tgt_file);
  if (src.size() != tgt.size())
    throw config_error("corpus: " + src_file + " has " + std::to_string(src.size()) + " lines but " + tgt_file + " has " +
                       std::to_string(tgt.size()));
  parallel_corpus c;
  corpus_stats s;
  s.lines = src.size();
  for (std::size_t i = 0; i < src.size(); ++i) {
    std::vector<int> a = subwords.encode(src[i]), b = subwords.encode(tgt[i]);
    if (a.empty() || b.empty()) {
      ++s.empty;
      continue;
    }
    a.push_back(special_tokens::eos);
    b.push_back(special_tokens::eos);
    if (a.size() > max_positions || b.size() > max_positions) {
      ++s.too_long;
      continue;
    }
    c.source.push_back(std::move(a));
    c.target.push_back(std::move(b));
  }
  s.kept = c.size();
  if (stats) *stats = s;
  // Nothing to learn from or score on: an empty validation split would report a perfect loss.
  if (c.size() == 0)
    throw config_error("corpus: " + src_file + " and " + tgt_file + ": no sentence pair left (" + std::to_string(s.lines) +
                       " lines: " + std::to_string(s.empty) + " with an empty side, " + std::to_string(s.too_long) +
                       " longer than " + std::to_string(max_positions) + " subwords)");
  return c;
}

}  // namespace hat
