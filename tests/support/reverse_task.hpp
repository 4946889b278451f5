// SPDX-License-Identifier: MIT
// The trainer tests' task and space: reversing short id sequences (needs attention, learnable by
// a tiny SuperTransformer in a few hundred updates).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <hat/data/parallel_corpus.hpp>
#include <hat/space/choice.hpp>
#include <hat/space/random.hpp>
#include <hat/space/space.hpp>
#include <hat/train/options.hpp>

namespace hat_test {

using reverse_space = hat::space<
    hat::choice<"encoder_embed_dim", 16, 12>, hat::choice<"encoder_layer_num", 2>,
    hat::per_layer<2, hat::choice<"encoder_ffn_embed_dim", 32, 16>>,
    hat::per_layer<2, hat::choice<"encoder_self_attention_heads", 4, 2>>, hat::choice<"decoder_embed_dim", 16, 12>,
    hat::choice<"decoder_layer_num", 2, 1>, hat::per_layer<2, hat::choice<"decoder_ffn_embed_dim", 32, 16>>,
    hat::per_layer<2, hat::choice<"decoder_self_attention_heads", 4, 2>>,
    hat::per_layer<2, hat::choice<"decoder_ende_attention_heads", 4, 2>>,
    hat::per_layer<2, hat::choice<"decoder_arbitrary_ende_attn", -1, 1>>, hat::fixed<"qkv_dim", 16>>;
inline constexpr std::size_t reverse_vocab = 20;

/// `n` pairs: a random sequence of ids 4..19 (2-6 long) and the same reversed, each ending in eos.
inline hat::parallel_corpus reverse_task(std::size_t n, std::uint64_t seed) {
  hat::parallel_corpus c;
  hat::rng g(seed);
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<int> s;
    for (std::size_t k = 0, len = 2 + g.below(5); k < len; ++k) s.push_back(4 + static_cast<int>(g.below(reverse_vocab - 4)));
    std::vector<int> t(s.rbegin(), s.rend());
    s.push_back(hat::special_tokens::eos);
    t.push_back(hat::special_tokens::eos);
    c.source.push_back(s);
    c.target.push_back(t);
  }
  return c;
}

/// The data-parallel tests' training: `updates` updates of update_freq F, batches of 48 tokens, dropout on.
inline hat::trainer_options reverse_options(std::size_t F, std::size_t updates) {
  hat::trainer_options o;
  o.max_update = updates;
  o.schedule = hat::inverse_sqrt_schedule{3e-3, 1e-7, 20};
  o.batching.max_tokens = 48;
  o.dropout = {0.1, 0.1, 0.0, true, true};
  o.update_freq = F;
  return o;
}

}  // namespace hat_test
