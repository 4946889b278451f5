// SPDX-License-Identifier: MIT
// The paired bootstrap of BLEU: its scores are corpus BLEU's, equal systems are never significant,
// a clearly better one always is, a one-sentence difference is noise, and the same seed repeats.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <hat/eval/bleu.hpp>
#include <hat/eval/paired_bootstrap.hpp>
#include <hat/space/random.hpp>

namespace {
// Sentences of 12 words over a 40-word vocabulary, each word an index into `words`; a system's
// output is the reference with `wrong` positions of each sentence replaced (seeded).
using sentence = std::vector<std::size_t>;
std::vector<sentence> sentences(std::uint64_t seed, std::size_t n = 300) {
  hat::rng g(seed);
  std::vector<sentence> out(n, sentence(12));
  for (auto& s : out)
    for (auto& w : s) w = static_cast<std::size_t>(g.below(40));
  return out;
}
std::vector<sentence> with_errors(std::vector<sentence> refs, int wrong, std::uint64_t seed) {
  hat::rng g(seed);
  for (auto& s : refs)
    for (int k = 0; k < wrong; ++k) s[static_cast<std::size_t>(g.below(s.size()))] = 40 + static_cast<std::size_t>(g.below(40));
  return refs;
}
std::vector<std::string> text(const std::vector<sentence>& v) {
  static const std::vector<std::string> words = [] {
    std::vector<std::string> w;
    for (const char* p : {"a", "b", "c", "d", "e", "f", "g", "h"})
      for (const char* q : {"m", "n", "o", "p", "q", "r", "s", "t", "u", "v"}) w.push_back(std::string(p) + q);
    return w;  // 80 words: the first 40 for references, the rest for errors
  }();
  std::vector<std::string> out;
  for (const auto& s : v) {
    std::string line;
    for (auto w : s) line.append(line.empty() ? "" : " ").append(words[w]);
    out.push_back(line);
  }
  return out;
}
}  // namespace

TEST_CASE("paired bootstrap: corpus BLEU of each, significance only where the difference is real", "[eval][bootstrap]") {
  const auto ref_ids = sentences(1);
  const auto refs = text(ref_ids), good = text(with_errors(ref_ids, 2, 2)), bad = text(with_errors(ref_ids, 5, 3));
  const auto r = hat::paired_bootstrap_bleu(good, bad, refs);
  CHECK(r.bleu_a == Approx(hat::corpus_bleu(good, {refs}).score));
  CHECK(r.bleu_b == Approx(hat::corpus_bleu(bad, {refs}).score));
  CHECK(r.bleu_a > r.bleu_b + 10);
  CHECK(r.samples == 1000);
  CHECK(r.p_value == Approx(1.0 / 1001));  // no centred resample comes near a 10-point gap
  CHECK(r.significant());
  CHECK(r.ci_low > 0);
  CHECK(r.ci_low < r.bleu_a - r.bleu_b);
  CHECK(r.ci_high > r.bleu_a - r.bleu_b);
  const auto swapped = hat::paired_bootstrap_bleu(bad, good, refs);
  CHECK(swapped.ci_high < 0);
  CHECK(swapped.p_value == r.p_value);

  const auto same = hat::paired_bootstrap_bleu(good, good, refs);  // identical systems
  CHECK(same.p_value == 1.0);
  CHECK(same.ci_low == 0.0);
  CHECK(same.ci_high == 0.0);
  CHECK_FALSE(same.significant());

  auto almost = good;  // one sentence of 300 made perfect: a small, noisy difference
  almost[7] = refs[7];
  const auto small = hat::paired_bootstrap_bleu(almost, good, refs);
  CHECK(small.bleu_a > small.bleu_b);
  CHECK(small.p_value > 0.05);
  CHECK(small.ci_low <= 0);

  hat::paired_bootstrap_options o;
  o.seed = 7;
  const auto again = hat::paired_bootstrap_bleu(almost, good, refs, o), twice = hat::paired_bootstrap_bleu(almost, good, refs, o);
  CHECK(again.p_value == twice.p_value);  // the same seed, the same resamples
  CHECK(again.ci_low == twice.ci_low);
}

TEST_CASE("paired bootstrap: mismatched or empty inputs are errors that say so", "[eval][bootstrap]") {
  const auto refs = text(sentences(1, 5));
  auto short_one = refs;
  short_one.pop_back();
  CHECK_THROWS_WITH(hat::paired_bootstrap_bleu(refs, short_one, refs), Catch::Contains("5 and 4 hypotheses for 5 references"));
  CHECK_THROWS_WITH(hat::paired_bootstrap_bleu({}, {}, {}), Catch::Contains("no sentences"));
  hat::paired_bootstrap_options o;
  o.samples = 0;
  CHECK_THROWS_WITH(hat::paired_bootstrap_bleu(refs, refs, refs, o), Catch::Contains("at least one sample"));
}
