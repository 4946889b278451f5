// SPDX-License-Identifier: MIT
// The SuperTransformer against an independent PyTorch transcription of HAT's transformer_super.py
// (tests/reference/make_fixtures.py): logits, label-smoothed loss, and incremental decoding.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/decode/incremental_decoder.hpp>
#include <hat/nn/super_transformer.hpp>

#include "parity_fixture.hpp"

namespace {

using namespace hat_test;

template <class Model = model_t>
void check_fixture(const std::string& file) {
  hat::cpu be;
  const fixture fx = load(file);
  REQUIRE(fx.cases.size() == 6);
  Model model(be, fx.vocab);
  fill(be, model, fx);
  hat::encoder_output<hat::cpu> enc;
  for (const auto& c : fx.cases) {
    INFO(file << ": " << c.name);
    hat::loss_sums sums;
    CHECK(worst_logit_error(be, model, fx, c, &sums, &enc) <= 1e-4);
    const std::size_t V = fx.vocab.target;
    CHECK(sums.tokens == c.tokens);
    CHECK(sums.loss == Approx(c.loss).epsilon(1e-5));
    CHECK(sums.nll == Approx(c.nll).epsilon(1e-5));

    // Incremental decoding reproduces the teacher-forced logits step by step, every sentence
    // in one batch, each repeated as a beam of 2 hypotheses.
    const hat::token_batch prev = c.tgt.shifted_right();
    hat::incremental_decoder<typename Model::maxima, hat::cpu> dec;
    const std::size_t group = 2, n = c.src.rows * group;
    dec.begin(be, model, c.config, enc, group, c.tgt.cols);
    std::vector<float> step_logits(n * V);
    double step_worst = 0;
    for (std::size_t t = 0; t < c.tgt.cols; ++t) {
      std::vector<int> tokens(n);
      for (std::size_t i = 0; i < n; ++i) {
        const int tok = prev.at(i / group, t);
        tokens[i] = tok == hat::special_tokens::pad ? 4 : tok;  // past a sentence's end: any token
      }
      dec.step(be, tokens, hat::dense(step_logits.data(), n, V));
      if (t % 2 == 1) {  // reordering within a beam of identical hypotheses changes nothing
        std::vector<int> parents(n);
        for (std::size_t i = 0; i < n; ++i) parents[i] = static_cast<int>(i ^ 1u);
        dec.reorder(be, parents);
      }
      for (std::size_t i = 0; i < n; ++i) {
        if (c.tgt.at(i / group, t) == hat::special_tokens::pad) continue;
        for (std::size_t v = 0; v < V; ++v)
          step_worst = std::max(step_worst, std::abs(double(step_logits[i * V + v]) -
                                                         c.logits[((i / group) * c.tgt.cols + t) * V + v]));
      }
    }
    CHECK(step_worst <= 1e-4);
  }
}

}  // namespace

TEST_CASE("super_transformer: logits and loss match PyTorch (shared vocabulary)", "[nn][cpu][parity]") {
  check_fixture("parity_shared.txt");
}

TEST_CASE("super_transformer: logits and loss match PyTorch (separate tables, embed_out)", "[nn][cpu][parity]") {
  check_fixture("parity_separate.txt");
}

TEST_CASE("super_transformer: weights stored in column panels give the same logits", "[nn][cpu][parity]") {
  check_fixture<paneled_model_t>("parity_shared.txt");
  check_fixture<paneled_model_t>("parity_separate.txt");
  hat::cpu be;
  const paneled_model_t m(be, {24, 24, hat::embedding_sharing::all});
  CHECK(m.parameter("encoder.embed_tokens.weight").panels == std::vector<std::size_t>{8, 12, 16});
  CHECK(m.parameter("decoder.layers.0.fc2.weight").panels == std::vector<std::size_t>{8, 12, 16, 24});
  CHECK(m.parameter("encoder.layers.0.fc2.weight").panels == std::vector<std::size_t>{8, 16, 32});
  CHECK(m.parameter("encoder.layers.0.self_attn.out_proj.weight").panels.empty());  // reads all qkv columns
}
