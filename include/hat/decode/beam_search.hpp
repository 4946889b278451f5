// SPDX-License-Identifier: MIT
// beam_search: fairseq's SequenceGenerator (beam, length penalty, max length a*src+b, EOS) on the incremental decoder.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include <hat/backend/concepts.hpp>
#include <hat/config.hpp>
#include <hat/decode/incremental_decoder.hpp>

namespace hat {

/// fairseq's generation options (HAT's test.sh: WMT beam 4 lenpen 0.6; IWSLT beam 5 lenpen 1).
/// Beam 1 is greedy decoding.
struct generation_options {
  std::size_t beam = 5;
  double lenpen = 1.0;      // final score = sum of log-probs / length^lenpen
  double max_len_a = 0.0;   // at most a * source length + b target tokens (with </s>)
  std::size_t max_len_b = 200;
  std::size_t min_len = 1;  // </s> is forbidden before this many tokens
};

/// One finished translation: target tokens ending with </s>, its normalised score and the
/// log-probability of each token.
struct hypothesis {
  std::vector<int> tokens;
  double score = 0;
  std::vector<float> positional_scores;
};

/// Beam search over a batch of sources, as fairseq's SequenceGenerator does it: at each step
/// every live hypothesis' log-softmax (pad forbidden; only </s> at the maximum length) is added
/// to its score; the best 2 x beam (hypothesis, token) pairs of each sentence are ranked; those
/// among the first `beam` that end in </s> are finished with score / (step + 1)^lenpen, and the
/// best `beam` that do not continue. A sentence is done when it has `beam` finished
/// hypotheses. At step 0 only the first hypothesis of each beam is expanded (they are equal).
/// Returns, per sentence, its finished hypotheses best first.
template <class M, backend_policy Backend, class T>
std::vector<std::vector<hypothesis>> beam_search(Backend& be, const super_transformer<M, Backend, T>& model,
                                                 const transformer_config& c, const token_batch& src,
                                                 const generation_options& opt, model_workspace<Backend, T>& ws) {
  HAT_ASSERT(opt.beam > 0, "beam_search: beam must be at least 1");
  const std::size_t bsz = src.rows, beam = opt.beam, n = bsz * beam, V = model.vocabulary().target;
  // fairseq: the padded source length, and never past the position table.
  const std::size_t max_len = std::min(static_cast<std::size_t>(opt.max_len_a * static_cast<double>(src.cols)) + opt.max_len_b,
                                       M::positions - 1);
  encoder_output<Backend, T> enc;
  model.encode(be, c, src, enc, ws);
  incremental_decoder<M, Backend, T> dec;
  dec.begin(be, model, c, enc, beam, max_len + 1);

  constexpr double ninf = -std::numeric_limits<double>::infinity();
  std::vector<std::vector<int>> tokens(n);          // tokens so far (without the leading </s>)
  std::vector<std::vector<float>> pos_scores(n);    // per-token log-probs
  std::vector<double> scores(n, 0.0);               // cumulative
  std::vector<std::vector<hypothesis>> finished(bsz);
  std::vector<bool> done(bsz, false);
  std::vector<int> input(n, special_tokens::eos);
  typename Backend::template buffer<T> logits_dev(n * V);
  std::vector<T> logits(n * V);
  std::vector<double> lprobs(V);
  struct candidate {
    double score;
    std::size_t hyp;
    int token;
    float lprob;
  };
  std::vector<candidate> cands;

  for (std::size_t step = 0; step <= max_len; ++step) {
    dec.step(be, input, dense(logits_dev.data(), n, V));
    be.download(logits_dev.data(), n * V, logits.data());
    std::vector<int> parents(n), next(n, special_tokens::pad);
    std::vector<std::vector<int>> next_tokens(n);
    std::vector<std::vector<float>> next_pos(n);
    std::vector<double> next_scores(n, ninf);
    for (std::size_t s = 0; s < bsz; ++s) {
      for (std::size_t k = 0; k < beam; ++k) parents[s * beam + k] = static_cast<int>(s * beam + k);
      if (done[s]) continue;
      cands.clear();
      for (std::size_t k = 0; k < (step == 0 ? 1 : beam); ++k) {
        const std::size_t h = s * beam + k;
        if (scores[h] == ninf) continue;
        const T* x = logits.data() + h * V;
        double mx = ninf, sum = 0;
        for (std::size_t v = 0; v < V; ++v) mx = std::max(mx, static_cast<double>(x[v]));
        for (std::size_t v = 0; v < V; ++v) sum += std::exp(static_cast<double>(x[v]) - mx);
        const double lse = mx + std::log(sum);
        for (std::size_t v = 0; v < V; ++v) lprobs[v] = static_cast<double>(x[v]) - lse;
        lprobs[special_tokens::pad] = ninf;
        if (step >= max_len) {
          for (std::size_t v = 0; v < V; ++v)
            if (v != special_tokens::eos) lprobs[v] = ninf;
        } else if (step < opt.min_len) {
          lprobs[special_tokens::eos] = ninf;
        }
        for (std::size_t v = 0; v < V; ++v)
          if (lprobs[v] != ninf)
            cands.push_back({scores[h] + lprobs[v], h, static_cast<int>(v), static_cast<float>(lprobs[v])});
      }
      const std::size_t keep = std::min(cands.size(), 2 * beam);
      const auto better = [](const candidate& a, const candidate& b) {
        return a.score != b.score ? a.score > b.score : (a.hyp != b.hyp ? a.hyp < b.hyp : a.token < b.token);
      };
      std::partial_sort(cands.begin(), cands.begin() + static_cast<std::ptrdiff_t>(keep), cands.end(), better);
      cands.resize(keep);
      // Finish the </s> candidates among the first `beam` (all of them at the maximum length).
      for (std::size_t i = 0; i < std::min(beam, cands.size()) && finished[s].size() < beam; ++i) {
        const candidate& cd = cands[i];
        if (cd.token != special_tokens::eos) continue;
        hypothesis hyp;
        hyp.tokens = tokens[cd.hyp];
        hyp.tokens.push_back(special_tokens::eos);
        hyp.positional_scores = pos_scores[cd.hyp];
        hyp.positional_scores.push_back(cd.lprob);
        hyp.score = cd.score / std::pow(static_cast<double>(step + 1), opt.lenpen);
        finished[s].push_back(std::move(hyp));
      }
      if (finished[s].size() >= beam || step >= max_len) {
        done[s] = true;
        continue;
      }
      // The best `beam` candidates that do not end the sentence continue.
      std::size_t k = 0;
      for (const candidate& cd : cands) {
        if (k == beam) break;
        if (cd.token == special_tokens::eos) continue;
        const std::size_t h = s * beam + k++;
        parents[h] = static_cast<int>(cd.hyp);
        next[h] = cd.token;
        next_tokens[h] = tokens[cd.hyp];
        next_tokens[h].push_back(cd.token);
        next_pos[h] = pos_scores[cd.hyp];
        next_pos[h].push_back(cd.lprob);
        next_scores[h] = cd.score;
      }
    }
    if (std::all_of(done.begin(), done.end(), [](bool d) { return d; })) break;
    for (std::size_t h = 0; h < n; ++h) {
      // Hypotheses of finished sentences keep decoding a harmless token, unused.
      input[h] = next[h] == special_tokens::pad ? special_tokens::eos : next[h];
      tokens[h] = std::move(next_tokens[h]);
      pos_scores[h] = std::move(next_pos[h]);
      scores[h] = next_scores[h];
    }
    dec.reorder(be, parents);
  }
  for (auto& f : finished)
    std::stable_sort(f.begin(), f.end(), [](const hypothesis& a, const hypothesis& b) { return a.score > b.score; });
  return finished;
}

}  // namespace hat
