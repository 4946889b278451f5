// SPDX-License-Identifier: MIT
// Text in, text out: encode with the subword model, beam search in length-sorted batches (as
// fairseq-generate), decode. What `hat translate`, `hat test` and the pipeline share.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include <hat/backend/concepts.hpp>
#include <hat/config.hpp>
#include <hat/data/fairseq_text.hpp>
#include <hat/data/subword_model.hpp>
#include <hat/decode/beam_search.hpp>
#include <hat/nn/super_transformer.hpp>
#include <hat/data/token_batch.hpp>
#include <hat/dist/communicator.hpp>
#include <hat/nn/transformer_config.hpp>

namespace hat {

struct translate_options {
  generation_options generation;
  std::size_t batch_sentences = 32;
  /// Source sentences longer than this many subwords (with </s>) are cut to it: the position
  /// table bounds what the encoder can read. 0: the model's position count.
  std::size_t max_source_tokens = 0;
  /// Called after each batch with (sentences done, total); on several ranks, of this rank's share.
  std::function<void(std::size_t, std::size_t)> progress;
  /// The ranks that share the batches (collective; null: this process alone): rank r translates
  /// batches r, r + n, ... of the ones a single process makes, and every rank gets every
  /// translation, so the result is a single process's, token for token.
  communicator* comm = nullptr;
};

/// The best hypothesis of beam search for each source (ids ending in </s>, as a subword model or
/// fairseq's binarized data give them; an empty one gives an empty result), in input order.
/// Sources are batched by length; one longer than the position table allows is cut to it.
template <class M, backend_policy Backend, class T>
std::vector<std::vector<int>> translate_ids(Backend& be, const super_transformer<M, Backend, T>& model, const transformer_config& c,
                                            std::vector<std::vector<int>> ids, const translate_options& o = {}) {
  if (o.batch_sentences == 0) throw config_error("translate: batch_sentences must be positive");
  const std::size_t max_src = o.max_source_tokens ? std::min(o.max_source_tokens, M::positions) : M::positions;
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i].empty()) continue;
    if (ids[i].size() > max_src) {
      ids[i].resize(max_src - 1);
      ids[i].push_back(special_tokens::eos);
    }
    order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return ids[a].size() < ids[b].size(); });
  std::vector<std::vector<int>> out(ids.size());
  model_workspace<Backend, T> ws;
  beam_search_buffers<M, Backend, T> buffers;  // kept across batches: no fresh pages per batch
  const std::size_t ranks = o.comm ? o.comm->size() : 1, rank = o.comm ? o.comm->rank() : 0;
  const std::size_t step = o.batch_sentences * ranks;
  std::size_t share = 0, done = 0;  // this rank's sentences
  for (std::size_t b = rank * o.batch_sentences; b < order.size(); b += step) share += std::min(order.size() - b, o.batch_sentences);
  // This rank's batches, longest sources first: the buffers grow for the first (and, when it is
  // a partial batch, once more for the next), then the rest reuse them (shortest first, every
  // batch grew them again).
  std::vector<std::size_t> starts;
  for (std::size_t b = rank * o.batch_sentences; b < order.size(); b += step) starts.push_back(b);
  on_every_rank(o.comm ? *o.comm : this_process_alone(), [&] {
    for (auto it = starts.rbegin(); it != starts.rend(); ++it) {
      const std::size_t b = *it, end = std::min(order.size(), b + o.batch_sentences);
      std::vector<std::vector<int>> rows;
      for (std::size_t k = b; k < end; ++k) rows.push_back(ids[order[k]]);
      const auto found = beam_search(be, model, c, token_batch::pad(rows, true), o.generation, ws, buffers);
      // (no hypothesis: every row of the sentence had non-finite logits; it translates to nothing)
      for (std::size_t k = 0; k < rows.size(); ++k)
        if (!found[k].empty()) out[order[b + k]] = found[k].front().tokens;
      done += rows.size();
      if (o.progress) o.progress(done, share);
    }
  });
  if (ranks == 1) return out;
  // Every rank's translations to every rank: "<sentence> <length> <ids...>" as 32-bit integers.
  std::string mine;
  const auto put = [&](std::uint32_t v) { mine.append(reinterpret_cast<const char*>(&v), sizeof v); };
  for (std::size_t b = rank * o.batch_sentences; b < order.size(); b += step)
    for (std::size_t k = b; k < std::min(order.size(), b + o.batch_sentences); ++k) {
      const auto& t = out[order[k]];
      put(static_cast<std::uint32_t>(order[k]));
      put(static_cast<std::uint32_t>(t.size()));
      for (int id : t) put(static_cast<std::uint32_t>(id));
    }
  for (const std::string& theirs : o.comm->gather(mine)) {
    std::size_t at = 0;
    const auto get = [&] {
      std::uint32_t v = 0;
      std::memcpy(&v, theirs.data() + at, sizeof v);
      at += sizeof v;
      return v;
    };
    while (at < theirs.size()) {
      const std::size_t i = get(), n = get();
      std::vector<int> t(n);
      for (auto& id : t) id = static_cast<int>(get());
      out[i] = std::move(t);
    }
  }
  return out;
}

/// Translations of `sources` (one sentence each) by SubTransformer `c` of `model`, in input
/// order. An empty source line gives an empty translation.
template <class M, backend_policy Backend, class T>
std::vector<std::string> translate(Backend& be, const super_transformer<M, Backend, T>& model, const transformer_config& c,
                                   const subword_model& subwords, const std::vector<std::string>& sources,
                                   const translate_options& o = {}) {
  std::vector<std::vector<int>> ids(sources.size());
  for (std::size_t i = 0; i < sources.size(); ++i) {
    ids[i] = subwords.encode(sources[i]);
    if (!ids[i].empty()) ids[i].push_back(special_tokens::eos);
  }
  const auto found = translate_ids(be, model, c, std::move(ids), o);
  std::vector<std::string> out(sources.size());
  for (std::size_t i = 0; i < sources.size(); ++i)
    if (!found[i].empty()) out[i] = subwords.decode(found[i]);
  return out;
}

/// translate() for a model HAT's fairseq trained: its dictionaries and BPE codes read the text
/// (fairseq-interactive's way, see fairseq_text).
template <class M, backend_policy Backend, class T>
std::vector<std::string> translate(Backend& be, const super_transformer<M, Backend, T>& model, const transformer_config& c,
                                   const fairseq_text& text, const std::vector<std::string>& sources, const translate_options& o = {}) {
  std::vector<std::vector<int>> ids(sources.size());
  for (std::size_t i = 0; i < sources.size(); ++i) ids[i] = text.encode(sources[i]);
  const auto found = translate_ids(be, model, c, std::move(ids), o);
  std::vector<std::string> out(sources.size());
  for (std::size_t i = 0; i < sources.size(); ++i)
    if (!found[i].empty()) out[i] = text.decode(found[i]);
  return out;
}

}  // namespace hat
