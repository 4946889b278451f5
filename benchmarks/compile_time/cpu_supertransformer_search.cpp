// SPDX-License-Identifier: MIT
// A user's translation unit as the compile-time budget counts it (scripts/compile-times): the CPU
// backend, a SuperTransformer of HAT's WMT space and HAT's evolutionary search with the
// SuperTransformer's validation loss as fitness. It also runs, on a random model and one batch.
#include <hat/backend/cpu.hpp>
#include <hat/nn/super_transformer.hpp>
#include <hat/search/evolution.hpp>
#include <hat/space/hat_spaces.hpp>
#include <cmath>
#include <iostream>

using space = hat::hat_wmt_space;
using model_t = hat::super_transformer_for<space, hat::cpu>;

int main() {
  hat::cpu be;
  model_t super(be, {64, 64, hat::embedding_sharing::all});  // a 64-word vocabulary keeps it quick
  super.init_hat(be, /*seed=*/1);
  const auto src = hat::token_batch::pad({{5, 9, 7, 11, hat::special_tokens::eos}}, /*left=*/true);
  const auto tgt = hat::token_batch::pad({{6, 10, 4, hat::special_tokens::eos}}, false);
  hat::model_workspace<hat::cpu> ws;
  hat::encoder_output<hat::cpu> enc;
  hat::cpu::buffer<float> logits;
  const auto valid_loss = [&](const hat::arch<space>& a) {
    const auto s = super.loss(be, hat::config_of(a), src, tgt, /*eps=*/0.1, ws, logits, enc);
    return s.loss / static_cast<double>(s.tokens) / std::log(2.0);
  };
  const hat::evolution<space> search{{.iterations = 2, .population = 8, .parents = 2, .mutations = 3,
                                      .crossovers = 3, .mutation_prob = 0.3, .seed = 1}};
  const auto found = search.run(valid_loss, hat::unconstrained{});
  std::cout << "best of " << found.evaluations << ": " << found.best << " (" << found.best_fitness << " bits)\n";
  return std::isfinite(found.best_fitness) ? 0 : 1;
}
