// SPDX-License-Identifier: MIT
// chrF (and chrF++ with word n-grams) exactly as sacreBLEU 2.6.0 computes it: character n-grams
// without whitespace, the best reference per sentence, statistics summed over the corpus, and
// the effective-order average of precision and recall (or the reference's epsilon smoothing).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <hat/config.hpp>
#include <hat/eval/bleu.hpp>
#include <hat/eval/unicode.hpp>

namespace hat {

struct chrf_options {
  int char_order = 6;
  int word_order = 0;          // 2: chrF++
  int beta = 2;
  bool lowercase = false;
  bool whitespace = false;     // keep whitespace inside character n-grams
  bool eps_smoothing = false;  // chrF++.py's smoothing instead of the effective order
};

struct chrf_result {
  double score = 0;
  std::vector<double> statistics;  // per order (characters, then words): hyp, ref, match
  std::string name;                // chrF2, chrF2++
  std::string signature;           // e.g. nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0
};

/// sacreBLEU's metric name: chrF2, or chrF2++ with word n-grams of order 2.
inline std::string chrf_name(const chrf_options& o) {
  return "chrF" + std::to_string(o.beta) + std::string(static_cast<std::size_t>(o.word_order), '+');
}

inline std::string chrf_signature(std::size_t nrefs, const chrf_options& o) {
  return "nrefs:" + std::to_string(nrefs) + "|case:" + (o.lowercase ? "lc" : "mixed") +
         "|eff:" + (o.eps_smoothing ? "no" : "yes") + "|nc:" + std::to_string(o.char_order) +
         "|nw:" + std::to_string(o.word_order) + "|space:" + (o.whitespace ? "yes" : "no") +
         "|version:" + sacrebleu_compatible_version;
}

namespace detail {

/// One segment's n-grams of each order (characters 1..nc, then words 1..nw), each order a sorted
/// list of views into the segment's own text: matching two segments is a merge, not hashing.
/// Filled in place and never moved, since the views point into its strings.
struct chrf_ngrams {
  std::u32string chars;
  std::vector<std::u32string> word_grams;
  std::vector<std::vector<std::u32string_view>> orders;
  chrf_ngrams() = default;
  chrf_ngrams(const chrf_ngrams&) = delete;
  chrf_ngrams& operator=(const chrf_ngrams&) = delete;
};

inline void chrf_extract(std::u32string_view line, const chrf_options& o, chrf_ngrams& out) {
  const auto nc = static_cast<std::size_t>(o.char_order), nw = static_cast<std::size_t>(o.word_order);
  out.chars.clear();
  out.chars.reserve(line.size());
  for (char32_t c : line)
    if (o.whitespace || !unicode::is_space(c)) out.chars += c;
  out.orders.assign(nc + nw, {});
  const std::u32string_view chars(out.chars);
  for (std::size_t n = 1; n <= nc; ++n)
    for (std::size_t i = 0; i + n <= chars.size(); ++i) out.orders[n - 1].push_back(chars.substr(i, n));
  out.word_grams.clear();
  if (nw > 0) {
    // chrF++'s words: one ASCII punctuation character at a word's end (else its start) is split off.
    static constexpr std::u32string_view puncts = U"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    std::vector<std::u32string> words;
    for (auto& w : unicode::split(line)) {
      if (w.size() > 1 && puncts.find(w.back()) != std::u32string_view::npos) {
        words.push_back(w.substr(0, w.size() - 1));
        words.push_back(w.substr(w.size() - 1));
      } else if (w.size() > 1 && puncts.find(w.front()) != std::u32string_view::npos) {
        words.push_back(w.substr(0, 1));
        words.push_back(w.substr(1));
      } else {
        words.push_back(std::move(w));
      }
    }
    std::vector<std::size_t> first(nw + 1, 0);
    for (std::size_t n = 1; n <= nw; ++n) {
      first[n - 1] = out.word_grams.size();
      for (std::size_t i = 0; i + n <= words.size(); ++i) {
        std::u32string g = words[i];
        for (std::size_t k = 1; k < n; ++k) g += U' ', g += words[i + k];
        out.word_grams.push_back(std::move(g));
      }
    }
    first[nw] = out.word_grams.size();
    for (std::size_t n = 1; n <= nw; ++n)  // views only once the strings stay put
      for (std::size_t i = first[n - 1]; i < first[n]; ++i) out.orders[nc + n - 1].emplace_back(out.word_grams[i]);
  }
  for (auto& v : out.orders) std::sort(v.begin(), v.end());
}

/// Sum over distinct n-grams of min(count in a, count in b), for sorted lists.
inline std::size_t chrf_matches(const std::vector<std::u32string_view>& a, const std::vector<std::u32string_view>& b) {
  std::size_t m = 0;
  for (std::size_t i = 0, j = 0; i < a.size() && j < b.size();) {
    const int c = a[i].compare(b[j]);
    if (c == 0) ++m, ++i, ++j;
    else if (c < 0) ++i;
    else ++j;
  }
  return m;
}

inline double chrf_score(const std::vector<double>& st, const chrf_options& o) {
  const double eps = 1e-16, factor = static_cast<double>(o.beta) * o.beta;
  double score = 0, avg_prec = 0, avg_rec = 0;
  int effective_order = 0;
  for (std::size_t i = 0; i + 2 < st.size(); i += 3) {
    const double n_hyp = st[i], n_ref = st[i + 1], n_match = st[i + 2];
    const double prec = n_hyp > 0 ? n_match / n_hyp : eps, rec = n_ref > 0 ? n_match / n_ref : eps;
    const double denom = factor * prec + rec;
    score += denom > 0 ? (1 + factor) * prec * rec / denom : eps;
    if (n_hyp > 0 && n_ref > 0) avg_prec += prec, avg_rec += rec, ++effective_order;
  }
  if (o.eps_smoothing) return 100 * score / static_cast<double>(o.char_order + o.word_order);
  if (effective_order == 0) return 0.0;
  avg_prec /= effective_order;
  avg_rec /= effective_order;
  if (avg_prec + avg_rec == 0) return 0.0;
  return 100 * (1 + factor) * avg_prec * avg_rec / (factor * avg_prec + avg_rec);
}

/// One sentence's statistics against the reference that scores it best (the first on a tie).
inline std::vector<double> chrf_sentence(std::string_view hyp, const std::vector<std::string_view>& refs,
                                         const chrf_options& o) {
  const auto prep = [&](std::string_view s) {
    auto u = unicode::decode_utf8(s);
    return o.lowercase ? unicode::lower(u) : u;
  };
  chrf_ngrams h, r;
  chrf_extract(prep(hyp), o, h);
  std::vector<double> best, st;
  double best_f = -1;
  for (const auto r_text : refs) {
    chrf_extract(prep(r_text), o, r);
    st.clear();
    for (std::size_t n = 0; n < h.orders.size(); ++n) {
      // sacreBLEU counts no hypothesis n-grams where the reference has none of that order.
      st.push_back(r.orders[n].empty() ? 0.0 : static_cast<double>(h.orders[n].size()));
      st.push_back(static_cast<double>(r.orders[n].size()));
      st.push_back(static_cast<double>(chrf_matches(h.orders[n], r.orders[n])));
    }
    const double f = chrf_score(st, o);
    if (f > best_f) best_f = f, best = st;
  }
  return best;
}

inline void check_chrf_options(const chrf_options& o) {
  if (o.char_order < 0 || o.word_order < 0 || o.char_order + o.word_order == 0 || o.beta < 1)
    throw config_error("chrf: orders must be >= 0 with at least one, and beta >= 1");
}

}  // namespace detail

/// Corpus chrF of `hyps` against references (refs[k][i]: reference k of sentence i).
inline chrf_result corpus_chrf(const std::vector<std::string>& hyps, const std::vector<std::vector<std::string>>& refs,
                               const chrf_options& o = {}) {
  if (refs.empty()) throw config_error("chrf: no references");
  for (const auto& r : refs)
    if (r.size() != hyps.size())
      throw config_error("chrf: " + std::to_string(hyps.size()) + " hypotheses but a reference set of " +
                         std::to_string(r.size()) + " lines");
  detail::check_chrf_options(o);
  chrf_result out;
  out.statistics.assign(3 * static_cast<std::size_t>(o.char_order + o.word_order), 0.0);
  std::vector<std::string_view> sentence_refs(refs.size());
  for (std::size_t s = 0; s < hyps.size(); ++s) {
    for (std::size_t k = 0; k < refs.size(); ++k) sentence_refs[k] = refs[k][s];
    const auto st = detail::chrf_sentence(hyps[s], sentence_refs, o);
    for (std::size_t i = 0; i < st.size(); ++i) out.statistics[i] += st[i];
  }
  out.score = detail::chrf_score(out.statistics, o);
  out.name = chrf_name(o);
  out.signature = chrf_signature(refs.size(), o);
  return out;
}

/// chrF of one sentence against its references (sacreBLEU's sentence_chrf).
inline chrf_result sentence_chrf(std::string_view hyp, const std::vector<std::string>& refs, const chrf_options& o = {}) {
  if (refs.empty()) throw config_error("chrf: no references");
  detail::check_chrf_options(o);
  chrf_result out;
  out.statistics = detail::chrf_sentence(hyp, std::vector<std::string_view>(refs.begin(), refs.end()), o);
  out.score = detail::chrf_score(out.statistics, o);
  out.name = chrf_name(o);
  out.signature = chrf_signature(refs.size(), o);
  return out;
}

}  // namespace hat
