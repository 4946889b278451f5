// SPDX-License-Identifier: MIT
// Data-parallel training without MPI: ranks as threads of this process (a communicator that sums
// in rank order), so the exactness claims and the failure paths run everywhere, sanitizers too.
// The MPI path itself: tests/cli/mpi_test.sh.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/dist/communicator.hpp>
#include <hat/space/choice.hpp>
#include <hat/space/space.hpp>
#include <hat/train/trainer.hpp>

#include "reverse_task.hpp"
#include "thread_ranks.hpp"

namespace {

using trainer_t = hat::trainer<hat_test::reverse_space, hat::cpu>;
using model_t = trainer_t::model_type;
using hat_test::on_threads;
using hat_test::reverse_task;
const hat::vocabulary_sizes vocab{hat_test::reverse_vocab, hat_test::reverse_vocab, hat::embedding_sharing::all};

struct run_result {
  std::vector<float> weights;
  std::vector<double> losses, grad_norms;
  std::vector<std::size_t> tokens;
};

// `ranks` ranks with update_freq `F` each; rank 0's result (every rank's weights are checked equal).
run_result train(std::size_t ranks, std::size_t F, std::size_t updates, hat::sampling_rule rule = hat::sampling_rule::hat_random) {
  const auto data = reverse_task(120, 1);
  std::vector<run_result> results(ranks);
  on_threads(ranks, [&](std::size_t r, hat::communicator& comm) {
    hat::cpu be;
    model_t model(be, vocab);
    model.init_hat(be, 3);
    auto o = hat_test::reverse_options(F, updates);
    o.sampling = rule;
    trainer_t t(be, model, data, o, ranks > 1 ? &comm : nullptr);
    while (!t.done()) {
      const auto rec = t.step();
      results[r].losses.push_back(rec.loss);
      results[r].grad_norms.push_back(rec.grad_norm);
      results[r].tokens.push_back(rec.tokens);
    }
    results[r].weights.assign(model.data(), model.data() + model.size());
  });
  for (std::size_t r = 1; r < ranks; ++r) REQUIRE(results[r].weights == results[0].weights);
  return results[0];
}

}  // namespace

TEST_CASE("data-parallel: 2 ranks with update-freq 1 are 1 rank with update-freq 2, bit for bit", "[train][dist]") {
  const auto rule = GENERATE(hat::sampling_rule::hat_random, hat::sampling_rule::sandwich);
  const auto one = train(1, 2, 6, rule), two = train(2, 1, 6, rule);
  CHECK(two.tokens == one.tokens);
  CHECK(two.losses == one.losses);
  CHECK(two.grad_norms == one.grad_norms);
  CHECK(two.weights == one.weights);
  // and the data decides it: another update-freq reads other batches
  CHECK(train(1, 1, 6, rule).losses != one.losses);
}

TEST_CASE("data-parallel: 3 ranks summing in rank order are 1 rank with update-freq 3, bit for bit", "[train][dist]") {
  const auto one = train(1, 3, 4), three = train(3, 1, 4);
  CHECK(three.losses == one.losses);
  CHECK(three.weights == one.weights);
}

TEST_CASE("data-parallel: 2 ranks with update-freq 2 sum in another order than 1 rank with 4: within 1e-4", "[train][dist]") {
  // (g0 + g1) + (g2 + g3) against ((g0 + g1) + g2) + g3: the same data, rounded apart.
  const auto one = train(1, 4, 4), two = train(2, 2, 4);
  CHECK(two.tokens == one.tokens);
  REQUIRE(two.weights.size() == one.weights.size());
  double worst = 0;
  for (std::size_t i = 0; i < one.weights.size(); ++i)
    worst = std::max(worst, static_cast<double>(std::abs(two.weights[i] - one.weights[i])));
  CHECK(worst <= 1e-4);  // 4.9e-6 on an AMD EPYC
  for (std::size_t u = 0; u < one.losses.size(); ++u) CHECK(two.losses[u] == Approx(one.losses[u]).epsilon(1e-6));
}

TEST_CASE("data-parallel: a rank's error ends every rank with the same message", "[train][dist]") {
  std::vector<std::string> seen(3);
  on_threads(3, [&](std::size_t r, hat::communicator& comm) {
    try {
      hat::on_every_rank(comm, [&] {
        if (r == 1) throw std::runtime_error("a bad batch");
      });
    } catch (const hat::rank_failed& e) {
      seen[r] = e.what();
    }
  });
  for (const auto& s : seen) CHECK(s == "rank 1 of 3: a bad batch");
  // no error: no one throws
  CHECK_NOTHROW(on_threads(2, [](std::size_t, hat::communicator& comm) { hat::raise_if_any_failed(comm, ""); }));
}

TEST_CASE("data-parallel: ranks with other corpora, or too few batches for them, are refused on every rank", "[train][dist]") {
  std::vector<std::string> seen(2);
  on_threads(2, [&](std::size_t r, hat::communicator& comm) {
    hat::cpu be;
    model_t model(be, vocab);
    const auto data = reverse_task(120, 1 + r);
    try {
      trainer_t t(be, model, data, hat_test::reverse_options(1, 2), &comm);
    } catch (const hat::rank_failed& e) {
      seen[r] = e.what();
    }
  });
  for (const auto& s : seen) CHECK_THAT(s, Catch::Contains("rank 1 of 2 has another training corpus than rank 0"));

  std::vector<std::string> few(2);
  on_threads(2, [&](std::size_t r, hat::communicator& comm) {
    hat::cpu be;
    model_t model(be, vocab);
    const auto data = reverse_task(3, 1);  // one batch per epoch
    try {
      trainer_t t(be, model, data, hat_test::reverse_options(1, 2), &comm);
    } catch (const hat::config_error& e) {
      few[r] = e.what();
    }
  });
  for (const auto& s : few) CHECK_THAT(s, Catch::Contains("fewer than the 2 an update reads (2 ranks x update-freq 1)"));
}

TEST_CASE("data-parallel: the validation loss over ranks is one process's, bit for bit", "[train][dist]") {
  hat::cpu be;
  model_t model(be, vocab);
  model.init_hat(be, 5);
  const auto valid = reverse_task(90, 4);
  const auto c = hat::config_of(hat::represent_largest<hat_test::reverse_space>());
  const auto alone = hat::validation_loss(be, model, c, valid, 40, 0);
  REQUIRE(alone.tokens > 0);
  for (std::size_t ranks : {2u, 3u}) {
    std::vector<hat::loss_sums> got(ranks);
    on_threads(ranks, [&](std::size_t r, hat::communicator& comm) {
      hat::cpu own;
      got[r] = hat::validation_loss(own, model, c, valid, 40, 0, 0.1, &comm);
    });
    for (const auto& s : got) {
      CHECK(s.loss == alone.loss);
      CHECK(s.nll == alone.nll);
      CHECK(s.tokens == alone.tokens);
    }
  }
  // the first batches only, as the search's fitness reads them
  const auto first = hat::validation_loss(be, model, c, valid, 40, 2);
  std::vector<hat::loss_sums> got(2);
  on_threads(2, [&](std::size_t r, hat::communicator& comm) {
    hat::cpu own;
    got[r] = hat::validation_loss(own, model, c, valid, 40, 2, 0.1, &comm);
  });
  CHECK(got[0].loss == first.loss);
  CHECK(got[1].tokens == first.tokens);
  CHECK(first.tokens < alone.tokens);
}

TEST_CASE("data-parallel: work on rank 0 alone, its value and its error shared", "[train][dist]") {
  std::vector<int> ran(3, 0);
  std::vector<double> value(3, 0.0);
  std::vector<std::string> seen(3);
  on_threads(3, [&](std::size_t r, hat::communicator& comm) {
    hat::on_rank0(comm, [&] {
      ran[r] = 1;
      value[r] = 0.1 + 0.2;  // not a round number: shared by its bytes
    });
    hat::share_from_rank0(comm, value[r]);
    try {
      hat::on_rank0(comm, [] { throw std::runtime_error("the disk is full"); });
    } catch (const hat::rank_failed& e) {
      seen[r] = e.what();
    }
  });
  CHECK(ran == std::vector<int>{1, 0, 0});
  for (double v : value) CHECK(v == 0.1 + 0.2);
  for (const auto& s : seen) CHECK(s == "rank 0 of 3: the disk is full");
}
