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
#include <hat/decode/beam_candidates.hpp>
#include <hat/decode/incremental_decoder.hpp>
#include <hat/nn/scratch.hpp>

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

/// What beam_search allocates besides the model's workspace: the encoder's outputs, the
/// decoder's caches and the logits. A caller that decodes batch after batch (translate_ids)
/// keeps one, so each batch reuses that memory (it grows, never shrinks) instead of allocating,
/// faulting in and zeroing tens of megabytes of fresh pages. One caller and one backend object
/// (one device) use a set of buffers; results do not depend on what a previous call left there.
template <class M, backend_policy Backend, class T = float>
struct beam_search_buffers {
  encoder_output<Backend, T> enc;
  incremental_decoder<M, Backend, T> dec;
  typename Backend::template buffer<T> logits_dev;  // [hypotheses, V] and more
  std::vector<T> logits;                            // the same, downloaded
};

/// Beam search over a batch of sources, as fairseq's SequenceGenerator does it: at each step
/// every live hypothesis' log-softmax (pad forbidden; only </s> at the maximum length) is added
/// to its score; the best 2 x beam (hypothesis, token) pairs of each sentence are ranked; those
/// among the first `beam` that end in </s> are finished with score / (step + 1)^lenpen, and the
/// best `beam` that do not continue. A sentence is done when it has `beam` finished
/// hypotheses. At step 0 only the first hypothesis of each beam is expanded (they are equal).
/// Returns, per sentence, its finished hypotheses best first: none where every row of the
/// sentence had non-finite logits (a NaN or +inf log-sum-exp: such a row extends nothing).
template <class M, backend_policy Backend, class T>
std::vector<std::vector<hypothesis>> beam_search(Backend& be, const super_transformer<M, Backend, T>& model,
                                                 const transformer_config& c, const token_batch& src,
                                                 const generation_options& opt, model_workspace<Backend, T>& ws,
                                                 beam_search_buffers<M, Backend, T>& buffers) {
  HAT_ASSERT(opt.beam > 0, "beam_search: beam must be at least 1");
  const std::size_t bsz = src.rows, beam = opt.beam, n = bsz * beam, V = model.vocabulary().target;
  // fairseq: the padded source length, and never past the position table.
  const std::size_t max_len = std::min(static_cast<std::size_t>(opt.max_len_a * static_cast<double>(src.cols)) + opt.max_len_b,
                                       M::positions - 1);
  encoder_output<Backend, T>& enc = buffers.enc;
  model.encode(be, c, src, enc, ws);
  incremental_decoder<M, Backend, T>& dec = buffers.dec;
  dec.begin(be, model, c, enc, beam, max_len + 1);

  constexpr double ninf = -std::numeric_limits<double>::infinity();
  std::vector<std::vector<int>> tokens(n);          // tokens so far (without the leading </s>)
  std::vector<std::vector<float>> pos_scores(n);    // per-token log-probs
  std::vector<double> scores(n, 0.0);               // cumulative
  std::vector<std::vector<hypothesis>> finished(bsz);
  std::vector<bool> done(bsz, false);
  std::vector<int> input(n, special_tokens::eos);
  T* const logits_dev = detail::reserve<Backend, T>(buffers.logits_dev, n * V);
  std::vector<T>& logits = buffers.logits;
  if (logits.size() < n * V) logits.resize(n * V);
  const std::size_t keep = 2 * beam, per_row = std::min(keep, V);  // no row has more than V
  std::vector<detail::beam_candidate> cands, tops(n * per_row);     // tops: each row's best per_row
  std::vector<std::size_t> top_count(n);
  cands.reserve(beam * per_row);

  for (std::size_t step = 0; step <= max_len; ++step) {
    dec.step(be, input, dense(logits_dev, n, V));
    be.download(static_cast<const T*>(logits_dev), n * V, logits.data());
    std::vector<int> parents(n), next(n, special_tokens::pad);
    std::vector<std::vector<int>> next_tokens(n);
    std::vector<std::vector<float>> next_pos(n);
    std::vector<double> next_scores(n, ninf);
    // Each live hypothesis' best `keep` extensions, rows split over the backend's host threads
    // (each row whole on one thread: the same results on any count). At step 0 only the first
    // hypothesis of each beam extends (they are equal).
    const detail::allowed_tokens allowed = step >= max_len      ? detail::allowed_tokens::only_eos
                                           : step < opt.min_len ? detail::allowed_tokens::not_eos
                                                                : detail::allowed_tokens::all;
    host_parts(be, n, [&](std::size_t h0, std::size_t h1) {
      for (std::size_t h = h0; h < h1; ++h) {
        top_count[h] = 0;
        if (done[h / beam] || scores[h] == ninf || (step == 0 && h % beam != 0)) continue;
        const T* x = logits.data() + h * V;
        top_count[h] = detail::best_extensions(x, V, detail::log_sum_exp(x, V), scores[h], h, allowed, per_row,
                                               tops.data() + h * per_row);
      }
    });
    for (std::size_t s = 0; s < bsz; ++s) {
      for (std::size_t k = 0; k < beam; ++k) parents[s * beam + k] = static_cast<int>(s * beam + k);
      if (done[s]) continue;
      // The best `keep` of the sentence's hypotheses' best (the same pairs in the same order as
      // ranking all beam x V: detail::best_extensions).
      cands.clear();
      for (std::size_t k = 0; k < beam; ++k) {
        const std::size_t h = s * beam + k;
        cands.insert(cands.end(), tops.begin() + static_cast<std::ptrdiff_t>(h * per_row),
                     tops.begin() + static_cast<std::ptrdiff_t>(h * per_row + top_count[h]));
      }
      std::sort(cands.begin(), cands.end(), detail::ranks_before);
      if (cands.size() > keep) cands.resize(keep);
      // Finish the </s> candidates among the first `beam` (all of them at the maximum length).
      for (std::size_t i = 0; i < std::min(beam, cands.size()) && finished[s].size() < beam; ++i) {
        const detail::beam_candidate& cd = cands[i];
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
      for (const detail::beam_candidate& cd : cands) {
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

/// beam_search with buffers of its own, allocated for this batch.
template <class M, backend_policy Backend, class T>
std::vector<std::vector<hypothesis>> beam_search(Backend& be, const super_transformer<M, Backend, T>& model,
                                                 const transformer_config& c, const token_batch& src,
                                                 const generation_options& opt, model_workspace<Backend, T>& ws) {
  beam_search_buffers<M, Backend, T> buffers;
  return beam_search(be, model, c, src, opt, ws, buffers);
}

}  // namespace hat
