// SPDX-License-Identifier: MIT
// paired_bootstrap_bleu: whether two systems' BLEU on the same test set differ by more than the
// test set's sampling noise. Both are scored on the same resampled sentences (paired), many times;
// the spread of the differences gives a confidence interval and a p-value.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <hat/config.hpp>
#include <hat/eval/bleu.hpp>
#include <hat/space/random.hpp>

namespace hat {

struct paired_bootstrap_options {
  std::size_t samples = 1000;  // resampled test sets
  std::uint64_t seed = 1;      // of the resampling: the same seed, the same p-value
  bleu_options bleu{};         // sacreBLEU's defaults
};

struct paired_bootstrap_result {
  double bleu_a = 0, bleu_b = 0;   // corpus BLEU of each system on the whole test set
  double ci_low = 0, ci_high = 0;  // 95 % interval of BLEU(a) - BLEU(b) over the resamples
  double p_value = 1;              // of "a and b are equally good" (two-sided)
  std::size_t samples = 0;

  bool significant(double alpha = 0.05) const noexcept { return p_value < alpha; }
};

/// Paired bootstrap resampling of corpus BLEU: each sample draws as many sentences as the test set
/// has, with replacement, and scores both systems on that sample from their per-sentence n-gram
/// statistics. The p-value counts the samples whose difference, centred on the samples' mean (so
/// that they follow the null hypothesis), lies at least as far from zero as the observed difference:
/// (1 + count) / (1 + samples). `a` [n], `b` [n] and `refs` [n] are lines of the same sentences;
/// throws config_error when their counts differ or there are none.
/// sacreBLEU's `--paired-bs` resamples the same way but tests |difference| minus its mean against
/// the observed difference with a strict `>`: its p-values run lower than these (two identical
/// systems get its smallest p-value, here they get 1); docs/results.md compares the two.
inline paired_bootstrap_result paired_bootstrap_bleu(const std::vector<std::string>& a, const std::vector<std::string>& b,
                                                     const std::vector<std::string>& refs,
                                                     const paired_bootstrap_options& o = {}) {
  if (a.size() != refs.size() || b.size() != refs.size())
    throw config_error("paired bootstrap: " + std::to_string(a.size()) + " and " + std::to_string(b.size()) +
                       " hypotheses for " + std::to_string(refs.size()) + " references");
  if (refs.empty()) throw config_error("paired bootstrap: no sentences");
  if (o.samples == 0) throw config_error("paired bootstrap: at least one sample");
  detail::check_bleu_options(o.bleu);
  const std::size_t n = refs.size();
  std::vector<detail::bleu_stats> sa(n), sb(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::vector<std::vector<std::string>> r{detail::bleu_tokens(refs[i], o.bleu)};
    detail::add_bleu_sentence(sa[i], detail::bleu_tokens(a[i], o.bleu), r, i + 1);
    detail::add_bleu_sentence(sb[i], detail::bleu_tokens(b[i], o.bleu), r, i + 1);
  }
  const auto add = [](detail::bleu_stats& to, const detail::bleu_stats& s) {
    to.sys_len += s.sys_len;
    to.ref_len += s.ref_len;
    for (std::size_t k = 0; k < detail::bleu_order; ++k) to.counts[k] += s.counts[k], to.totals[k] += s.totals[k];
  };
  const auto score = [&](const detail::bleu_stats& s) { return detail::compute_bleu(s, 1, o.bleu).score; };
  paired_bootstrap_result r;
  {
    detail::bleu_stats ta, tb;
    for (std::size_t i = 0; i < n; ++i) add(ta, sa[i]), add(tb, sb[i]);
    r.bleu_a = score(ta);
    r.bleu_b = score(tb);
  }
  rng g(o.seed);
  std::vector<double> diffs(o.samples);
  for (auto& d : diffs) {
    detail::bleu_stats ta, tb;
    for (std::size_t k = 0; k < n; ++k) {
      const auto i = static_cast<std::size_t>(g.below(n));
      add(ta, sa[i]);
      add(tb, sb[i]);
    }
    d = score(ta) - score(tb);
  }
  double mean = 0;
  for (double d : diffs) mean += d;
  mean /= static_cast<double>(diffs.size());
  const double observed = std::fabs(r.bleu_a - r.bleu_b);
  std::size_t extreme = 0;
  for (double d : diffs) extreme += std::fabs(d - mean) >= observed;
  r.p_value = static_cast<double>(1 + extreme) / static_cast<double>(1 + diffs.size());
  std::sort(diffs.begin(), diffs.end());
  const auto at = [&](double q) {
    const auto k = static_cast<std::size_t>(std::floor(q * static_cast<double>(diffs.size() - 1) + 0.5));
    return diffs[std::min(k, diffs.size() - 1)];
  };
  r.ci_low = at(0.025);
  r.ci_high = at(0.975);
  r.samples = diffs.size();
  return r;
}

}  // namespace hat
