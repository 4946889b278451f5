// SPDX-License-Identifier: MIT
// measure_latency: HAT's latency protocol (latency_dataset.py, fairseq/utils.py measure_latency) on any
// backend.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <vector>

#include <hat/backend/concepts.hpp>
#include <hat/config.hpp>
#include <hat/decode/incremental_decoder.hpp>
#include <hat/latency/stats.hpp>

namespace hat {

namespace detail {
/// Milliseconds of f's work: the backend's device timer where it has one (hat::cuda: CUDA
/// events, HAT's GPU protocol), else the wall clock from a synchronised start to a
/// synchronised end (HAT's CPU protocol).
template <backend_policy Backend, class F>
double timed_ms(Backend& be, F&& f) {
  if constexpr (requires { be.elapsed_ms(f); }) {
    return be.elapsed_ms(f);
  } else {
    using clock = std::chrono::steady_clock;
    be.synchronize();
    const auto t0 = clock::now();
    f();
    be.synchronize();
    return std::chrono::duration<double, std::milli>(clock::now() - t0).count();
  }
}
}  // namespace detail

/// HAT's latency of SubTransformer `c` on `model` (latency_dataset.py's protocol): batch 1, source
/// [</s>, 7, 7, ...] of source_length tokens; the encoder timed per forward; the decoder timed
/// per loop of source_length incremental steps over `beam` rows fed [7, ..., 7, </s>], each
/// step including the vocabulary projection (and the first one the encoder-decoder K/V),
/// without softmax or beam bookkeeping. Warm-up: `warmup` encoder forwards, then `warmup`
/// full-prefix (teacher-forced) decoder forwards. Timed by detail::timed_ms.
template <class M, backend_policy Backend, class T>
latency_result measure_latency(Backend& be, const super_transformer<M, Backend, T>& model, const transformer_config& c,
                               const latency_options& o) {
  HAT_ASSERT(o.source_length > 0 && o.beam > 0 && o.iters > 0, "measure_latency: lengths and counts must be positive");
  constexpr int word = 7;
  const std::size_t L = o.source_length, V = model.vocabulary().target;
  token_batch src{std::vector<int>(L, word), 1, L};
  src.tokens[0] = special_tokens::eos;
  std::vector<int> prefix(L, word);
  prefix[L - 1] = special_tokens::eos;

  model_workspace<Backend, T> ws;
  encoder_output<Backend, T> enc;
  for (std::size_t i = 0; i < o.warmup; ++i) model.encode(be, c, src, enc, ws);
  be.synchronize();
  std::vector<double> enc_ms;
  for (std::size_t i = 0; i < o.iters; ++i) enc_ms.push_back(detail::timed_ms(be, [&] { model.encode(be, c, src, enc, ws); }));

  // Warm-up: full-prefix forwards of the beam (HAT runs the decoder non-incrementally here).
  token_batch beam_src{std::vector<int>(o.beam * L), o.beam, L};
  for (std::size_t b = 0; b < o.beam; ++b) std::copy(src.tokens.begin(), src.tokens.end(), beam_src.tokens.begin() + b * L);
  token_batch prev{std::vector<int>(o.beam * L), o.beam, L};
  for (std::size_t b = 0; b < o.beam; ++b) std::copy(prefix.begin(), prefix.end(), prev.tokens.begin() + b * L);
  typename Backend::template buffer<T> logits(o.beam * L * V);
  {
    encoder_output<Backend, T> beam_enc;
    model.encode(be, c, beam_src, beam_enc, ws);
    for (std::size_t i = 0; i < o.warmup; ++i) model.decode(be, c, beam_enc, prev, dense(logits.data(), o.beam * L, V), ws);
  }
  incremental_decoder<M, Backend, T> dec;
  std::vector<double> dec_ms;
  std::vector<int> tokens(o.beam);
  for (std::size_t i = 0; i < o.iters; ++i)
    dec_ms.push_back(detail::timed_ms(be, [&] {
      dec.begin(be, model, c, enc, o.beam, L);
      for (std::size_t step = 0; step < L; ++step) {
        std::fill(tokens.begin(), tokens.end(), prefix[step]);
        dec.step(be, tokens, dense(logits.data(), o.beam, V));
      }
    }));
  return {trimmed_stats(enc_ms, o.trim), trimmed_stats(dec_ms, o.trim)};
}

}  // namespace hat
