// SPDX-License-Identifier: MIT
// Corpus and sentence BLEU exactly as sacreBLEU 2.6.0 computes them: its tokenizers, smoothing
// methods, effective order, several references (closest length), signature and summary line.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <hat/config.hpp>
#include <hat/eval/tokenize.hpp>

namespace hat {

/// The sacreBLEU version whose numbers hat's BLEU and chrF reproduce; signatures name it so a
/// score can be compared with one computed by sacreBLEU.
inline constexpr const char* sacrebleu_compatible_version = "2.6.0";

struct bleu_options {
  std::string tokenize = "13a";  // 13a, intl, none, char
  bool lowercase = false;        // Python's str.lower() before tokenizing
  std::string smooth = "exp";    // exp, none, floor, add-k
  double smooth_value = -1;      // floor: 0.1, add-k: 1 when negative
  bool effective_order = false;  // average only the orders that have n-grams (sentence BLEU)
};

/// sacreBLEU's statistics and score.
struct bleu_result {
  double score = 0;
  std::vector<std::size_t> counts, totals;  // matched and total n-grams, n = 1..4
  std::vector<double> precisions;           // percentages
  double bp = 0;
  std::size_t sys_len = 0, ref_len = 0;
  std::string signature;                    // e.g. nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0

  double ratio() const noexcept { return ref_len ? static_cast<double>(sys_len) / static_cast<double>(ref_len) : 0.0; }
  /// sacreBLEU's summary: `BLEU = 34.47 66.2/41.3/27.5/18.9 (BP = 0.999 ratio = 0.999 hyp_len = 20150 ref_len = 20180)`.
  std::string formatted() const {
    char buf[160];
    std::string s;
    std::snprintf(buf, sizeof buf, "BLEU = %.2f ", score);
    s += buf;
    for (std::size_t n = 0; n < precisions.size(); ++n) {
      std::snprintf(buf, sizeof buf, "%s%.1f", n ? "/" : "", precisions[n]);
      s += buf;
    }
    std::snprintf(buf, sizeof buf, " (BP = %.3f ratio = %.3f hyp_len = %zu ref_len = %zu)", bp, ratio(), sys_len, ref_len);
    return s + buf;
  }
};

/// sacreBLEU's signature of a BLEU computed with `o` against `nrefs` references.
inline std::string bleu_signature(std::size_t nrefs, const bleu_options& o) {
  std::string smooth = o.smooth;
  if (o.smooth == "floor" || o.smooth == "add-k") {
    char buf[48];
    std::snprintf(buf, sizeof buf, "[%.2f]", o.smooth_value >= 0 ? o.smooth_value : o.smooth == "floor" ? 0.1 : 1.0);
    smooth += buf;
  }
  return "nrefs:" + std::to_string(nrefs) + "|case:" + (o.lowercase ? "lc" : "mixed") +
         "|eff:" + (o.effective_order ? "yes" : "no") + "|tok:" + o.tokenize + "|smooth:" + smooth +
         "|version:" + sacrebleu_compatible_version;
}

namespace detail {

inline void check_bleu_options(const bleu_options& o) {
  if (!is_tokenizer(o.tokenize)) throw config_error("bleu: unknown tokenizer '" + o.tokenize + "' (13a, intl, none, char)");
  if (o.smooth != "exp" && o.smooth != "none" && o.smooth != "floor" && o.smooth != "add-k")
    throw config_error("bleu: unknown smoothing '" + o.smooth + "' (exp, none, floor, add-k)");
}

/// Python's str.rstrip() on UTF-8 text.
inline std::string_view rstrip_utf8(std::string_view s) {
  std::size_t end = 0;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = unicode::space_bytes(s, i);
    if (n == 0) {
      ++i;
      while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
      end = i;
    } else {
      i += n;
    }
  }
  return s.substr(0, end);
}

/// sacreBLEU's segment preprocessing: lowercase (optional), strip the right end, tokenize.
inline std::vector<std::string> bleu_tokens(std::string_view line, const bleu_options& o) {
  if (!o.lowercase) return tokenize(o.tokenize, rstrip_utf8(line));
  const std::string low = unicode::lower_utf8(line);
  return tokenize(o.tokenize, rstrip_utf8(low));
}

constexpr std::size_t bleu_order = 4;

struct bleu_stats {
  std::size_t sys_len = 0, ref_len = 0;
  std::size_t counts[bleu_order] = {}, totals[bleu_order] = {};
};

/// Adds one sentence's statistics: n-grams as 64-bit keys of tokens numbered within the
/// sentence (from 1, so a key's non-zero 16-bit fields give its order), clipped by the most
/// generous reference, length of the closest reference (the shorter on a tie).
inline void add_bleu_sentence(bleu_stats& st, const std::vector<std::string>& hyp,
                              const std::vector<std::vector<std::string>>& refs, std::size_t line) {
  using ngram_counts = std::unordered_map<std::uint64_t, std::size_t>;
  std::size_t distinct = hyp.size();
  for (const auto& t : refs) distinct += t.size();
  if (distinct >= 0xFFFF) throw config_error("bleu: sentence " + std::to_string(line) + " is too long (65,535 tokens)");
  std::unordered_map<std::string_view, std::uint64_t> ids;
  const auto numbered = [&](const std::vector<std::string>& t) {
    std::vector<std::uint64_t> out(t.size());
    for (std::size_t i = 0; i < t.size(); ++i) out[i] = ids.try_emplace(t[i], ids.size() + 1).first->second;
    return out;
  };
  const auto ngrams = [](const std::vector<std::uint64_t>& t, ngram_counts& c) {
    c.clear();
    for (std::size_t n = 1; n <= bleu_order; ++n)
      for (std::size_t i = 0; i + n <= t.size(); ++i) {
        std::uint64_t key = 0;
        for (std::size_t k = 0; k < n; ++k) key |= t[i + k] << (16 * k);
        ++c[key];
      }
  };
  const auto order = [](std::uint64_t key) {
    std::size_t n = 0;
    for (; n < bleu_order && (key >> (16 * n)) != 0; ++n) {}
    return n;
  };
  const auto h = numbered(hyp);
  ngram_counts max_ref, ref_grams, hyp_grams;
  std::size_t closest = 0;
  long best_diff = -1;
  for (const auto& rt : refs) {
    const long diff = std::labs(static_cast<long>(rt.size()) - static_cast<long>(h.size()));
    if (best_diff < 0 || diff < best_diff || (diff == best_diff && rt.size() < closest)) best_diff = diff, closest = rt.size();
    ngrams(numbered(rt), ref_grams);
    for (const auto& [g, n] : ref_grams) max_ref[g] = std::max(max_ref[g], n);
  }
  st.sys_len += h.size();
  st.ref_len += closest;
  ngrams(h, hyp_grams);
  for (const auto& [g, n] : hyp_grams) {
    const auto it = max_ref.find(g);
    st.counts[order(g) - 1] += std::min(n, it == max_ref.end() ? std::size_t{0} : it->second);
  }
  for (std::size_t n = 1; n <= bleu_order; ++n) st.totals[n - 1] += h.size() >= n ? h.size() - n + 1 : 0;
}

/// sacreBLEU's compute_bleu: no match at all scores 0; add-k adds to the 2..4-gram statistics,
/// exp and floor replace a zero count; an order without n-grams ends the orders (effective
/// order) or scores 0; a zero precision scores 0 (sacreBLEU's floored log).
inline bleu_result compute_bleu(const bleu_stats& st, std::size_t nrefs, const bleu_options& o) {
  bleu_result r;
  r.counts.assign(st.counts, st.counts + bleu_order);
  r.totals.assign(st.totals, st.totals + bleu_order);
  r.sys_len = st.sys_len;
  r.ref_len = st.ref_len;
  r.signature = bleu_signature(nrefs, o);
  r.precisions.assign(bleu_order, 0.0);
  r.bp = st.sys_len >= st.ref_len ? 1.0
         : st.sys_len > 0          ? std::exp(1.0 - static_cast<double>(st.ref_len) / static_cast<double>(st.sys_len))
                                   : 0.0;
  if (std::all_of(r.counts.begin(), r.counts.end(), [](std::size_t c) { return c == 0; })) return r;
  const double smooth_value = o.smooth_value >= 0 ? o.smooth_value : o.smooth == "floor" ? 0.1 : 1.0;
  double smooth = 1;
  std::size_t eff_order = bleu_order;
  for (std::size_t n = 0; n < bleu_order; ++n) {
    double correct = static_cast<double>(r.counts[n]), total = static_cast<double>(r.totals[n]);
    if (o.smooth == "add-k" && n > 0) correct += smooth_value, total += smooth_value;
    if (total == 0) break;
    if (o.effective_order) eff_order = n + 1;
    if (correct == 0) {
      if (o.smooth == "exp") {
        smooth *= 2;
        r.precisions[n] = 100.0 / (smooth * total);
      } else if (o.smooth == "floor") {
        r.precisions[n] = 100.0 * smooth_value / total;
      }
    } else {
      r.precisions[n] = 100.0 * correct / total;
    }
  }
  double log_sum = 0;
  for (std::size_t n = 0; n < eff_order; ++n) {
    if (r.precisions[n] <= 0) return r.score = 0, r;
    log_sum += std::log(r.precisions[n]);
  }
  r.score = r.bp * std::exp(log_sum / static_cast<double>(eff_order));
  return r;
}

}  // namespace detail

/// Corpus BLEU of `hyps` against references (refs[k][i]: reference k of sentence i), with
/// sacreBLEU's defaults: 13a, n-grams up to 4, the closest reference length, exp smoothing.
/// Lines are taken as given (sacreBLEU's command line strips their right end on reading).
inline bleu_result corpus_bleu(const std::vector<std::string>& hyps, const std::vector<std::vector<std::string>>& refs,
                               const bleu_options& o = {}) {
  if (refs.empty()) throw config_error("bleu: no references");
  for (const auto& r : refs)
    if (r.size() != hyps.size())
      throw config_error("bleu: " + std::to_string(hyps.size()) + " hypotheses but a reference set of " +
                         std::to_string(r.size()) + " lines");
  detail::check_bleu_options(o);
  detail::bleu_stats st;
  std::vector<std::vector<std::string>> ref_tokens(refs.size());
  for (std::size_t s = 0; s < hyps.size(); ++s) {
    for (std::size_t k = 0; k < refs.size(); ++k) ref_tokens[k] = detail::bleu_tokens(refs[k][s], o);
    detail::add_bleu_sentence(st, detail::bleu_tokens(hyps[s], o), ref_tokens, s + 1);
  }
  return detail::compute_bleu(st, refs.size(), o);
}

/// BLEU of one sentence against its references, as sacreBLEU's sentence_bleu (effective order
/// on, exp smoothing by default).
inline bleu_result sentence_bleu(std::string_view hyp, const std::vector<std::string>& refs,
                                 const bleu_options& o = {.effective_order = true}) {
  if (refs.empty()) throw config_error("bleu: no references");
  detail::check_bleu_options(o);
  std::vector<std::vector<std::string>> ref_tokens;
  for (const auto& r : refs) ref_tokens.push_back(detail::bleu_tokens(r, o));
  detail::bleu_stats st;
  detail::add_bleu_sentence(st, detail::bleu_tokens(hyp, o), ref_tokens, 1);
  return detail::compute_bleu(st, refs.size(), o);
}

}  // namespace hat
