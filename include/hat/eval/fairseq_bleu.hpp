// SPDX-License-Identifier: MIT
// Tokenized BLEU as HAT's `normal` test mode computes it: compound splitting (a-b becomes
// a ##AT##-##AT## b), then fairseq's BLEU scorer on whitespace tokens, case-sensitive, BLEU-4,
// one reference, no smoothing. Its quirks are kept: words are numbered with fairseq's
// dictionary (so a literal <unk> never matches and <pad> / </s> are trimmed as those symbols),
// and an empty line counts one token (the end-of-sentence marker the scorer cannot trim).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <hat/config.hpp>
#include <hat/eval/unicode.hpp>

namespace hat {

/// Moses' compound splitting, perl `s{(\S)-(\S)}{$1 ##AT##-##AT## $2}g` on bytes: matches do
/// not overlap, so "a-b-c" becomes "a ##AT##-##AT## b-c", as in the perl one-liner.
inline std::string split_compounds(std::string_view line) {
  const auto ascii_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  std::string out;
  out.reserve(line.size() + 16);
  for (std::size_t i = 0; i < line.size();) {
    if (i + 2 < line.size() && !ascii_space(line[i]) && line[i + 1] == '-' && !ascii_space(line[i + 2])) {
      out += line[i];
      out += " ##AT##-##AT## ";
      out += line[i + 2];
      i += 3;
    } else {
      out += line[i++];
    }
  }
  return out;
}

struct fairseq_bleu_result {
  double score = 0;                       // BLEU-4 x 100
  std::array<std::size_t, 4> matches{}, counts{};
  std::array<double, 4> precisions{};     // fractions, as fairseq's precision()
  double bp = 0;
  std::size_t sys_len = 0, ref_len = 0;

  /// fairseq's result_string: `BLEU4 = 27.30, 58.9/33.2/20.9/13.5 (BP=1.000, ratio=1.012, syslen=..., reflen=...)`.
  std::string formatted() const {
    char buf[200];
    std::snprintf(buf, sizeof buf, "BLEU4 = %2.2f, %2.1f/%2.1f/%2.1f/%2.1f (BP=%.3f, ratio=%.3f, syslen=%zu, reflen=%zu)", score,
                  100 * precisions[0], 100 * precisions[1], 100 * precisions[2], 100 * precisions[3], bp,
                  ref_len ? static_cast<double>(sys_len) / static_cast<double>(ref_len) : 0.0, sys_len, ref_len);
    return buf;
  }
};

/// fairseq's corpus BLEU of `hyps` against one reference each; `compound_split` applies
/// split_compounds to both first (HAT's `normal` mode does).
inline fairseq_bleu_result fairseq_bleu(const std::vector<std::string>& hyps, const std::vector<std::string>& refs,
                                        bool compound_split = true) {
  if (hyps.size() != refs.size())
    throw config_error("bleu: " + std::to_string(hyps.size()) + " hypotheses but " + std::to_string(refs.size()) + " references");
  if (hyps.empty()) throw config_error("bleu: no sentences");
  // fairseq's Dictionary: <s> 0, <pad> 1, </s> 2, <unk> 3, then every new word.
  constexpr int pad = 1, eos = 2, unk = 3, unmatched_unk = -999;
  std::unordered_map<std::string, int> dict{{"<s>", 0}, {"<pad>", pad}, {"</s>", eos}, {"<unk>", unk}};
  const auto encode = [&](std::string_view line) {
    std::vector<int> ids;
    const std::string text = compound_split ? split_compounds(line) : std::string(line);
    for (const auto& w : unicode::split_utf8(text))
      ids.push_back(dict.try_emplace(w, static_cast<int>(dict.size())).first->second);
    ids.push_back(eos);
    return ids;
  };
  // The scorer's trim: leading <pad>, then trailing </s> and <pad> down to (not past) the first token.
  const auto trim = [&](std::vector<int> s) {
    std::size_t start = 0;
    while (start < s.size() && s[start] == pad) ++start;
    s.erase(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(start));
    std::size_t end = s.size() - 1;
    while (end > 0 && (s[end] == eos || s[end] == pad)) --end;
    s.resize(end + 1);
    return s;
  };
  fairseq_bleu_result r;
  for (std::size_t i = 0; i < hyps.size(); ++i) {
    // fairseq numbers the hypothesis words first; the order does not matter, ids only need to be distinct.
    auto ref = encode(refs[i]);
    std::replace(ref.begin(), ref.end(), unk, unmatched_unk);
    ref = trim(std::move(ref));
    const auto pred = trim(encode(hyps[i]));
    r.ref_len += ref.size();
    r.sys_len += pred.size();
    for (std::size_t n = 1; n <= 4; ++n) {
      if (pred.size() < n) continue;
      r.counts[n - 1] += pred.size() - n + 1;
      if (ref.size() < n) continue;
      std::map<std::vector<int>, std::size_t> pending;
      for (std::size_t k = 0; k + n <= pred.size(); ++k) ++pending[std::vector<int>(pred.begin() + static_cast<std::ptrdiff_t>(k), pred.begin() + static_cast<std::ptrdiff_t>(k + n))];
      for (std::size_t k = 0; k + n <= ref.size(); ++k) {
        const auto it = pending.find(std::vector<int>(ref.begin() + static_cast<std::ptrdiff_t>(k), ref.begin() + static_cast<std::ptrdiff_t>(k + n)));
        if (it != pending.end() && it->second > 0) --it->second, ++r.matches[n - 1];
      }
    }
  }
  double log_sum = 0;
  for (std::size_t n = 0; n < 4; ++n) {
    r.precisions[n] = r.counts[n] > 0 ? static_cast<double>(r.matches[n]) / static_cast<double>(r.counts[n]) : 0.0;
    log_sum += r.precisions[n] > 0 ? std::log(r.precisions[n]) : -std::numeric_limits<double>::infinity();
  }
  r.bp = std::min(1.0, std::exp(1.0 - static_cast<double>(r.ref_len) / static_cast<double>(r.sys_len)));
  r.score = r.bp * std::exp(log_sum / 4) * 100;
  return r;
}

}  // namespace hat
