// SPDX-License-Identifier: MIT
// A beam search step's ranking: the best (hypothesis, token) pairs of one sentence, kept per
// hypothesis while its row of logits is read, instead of ranking all beam x V pairs.
#pragma once

#include <algorithm>  // std::max
#include <cmath>
#include <cstddef>
#include <limits>

#include <hat/data/token_batch.hpp>

namespace hat::detail {

/// One way to extend a hypothesis: its score after the token, and the token's log-probability.
struct beam_candidate {
  double score;
  std::size_t hyp;
  int token;
  float lprob;
};

/// The ranking: score, then hypothesis, then token. A total order, so ties rank the same way on
/// every machine and in every selection order.
inline bool ranks_before(const beam_candidate& a, const beam_candidate& b) noexcept {
  return a.score != b.score ? a.score > b.score : (a.hyp != b.hyp ? a.hyp < b.hyp : a.token < b.token);
}

/// Which tokens may extend a hypothesis at a step (pad never may).
enum class allowed_tokens {
  all,        // every token but pad
  not_eos,    // before the minimum length
  only_eos,   // at the maximum length
};

/// log(sum_v exp(x[v])) of a row x [V], in double, with the maximum taken out first. The maximum
/// is taken over four interleaved chains, so the loop is not one long dependency: the same value
/// as one chain (NaN never wins in either), up to the sign of a zero maximum, which changes no
/// result (x - 0 and x + 0 differ only where x is a zero, whose exp is 1 either way). The sum
/// stays in index order.
template <class T>
double log_sum_exp(const T* x, std::size_t V) noexcept {
  constexpr double ninf = -std::numeric_limits<double>::infinity();
  double m[4] = {ninf, ninf, ninf, ninf};
  std::size_t v = 0;
  for (; v + 4 <= V; v += 4)
    for (std::size_t l = 0; l < 4; ++l) m[l] = std::max(m[l], static_cast<double>(x[v + l]));
  for (; v < V; ++v) m[0] = std::max(m[0], static_cast<double>(x[v]));
  const double mx = std::max(std::max(m[0], m[1]), std::max(m[2], m[3]));
  double sum = 0;
  for (v = 0; v < V; ++v) sum += std::exp(static_cast<double>(x[v]) - mx);
  return mx + std::log(sum);
}

/// Writes to top [0, keep) the best `keep` extensions of hypothesis `hyp` (cumulative score
/// `score`, logits x [V], log-sum-exp `lse`), best first, and returns how many there are (fewer
/// where fewer tokens may extend). Token v scores score + (x[v] - lse); -inf and NaN
/// log-probabilities never extend. Why per hypothesis: a pair among a sentence's best `keep`
/// has fewer than `keep` pairs ranked above it at all, so it is among its own hypothesis' best
/// `keep`; ranking the union of every hypothesis' best `keep` gives the same pairs in the same
/// order as ranking all beam x V pairs, and most tokens leave after one comparison.
template <class T>
std::size_t best_extensions(const T* x, std::size_t V, double lse, double score, std::size_t hyp,
                            allowed_tokens allowed, std::size_t keep, beam_candidate* top) noexcept {
  constexpr double ninf = -std::numeric_limits<double>::infinity();
  std::size_t size = 0;  // top [0, size): sorted
  double bar = ninf;     // once top is full, its last score: lower never enters
  const auto offer = [&](std::size_t v) {
    const double lprob = static_cast<double>(x[v]) - lse;
    if (score + lprob < bar || !(lprob > ninf)) return;  // -inf and NaN never extend
    const beam_candidate c{score + lprob, hyp, static_cast<int>(v), static_cast<float>(lprob)};
    if (size == keep && !ranks_before(c, top[size - 1])) return;
    std::size_t at = size == keep ? size - 1 : size++;  // the last one drops out when full
    for (; at > 0 && ranks_before(c, top[at - 1]); --at) top[at] = top[at - 1];
    top[at] = c;
    if (size == keep) bar = top[size - 1].score;
  };
  if (keep == 0) return 0;
  const auto pad = static_cast<std::size_t>(special_tokens::pad), eos = static_cast<std::size_t>(special_tokens::eos);
  if (allowed == allowed_tokens::only_eos) {
    if (eos < V) offer(eos);
    return size;
  }
  for (std::size_t v = 0; v < V; ++v)
    if (v != pad && (v != eos || allowed == allowed_tokens::all)) offer(v);
  return size;
}

}  // namespace hat::detail
