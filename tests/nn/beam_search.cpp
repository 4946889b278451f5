// SPDX-License-Identifier: MIT
// beam_search: exhaustive on a tiny vocabulary, greedy at beam 1, scores rescored by teacher forcing.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/decode/beam_search.hpp>

#include "parity_fixture.hpp"

namespace {

using namespace hat_test;

// Log-probabilities of each sentence's tokens under teacher forcing (the reference scorer).
std::vector<std::vector<double>> rescore(hat::cpu& be, const model_t& model, const hat::transformer_config& c,
                                         const std::vector<int>& src, const std::vector<std::vector<int>>& targets) {
  const hat::token_batch s = hat::token_batch::pad(std::vector<std::vector<int>>(targets.size(), src), true);
  const hat::token_batch t = hat::token_batch::pad(targets, false);
  hat::model_workspace<hat::cpu> ws;
  hat::encoder_output<hat::cpu> enc;
  model.encode(be, c, s, enc, ws);
  const std::size_t V = model.vocabulary().target;
  std::vector<float> logits(t.rows * t.cols * V);
  model.decode(be, c, enc, t.shifted_right(), hat::dense(logits.data(), t.rows * t.cols, V), ws);
  std::vector<std::vector<double>> out(t.rows);
  for (std::size_t r = 0; r < t.rows; ++r)
    for (std::size_t i = 0; i < targets[r].size(); ++i) {
      const float* x = logits.data() + (r * t.cols + i) * V;
      double mx = -1e300, sum = 0;
      for (std::size_t v = 0; v < V; ++v) mx = std::max(mx, double(x[v]));
      for (std::size_t v = 0; v < V; ++v) sum += std::exp(double(x[v]) - mx);
      out[r].push_back(double(x[targets[r][i]]) - mx - std::log(sum));
    }
  return out;
}

}  // namespace

TEST_CASE("beam_search: a beam wider than the search space is exhaustive search", "[nn][cpu][beam]") {
  hat::cpu be;
  const fixture fx = load("parity_shared.txt");
  model_t model(be, fx.vocab);
  fill(be, model, fx);
  const auto& c = fx.cases.at(1).config;  // mixed dims, arbitrary attention
  const std::vector<int> src = {5, 9, 7, 11, 6, hat::special_tokens::eos};
  const double lenpen = GENERATE(0.6, 1.0);
  hat::generation_options opt;
  opt.beam = 600;
  opt.lenpen = lenpen;
  opt.max_len_b = 2;  // at most 2 tokens then </s>
  hat::model_workspace<hat::cpu> ws;
  const auto result = hat::beam_search(be, model, c, hat::token_batch::pad({src}, true), opt, ws);
  REQUIRE(result.size() == 1);

  // Every sequence t1 </s> and t1 t2 </s> (t != pad, </s>), scored by teacher forcing.
  std::vector<std::vector<int>> all;
  for (int a = 0; a < 24; ++a) {
    if (a == hat::special_tokens::pad || a == hat::special_tokens::eos) continue;
    all.push_back({a, hat::special_tokens::eos});
    for (int b = 0; b < 24; ++b)
      if (b != hat::special_tokens::pad && b != hat::special_tokens::eos) all.push_back({a, b, hat::special_tokens::eos});
  }
  const auto lp = rescore(be, model, c, src, all);
  std::vector<std::pair<double, std::size_t>> ranked;
  for (std::size_t i = 0; i < all.size(); ++i) {
    double sum = 0;
    for (double x : lp[i]) sum += x;
    ranked.emplace_back(sum / std::pow(double(all[i].size()), lenpen), i);
  }
  std::sort(ranked.rbegin(), ranked.rend());
  REQUIRE(result[0].size() == all.size());
  for (std::size_t i = 0; i < 20; ++i) {
    INFO("rank " << i);
    CHECK(result[0][i].tokens == all[ranked[i].second]);
    CHECK(result[0][i].score == Approx(ranked[i].first).epsilon(1e-5));
  }
}

TEST_CASE("beam_search: beam 1 is greedy decoding; scores are length-normalised sums", "[nn][cpu][beam]") {
  hat::cpu be;
  const fixture fx = load("parity_separate.txt");
  model_t model(be, fx.vocab);
  fill(be, model, fx);
  hat::model_workspace<hat::cpu> ws;
  for (const auto& pc : fx.cases) {
    INFO(pc.name);
    hat::generation_options opt;
    opt.beam = 1;
    opt.max_len_b = 6;
    const auto greedy = hat::beam_search(be, model, pc.config, pc.src, opt, ws);
    REQUIRE(greedy.size() == pc.src.rows);
    for (std::size_t s = 0; s < pc.src.rows; ++s) {
      // The reference: argmax of the teacher-forced distribution, one token at a time.
      std::vector<int> src(pc.src.row(s).begin(), pc.src.row(s).end());
      src.erase(std::remove(src.begin(), src.end(), hat::special_tokens::pad), src.end());
      std::vector<int> seq;
      for (std::size_t step = 0; step <= opt.max_len_b; ++step) {
        std::vector<int> probe = seq;
        probe.push_back(hat::special_tokens::eos);  // any last token: only earlier ones condition
        hat::model_workspace<hat::cpu> w2;
        hat::encoder_output<hat::cpu> enc;
        model.encode(be, pc.config, hat::token_batch::pad({src}, true), enc, w2);
        const std::size_t V = fx.vocab.target;
        std::vector<float> logits(probe.size() * V);
        model.decode(be, pc.config, enc, hat::token_batch::pad({probe}, false).shifted_right(),
                     hat::dense(logits.data(), probe.size(), V), w2);
        const float* x = logits.data() + seq.size() * V;
        int best = -1;
        for (std::size_t v = 0; v < V; ++v) {
          if (v == std::size_t(hat::special_tokens::pad) || (step == 0 && v == std::size_t(hat::special_tokens::eos)))
            continue;
          if (step == opt.max_len_b && v != std::size_t(hat::special_tokens::eos)) continue;
          if (best < 0 || x[v] > x[best]) best = int(v);
        }
        seq.push_back(best);
        if (best == hat::special_tokens::eos) break;
      }
      REQUIRE(greedy[s].size() == 1);
      CHECK(greedy[s][0].tokens == seq);
      CHECK(greedy[s][0].tokens.size() <= opt.max_len_b + 1);
      const auto lp = rescore(be, model, pc.config, src, {greedy[s][0].tokens});
      double sum = 0;
      for (std::size_t i = 0; i < lp[0].size(); ++i) {
        CHECK(greedy[s][0].positional_scores[i] == Approx(lp[0][i]).margin(1e-4));
        sum += lp[0][i];
      }
      CHECK(greedy[s][0].score == Approx(sum / double(lp[0].size())).margin(1e-4));
    }
  }
}

TEST_CASE("beam_search: batched sentences decode as they do alone; results sorted", "[nn][cpu][beam]") {
  hat::cpu be;
  const fixture fx = load("parity_shared.txt");
  model_t model(be, fx.vocab);
  fill(be, model, fx);
  const auto& pc = fx.cases.at(3);
  hat::generation_options opt;
  opt.beam = 4;
  opt.lenpen = 0.6;
  opt.max_len_b = 8;
  hat::model_workspace<hat::cpu> ws;
  const auto batched = hat::beam_search(be, model, pc.config, pc.src, opt, ws);
  // Two host threads rank the rows (hat::host_parts): the same hypotheses and scores, bit for bit.
  const auto two_threads = [&] {
    struct pool_guard {  // the worker pool only (OpenBLAS keeps its threads), restored after
      int before = hat::detail::worker_pool::instance().threads();
      pool_guard() { hat::detail::worker_pool::instance().set_threads(2); }
      ~pool_guard() { hat::detail::worker_pool::instance().set_threads(before); }
    } guard;
    return hat::beam_search(be, model, pc.config, pc.src, opt, ws);
  }();
  REQUIRE(two_threads.size() == batched.size());
  for (std::size_t s = 0; s < batched.size(); ++s) {
    REQUIRE(two_threads[s].size() == batched[s].size());
    for (std::size_t k = 0; k < batched[s].size(); ++k) {
      CHECK(two_threads[s][k].tokens == batched[s][k].tokens);
      CHECK(two_threads[s][k].score == batched[s][k].score);
      CHECK(two_threads[s][k].positional_scores == batched[s][k].positional_scores);
    }
  }
  for (std::size_t s = 0; s < pc.src.rows; ++s) {
    std::vector<int> src(pc.src.row(s).begin(), pc.src.row(s).end());
    src.erase(std::remove(src.begin(), src.end(), hat::special_tokens::pad), src.end());
    const auto alone = hat::beam_search(be, model, pc.config, hat::token_batch::pad({src}, true), opt, ws);
    REQUIRE(batched[s].size() == opt.beam);
    REQUIRE(alone[0].size() == opt.beam);
    for (std::size_t k = 0; k < opt.beam; ++k) {
      CHECK(batched[s][k].tokens == alone[0][k].tokens);
      CHECK(batched[s][k].score == Approx(alone[0][k].score).margin(1e-5));
      if (k > 0) CHECK(batched[s][k - 1].score >= batched[s][k].score);
      CHECK(batched[s][k].tokens.back() == hat::special_tokens::eos);
    }
  }
}

TEST_CASE("beam_search: buffers kept across batches of other shapes give fresh buffers' results",
          "[nn][cpu][beam]") {
  hat::cpu be;
  const fixture fx = load("parity_shared.txt");
  model_t model(be, fx.vocab);
  fill(be, model, fx);
  const auto& pc = fx.cases.at(3);
  const auto unpadded = [&](std::size_t s) {
    std::vector<int> r(pc.src.row(s).begin(), pc.src.row(s).end());
    r.erase(std::remove(r.begin(), r.end(), hat::special_tokens::pad), r.end());
    return r;
  };
  const std::vector<int> shorter = unpadded(1), longer = unpadded(0);
  REQUIRE(shorter.size() < longer.size());
  // A short sentence alone, two sentences (the shorter padded), the short one again: the buffers
  // grow, then hold more than a batch needs, with a padding mask, caches and logits left from a
  // batch of another shape; and SubTransformers with other layer counts and widths in turn.
  const hat::token_batch one = hat::token_batch::pad({shorter}, true);
  const hat::token_batch two = hat::token_batch::pad({shorter, longer}, true);
  hat::model_workspace<hat::cpu> ws;
  hat::beam_search_buffers<maxima, hat::cpu> kept;
  for (const std::size_t beam : {std::size_t{2}, std::size_t{4}})
    for (const std::size_t c : {std::size_t{2}, std::size_t{3}, std::size_t{4}}) {  // fewer decoder layers, mixed, identity encoder layers
      hat::generation_options opt;
      opt.beam = beam;
      opt.lenpen = 0.6;
      opt.max_len_b = beam == 2 ? 8 : 5;
      for (const hat::token_batch* src : {&one, &two, &one}) {
        const auto& config = fx.cases.at(c).config;
        const auto fresh = hat::beam_search(be, model, config, *src, opt, ws);
        const auto reused = hat::beam_search(be, model, config, *src, opt, ws, kept);
        REQUIRE(reused.size() == fresh.size());
        for (std::size_t s = 0; s < fresh.size(); ++s) {
          REQUIRE(reused[s].size() == fresh[s].size());
          for (std::size_t k = 0; k < fresh[s].size(); ++k) {
            CHECK(reused[s][k].tokens == fresh[s][k].tokens);
            CHECK(reused[s][k].score == fresh[s][k].score);  // the same bits
            CHECK(reused[s][k].positional_scores == fresh[s][k].positional_scores);
          }
        }
      }
    }
}

TEST_CASE("beam_search: each hypothesis' best extensions rank as all beam x V pairs do, ties included",
          "[nn][cpu][beam]") {
  using hat::detail::allowed_tokens;
  using hat::detail::beam_candidate;
  constexpr double ninf = -std::numeric_limits<double>::infinity();
  std::mt19937 rng(7);
  const std::size_t V = GENERATE(3, 5, 40);
  const std::size_t keep = GENERATE(1, 2, 4, 10);
  const allowed_tokens allowed = GENERATE(allowed_tokens::all, allowed_tokens::not_eos, allowed_tokens::only_eos);
  for (int trial = 0; trial < 20; ++trial) {
    // Small integer logits and scores: many exact ties, within a row and across hypotheses.
    const std::size_t hyps = 1 + rng() % 5;
    std::vector<float> logits(hyps * V);
    for (float& x : logits) x = static_cast<float>(rng() % 4);
    logits[rng() % logits.size()] = -std::numeric_limits<float>::infinity();  // never extends
    if (trial % 3 == 0) logits[rng() % logits.size()] = std::numeric_limits<float>::quiet_NaN();  // nor NaN
    std::vector<double> scores(hyps);
    for (double& s : scores) s = -static_cast<double>(rng() % 3);
    std::vector<beam_candidate> selected, all;
    for (std::size_t h = 0; h < hyps; ++h) {
      const float* x = logits.data() + h * V;
      const double lse = 1.5;  // any value: the ranking is what is tested
      std::vector<beam_candidate> top(keep);
      const std::size_t found = hat::detail::best_extensions(x, V, lse, scores[h], h, allowed, keep, top.data());
      REQUIRE(found <= keep);
      CHECK(std::is_sorted(top.begin(), top.begin() + std::ptrdiff_t(found), hat::detail::ranks_before));
      selected.insert(selected.end(), top.begin(), top.begin() + std::ptrdiff_t(found));
      for (std::size_t v = 0; v < V; ++v) {
        const bool eos = v == std::size_t(hat::special_tokens::eos);
        if (v == std::size_t(hat::special_tokens::pad) || (allowed == allowed_tokens::not_eos && eos) ||
            (allowed == allowed_tokens::only_eos && !eos))
          continue;
        const double lprob = double(x[v]) - lse;
        if (lprob == ninf || std::isnan(lprob)) continue;
        all.push_back({scores[h] + lprob, h, int(v), float(lprob)});
      }
    }
    std::sort(all.begin(), all.end(), hat::detail::ranks_before);
    std::sort(selected.begin(), selected.end(), hat::detail::ranks_before);
    all.resize(std::min(all.size(), keep));
    selected.resize(std::min(selected.size(), keep));
    INFO("V " << V << ", keep " << keep << ", trial " << trial);
    REQUIRE(selected.size() == all.size());
    for (std::size_t i = 0; i < all.size(); ++i) {
      CHECK(selected[i].hyp == all[i].hyp);
      CHECK(selected[i].token == all[i].token);
      CHECK(selected[i].score == all[i].score);
      CHECK(selected[i].lprob == all[i].lprob);
    }
  }
}

TEST_CASE("beam_search: log_sum_exp on four chains gives one chain's bits", "[nn][cpu][beam]") {
  // The reference: one chain of std::max, then the sum in index order.
  const auto one_chain = [](const std::vector<float>& x) {
    double mx = -std::numeric_limits<double>::infinity(), sum = 0;
    for (float v : x) mx = std::max(mx, double(v));
    for (float v : x) sum += std::exp(double(v) - mx);
    return mx + std::log(sum);
  };
  const std::vector<float> values = {0.0f, -0.0f, 1.0f, -1.0f, 3.0f, -3.0f, 1e-45f, -1e-45f, 0.25f,
                                     -std::numeric_limits<float>::infinity()};
  std::mt19937 rng(11);
  for (std::size_t V : {1, 2, 3, 4, 5, 6, 7, 8, 9, 40, 41})
    for (int trial = 0; trial < 200; ++trial) {
      std::vector<float> x(V);
      for (float& v : x) v = values[rng() % values.size()];
      if (trial % 2 == 0) x[rng() % V] = values[rng() % 3];  // a finite maximum, often a zero
      const double a = hat::detail::log_sum_exp(x.data(), V), b = one_chain(x);
      INFO("V " << V << ", trial " << trial);
      if (std::isnan(b))
        CHECK(std::isnan(a));
      else
        CHECK(std::memcmp(&a, &b, sizeof a) == 0);
    }
}
