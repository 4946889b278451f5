// SPDX-License-Identifier: MIT
// parallel_corpus: sentence pairs as fairseq's ids (each side ending in </s>), and batches of them by token count.
#pragma once

#include <algorithm>  // std::stable_sort, std::max
#include <cstddef>
#include <cstdint>
#include <numeric>  // std::iota
#include <utility>
#include <vector>

#include <hat/config.hpp>
#include <hat/data/token_batch.hpp>
#include <hat/space/random.hpp>

namespace hat {

/// Pairs of id sequences, each ending in </s> as fairseq's binarised data does.
struct parallel_corpus {
  std::vector<std::vector<int>> source, target;

  std::size_t size() const noexcept { return source.size(); }
  /// Target tokens (with </s>): what fairseq's loss is normalised by.
  std::size_t target_tokens() const noexcept {
    std::size_t n = 0;
    for (const auto& t : target) n += t.size();
    return n;
  }
};

/// One batch: the indices of its pairs and the padded tensors (source left-padded as fairseq's
/// left_pad_source, target right-padded).
struct corpus_batch {
  std::vector<std::size_t> items;
  token_batch source, target;
  std::size_t target_tokens = 0;
};

inline corpus_batch make_batch(const parallel_corpus& c, std::vector<std::size_t> items) {
  HAT_ASSERT(!items.empty(), "make_batch: no pairs");
  std::vector<std::vector<int>> src, tgt;
  corpus_batch b;
  for (std::size_t i : items) {
    src.push_back(c.source.at(i));
    tgt.push_back(c.target.at(i));
    b.target_tokens += c.target[i].size();
  }
  b.items = std::move(items);
  b.source = token_batch::pad(src, true);
  b.target = token_batch::pad(tgt, false);
  return b;
}

/// How a corpus is cut into batches (fairseq's batch_by_size).
struct batching_options {
  std::size_t max_tokens = 4096;  // padded tokens of the longer side per batch
  bool shuffle = true;            // training: random order among equal lengths, batches shuffled per epoch
  std::uint64_t seed = 1;
};

/// The batches of one epoch, as index lists. Pairs are sorted by source then target length
/// (ties in a seeded random order when shuffling), cut greedily so that batch size x longest
/// pair <= max_tokens, and with shuffling the batch order is permuted by (seed, epoch): the
/// same seed and epoch give the same batches, which is what makes a run resumable from
/// (epoch, batch index). A pair longer than max_tokens is a batch of its own.
inline std::vector<std::vector<std::size_t>> epoch_batches(const parallel_corpus& c, const batching_options& o,
                                                           std::size_t epoch) {
  HAT_ASSERT(o.max_tokens > 0, "epoch_batches: max_tokens must be positive");
  std::vector<std::size_t> order(c.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  if (o.shuffle) {
    rng g(o.seed);
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[g.below(i)]);
  }
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return c.target[a].size() < c.target[b].size(); });
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return c.source[a].size() < c.source[b].size(); });
  std::vector<std::vector<std::size_t>> batches;
  std::vector<std::size_t> cur;
  std::size_t longest = 0;
  for (std::size_t i : order) {
    const std::size_t len = std::max(c.source[i].size(), c.target[i].size());
    if (!cur.empty() && (cur.size() + 1) * std::max(longest, len) > o.max_tokens) {
      batches.push_back(std::move(cur));
      cur.clear();
      longest = 0;
    }
    cur.push_back(i);
    longest = std::max(longest, len);
  }
  if (!cur.empty()) batches.push_back(std::move(cur));
  if (o.shuffle) {
    rng g(o.seed ^ (0x9E3779B97F4A7C15ull * (epoch + 1)));
    for (std::size_t i = batches.size(); i > 1; --i) std::swap(batches[i - 1], batches[g.below(i)]);
  }
  return batches;
}

}  // namespace hat
