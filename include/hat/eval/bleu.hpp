// SPDX-License-Identifier: MIT
// Corpus BLEU as sacreBLEU computes it (tokenizer 13a or none, exp smoothing), for one or more references.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <string>
#include <string_view>
#include <vector>

#include <hat/config.hpp>

namespace hat {

namespace detail {
/// Bytes of the whitespace character at s[i] in UTF-8 (0: none), as Python's str.split() sees
/// whitespace: ASCII's, \x1c-\x1f, U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029,
/// U+202F, U+205F and U+3000. References contain no-break spaces, which sacreBLEU splits on.
inline std::size_t unicode_space(std::string_view s, std::size_t i) noexcept {
  const auto b = [&](std::size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
  const unsigned c = b(0);
  if (c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F)) return 1;
  if (c == 0xC2 && (b(1) == 0x85 || b(1) == 0xA0)) return 2;
  if (c == 0xE1 && b(1) == 0x9A && b(2) == 0x80) return 3;
  if (c == 0xE2 && b(1) == 0x80 && (b(2) <= 0x8A || b(2) == 0xA8 || b(2) == 0xA9 || b(2) == 0xAF)) return 3;
  if (c == 0xE2 && b(1) == 0x81 && b(2) == 0x9F) return 3;
  if (c == 0xE3 && b(1) == 0x80 && b(2) == 0x80) return 3;
  return 0;
}
inline std::vector<std::string> split_unicode_space(std::string_view s) {
  std::vector<std::string> tokens;
  std::size_t i = 0;
  while (i < s.size()) {
    for (std::size_t n; i < s.size() && (n = unicode_space(s, i)) > 0;) i += n;
    const std::size_t start = i;
    while (i < s.size() && unicode_space(s, i) == 0) ++i;
    if (i > start) tokens.emplace_back(s.substr(start, i - start));
  }
  return tokens;
}
}  // namespace detail

/// sacreBLEU's `13a` tokenizer (mteval-v13a): unescapes &quot; &amp; &lt; &gt;, splits off
/// punctuation and symbols, periods and commas except between digits, and dashes after digits.
/// Works on UTF-8 bytes: every rule looks at ASCII characters only, so bytes of other characters
/// behave as the "anything else" the rules' patterns allow.
inline std::vector<std::string> tokenize_13a(std::string_view text) {
  std::string s;
  s.reserve(text.size() + 8);
  for (std::size_t i = 0; i < text.size();) {  // <skipped> removed, -\n joined, \n a space
    if (text.compare(i, 9, "<skipped>") == 0) { i += 9; continue; }
    if (text.compare(i, 2, "-\n") == 0) { i += 2; continue; }
    s.push_back(text[i] == '\n' ? ' ' : text[i]);
    ++i;
  }
  if (s.find('&') != std::string::npos) {
    const std::pair<const char*, const char*> entities[] = {{"&quot;", "\""}, {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}};
    for (const auto& [from, to] : entities)
      for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + std::string_view(to).size()))
        s.replace(at, std::string_view(from).size(), to);
  }
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  const auto symbol = [](char c) {  // [\{-\~\[-\` -\&\(-\+\:-\@\/]
    const auto u = static_cast<unsigned char>(c);
    return (u >= 0x7B && u <= 0x7E) || (u >= 0x5B && u <= 0x60) || (u >= 0x20 && u <= 0x26) || (u >= 0x28 && u <= 0x2B) ||
           (u >= 0x3A && u <= 0x40) || u == '/';
  };
  std::string a = " ";  // sacreBLEU pads the line: a final period still has a "next" character
  for (char c : s + " ") {
    if (symbol(c)) a.append(" ").push_back(c), a.push_back(' ');
    else a.push_back(c);
  }
  // Each later rule is one left-to-right pass of non-overlapping two-character matches, as re.sub.
  const auto pass = [](const std::string& in, auto matches, auto emit) {
    std::string out;
    for (std::size_t i = 0; i < in.size();) {
      if (i + 1 < in.size() && matches(in[i], in[i + 1])) {
        emit(out, in[i], in[i + 1]);
        i += 2;
      } else {
        out.push_back(in[i++]);
      }
    }
    return out;
  };
  const auto period = [](char c) { return c == '.' || c == ','; };
  a = pass(a, [&](char x, char p) { return !digit(x) && period(p); },
           [](std::string& o, char x, char p) { o.push_back(x), o.push_back(' '), o.push_back(p), o.push_back(' '); });
  a = pass(a, [&](char p, char x) { return period(p) && !digit(x); },
           [](std::string& o, char p, char x) { o.push_back(' '), o.push_back(p), o.push_back(' '), o.push_back(x); });
  a = pass(a, [&](char d, char m) { return digit(d) && m == '-'; },
           [](std::string& o, char d, char m) { o.push_back(d), o.push_back(' '), o.push_back(m), o.push_back(' '); });
  return detail::split_unicode_space(a);
}

/// Whitespace tokens (sacreBLEU's `none`, for text that is tokenized already).
inline std::vector<std::string> tokenize_none(std::string_view text) { return detail::split_unicode_space(text); }

/// sacreBLEU's corpus statistics and score.
struct bleu_result {
  double score = 0;
  std::vector<std::size_t> counts, totals;  // matched and total n-grams, n = 1..4
  std::vector<double> precisions;           // percentages
  double bp = 0;
  std::size_t sys_len = 0, ref_len = 0;
};

struct bleu_options {
  std::string tokenize = "13a";  // 13a or none
  bool lowercase = false;
  std::string smooth = "exp";    // sacreBLEU's: exp, none, floor, add-k
  double smooth_value = -1;      // floor: 0.1, add-k: 1 when negative
};

/// Corpus BLEU of `hyps` against references (refs[k][i]: reference k of sentence i), with
/// sacreBLEU's defaults: n-grams up to 4, the closest reference length, exp smoothing.
inline bleu_result corpus_bleu(const std::vector<std::string>& hyps, const std::vector<std::vector<std::string>>& refs,
                               const bleu_options& o = {}) {
  if (refs.empty()) throw config_error("bleu: no references");
  for (const auto& r : refs)
    if (r.size() != hyps.size())
      throw config_error("bleu: " + std::to_string(hyps.size()) + " hypotheses but a reference set of " +
                         std::to_string(r.size()) + " lines");
  if (o.tokenize != "13a" && o.tokenize != "none") throw config_error("bleu: unknown tokenizer '" + o.tokenize + "'");
  if (o.smooth != "exp" && o.smooth != "none" && o.smooth != "floor" && o.smooth != "add-k")
    throw config_error("bleu: unknown smoothing '" + o.smooth + "' (exp, none, floor, add-k)");
  const double smooth_value = o.smooth_value >= 0 ? o.smooth_value : o.smooth == "floor" ? 0.1 : 1.0;
  const auto tokens = [&](std::string s) {
    if (o.lowercase)
      for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return o.tokenize == "13a" ? tokenize_13a(s) : tokenize_none(s);
  };
  constexpr std::size_t N = 4;
  bleu_result r;
  r.counts.assign(N, 0);
  r.totals.assign(N, 0);
  // N-grams of one sentence pair as 64-bit keys: tokens numbered within the pair (from 1, so a
  // key's non-zero 16-bit fields give its order), up to 4 ids of 16 bits each.
  using ngram_counts = std::unordered_map<std::uint64_t, std::size_t>;
  std::unordered_map<std::string, std::uint64_t> ids;
  const auto numbered = [&](const std::vector<std::string>& t) {
    std::vector<std::uint64_t> out(t.size());
    for (std::size_t i = 0; i < t.size(); ++i) out[i] = ids.try_emplace(t[i], ids.size() + 1).first->second;
    return out;
  };
  const auto ngrams = [](const std::vector<std::uint64_t>& t, ngram_counts& c) {
    c.clear();
    for (std::size_t n = 1; n <= N; ++n)
      for (std::size_t i = 0; i + n <= t.size(); ++i) {
        std::uint64_t key = 0;
        for (std::size_t k = 0; k < n; ++k) key |= t[i + k] << (16 * k);
        ++c[key];
      }
  };
  const auto order = [](std::uint64_t key) {
    std::size_t n = 0;
    for (; n < N && (key >> (16 * n)) != 0; ++n) {}
    return n;
  };
  ngram_counts hyp_grams, ref_grams, max_ref;
  for (std::size_t s = 0; s < hyps.size(); ++s) {
    ids.clear();
    const auto h_tokens = tokens(hyps[s]);
    std::vector<std::vector<std::string>> ref_tokens;
    for (const auto& ref_set : refs) ref_tokens.push_back(tokens(ref_set[s]));
    std::size_t distinct = h_tokens.size();
    for (const auto& t : ref_tokens) distinct += t.size();
    if (distinct >= 0xFFFF) throw config_error("bleu: sentence " + std::to_string(s + 1) + " is too long (65,535 tokens)");
    const auto h = numbered(h_tokens);
    max_ref.clear();
    std::size_t closest = 0;
    long best_diff = -1;
    for (const auto& rt : ref_tokens) {
      const long diff = std::labs(static_cast<long>(rt.size()) - static_cast<long>(h.size()));
      if (best_diff < 0 || diff < best_diff || (diff == best_diff && rt.size() < closest)) best_diff = diff, closest = rt.size();
      ngrams(numbered(rt), ref_grams);
      for (const auto& [g, n] : ref_grams) max_ref[g] = std::max(max_ref[g], n);
    }
    r.sys_len += h.size();
    r.ref_len += closest;
    ngrams(h, hyp_grams);
    for (const auto& [g, n] : hyp_grams) {
      const auto it = max_ref.find(g);
      r.counts[order(g) - 1] += std::min(n, it == max_ref.end() ? std::size_t{0} : it->second);
    }
    for (std::size_t n = 1; n <= N; ++n) r.totals[n - 1] += h.size() >= n ? h.size() - n + 1 : 0;
  }
  // sacreBLEU's compute_bleu: add-k adds to the 2..4-gram statistics, exp and floor replace a
  // zero count, and a zero precision (smoothing none) or an empty order scores 0.
  r.precisions.assign(N, 0.0);
  double smooth = 1, log_sum = 0;
  bool zero = false;
  for (std::size_t n = 0; n < N; ++n) {
    double correct = static_cast<double>(r.counts[n]), total = static_cast<double>(r.totals[n]);
    if (o.smooth == "add-k" && n > 0) correct += smooth_value, total += smooth_value;
    if (total == 0) {
      zero = true;
      break;
    }
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
    if (r.precisions[n] <= 0) zero = true;
    else log_sum += std::log(r.precisions[n]);
  }
  r.bp = r.sys_len == 0 ? 0.0
         : r.sys_len < r.ref_len ? std::exp(1.0 - static_cast<double>(r.ref_len) / static_cast<double>(r.sys_len))
                                  : 1.0;
  r.score = zero || r.sys_len == 0 ? 0.0 : r.bp * std::exp(log_sum / static_cast<double>(N));
  return r;
}

}  // namespace hat
