// SPDX-License-Identifier: MIT
// The trainer: learning, HAT's sampling, exact resume from a checkpoint, divergence, fixed
// SubTransformers, validation loss.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>  // getpid

#include <hat/backend/cpu.hpp>
#include <hat/nn/checkpoint.hpp>
#include <hat/space/choice.hpp>
#include <hat/space/space.hpp>
#include <hat/train/trainer.hpp>

#include "reverse_task.hpp"

namespace {

using tiny_space = hat_test::reverse_space;
using trainer_t = hat::trainer<tiny_space, hat::cpu>;
using model_t = trainer_t::model_type;
constexpr std::size_t vocab = hat_test::reverse_vocab;
using hat_test::reverse_task;

hat::trainer_options options() {
  hat::trainer_options o;
  o.max_update = 200;
  o.schedule = hat::inverse_sqrt_schedule{3e-3, 1e-7, 20};
  o.batching.max_tokens = 64;
  o.dropout = {0.1, 0.1, 0.0, true, true};
  o.update_freq = 2;
  return o;
}

std::vector<float> weights(const model_t& m) { return {m.data(), m.data() + m.size()}; }

std::filesystem::path temp(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("hat_trainer_" + name + "_" + std::to_string(::getpid()));
}

}  // namespace

TEST_CASE("trainer: a SuperTransformer learns to reverse sequences", "[train][trainer]") {
  hat::cpu be;
  const auto train = reverse_task(200, 1), valid = reverse_task(40, 2);
  model_t model(be, {vocab, vocab, hat::embedding_sharing::all});
  model.init_hat(be, 3);
  const auto largest = hat::config_of(hat::represent_largest<tiny_space>());
  const auto smallest = hat::config_of(hat::represent_smallest<tiny_space>());
  const auto before = hat::validation_loss(be, model, largest, valid, 512, 0);
  auto o = options();
  o.max_update = 600;
  o.dropout = {};
  o.batching.max_tokens = 128;
  o.schedule = hat::inverse_sqrt_schedule{1e-2, 1e-7, 30};
  trainer_t t(be, model, train, o);
  while (!t.done()) t.step();
  const auto after = hat::validation_loss(be, model, largest, valid, 512, 0);
  const auto after_small = hat::validation_loss(be, model, smallest, valid, 512, 0);
  INFO("valid loss (bits/token) before " << hat::per_token_bits(before.loss, before.tokens) << " after "
                                         << hat::per_token_bits(after.loss, after.tokens) << " smallest "
                                         << hat::per_token_bits(after_small.loss, after_small.tokens));
  CHECK(after.tokens == valid.target_tokens());
  CHECK(hat::per_token_bits(after.loss, after.tokens) < 0.6 * hat::per_token_bits(before.loss, before.tokens));
  CHECK(hat::per_token_bits(after_small.loss, after_small.tokens) < 0.8 * hat::per_token_bits(before.loss, before.tokens));
  CHECK(t.history().size() == 600);
  CHECK(t.epoch() > 1);  // several passes over the data
  for (const auto& r : t.history()) {
    REQUIRE(std::isfinite(r.loss));
    REQUIRE(std::isfinite(r.nll));
  }
  CHECK(t.history()[0].lr == Approx(1e-7));  // the schedule's first value
}

TEST_CASE("trainer: HAT's sampling is seeded by the update count; sandwich adds the extremes", "[train][trainer]") {
  CHECK(trainer_t::random_arch(7) == trainer_t::random_arch(7));
  std::set<std::string> seen;
  for (std::size_t u = 0; u < 20; ++u) seen.insert(trainer_t::random_arch(u).to_string());
  CHECK(seen.size() > 10);
  hat::cpu be;
  const auto train = reverse_task(20, 1);
  model_t model(be, {vocab, vocab, hat::embedding_sharing::all});
  auto o = options();
  o.sampling = hat::sampling_rule::sandwich;
  const trainer_t t(be, model, train, o);
  const auto c = t.configs_for(5);
  REQUIRE(c.size() == 3);
  CHECK(c[0].encoder_embed_dim == 16);
  CHECK(c[1].encoder_embed_dim == 12);
  CHECK(c[2].decoder_ffn == hat::config_of(trainer_t::random_arch(5)).decoder_ffn);
}

TEST_CASE("trainer: an interrupted and resumed run is bit-identical to an uninterrupted one", "[train][trainer][resume]") {
  hat::cpu be;
  const auto train = reverse_task(60, 4);  // a few batches: the interruption falls mid-epoch, later epochs follow
  for (const auto rule : {hat::sampling_rule::hat_random, hat::sampling_rule::sandwich}) {
    INFO("sampling " << static_cast<int>(rule));
    auto o = options();
    o.sampling = rule;
    o.max_update = 14;
    o.adam.clip_norm = 0.5;
    model_t whole(be, {vocab, vocab, hat::embedding_sharing::all});
    whole.init_hat(be, 9);
    trainer_t a(be, whole, train, o);
    while (!a.done()) a.step();

    model_t first(be, {vocab, vocab, hat::embedding_sharing::all});
    first.init_hat(be, 9);
    const auto path = temp("resume");
    {
      trainer_t b(be, first, train, o);
      for (int i = 0; i < 5; ++i) b.step();
      b.save(path);
    }
    hat::checkpoint_extras x;
    model_t resumed = hat::load_checkpoint<model_t::maxima, hat::cpu>(be, path, &x);
    trainer_t c(be, resumed, train, o);
    c.restore(x, path.string());
    CHECK(c.updates() == 5);
    while (!c.done()) c.step();
    REQUIRE(c.history().size() == a.history().size());
    for (std::size_t i = 0; i < a.history().size(); ++i) {
      INFO("update " << i + 1);
      if (i < 5) {  // before the restart: the checkpoint's history (float32)
        CHECK(c.history()[i].loss == static_cast<double>(static_cast<float>(a.history()[i].loss)));
      } else {  // after it: exactly the same numbers
        CHECK(c.history()[i].loss == a.history()[i].loss);
        CHECK(c.history()[i].grad_norm == a.history()[i].grad_norm);
      }
    }
    CHECK(c.epoch() == a.epoch());
    CHECK(weights(resumed) == weights(whole));
    std::filesystem::remove(path);
  }
}

TEST_CASE("trainer: a non-finite loss stops with the update named, weights untouched", "[train][trainer]") {
  hat::cpu be;
  const auto train = reverse_task(20, 5);
  model_t model(be, {vocab, vocab, hat::embedding_sharing::all});
  model.init_hat(be, 1);
  auto o = options();
  trainer_t t(be, model, train, o);
  t.step();
  t.step();
  model.data()[model.parameter("decoder.layers.0.final_layer_norm.weight").offset] = std::nanf("");  // a ReLU would hide it
  const auto poisoned = weights(model);
  CHECK_THROWS_WITH(t.step(), Catch::Contains("update 3") && Catch::Contains("not finite"));
  const auto after = weights(model);
  CHECK(std::memcmp(after.data(), poisoned.data(), after.size() * sizeof(float)) == 0);
  CHECK(t.updates() == 2);
}

TEST_CASE("trainer: a fixed SubTransformer trains only its slices", "[train][trainer]") {
  hat::cpu be;
  const auto train = reverse_task(30, 6);
  model_t model(be, {vocab, vocab, hat::embedding_sharing::all});
  model.init_hat(be, 2);
  auto o = options();
  o.sampling = hat::sampling_rule::fixed;
  o.fixed = hat::config_of(hat::represent_smallest<tiny_space>());  // 12 wide, FFN 16, 1 decoder layer
  o.max_update = 5;
  const auto before = weights(model);
  trainer_t t(be, model, train, o);
  while (!t.done()) t.step();
  const auto after = weights(model);
  const auto changed = [&](const std::string& name, std::size_t row, std::size_t col) {
    const auto& p = model.parameter(name);
    const std::size_t i = p.offset + p.index(row * p.shape[1] + col);
    return before[i] != after[i];
  };
  CHECK(changed("encoder.layers.0.fc1.weight", 0, 0));
  CHECK_FALSE(changed("encoder.layers.0.fc1.weight", 20, 0));  // FFN row 20 >= 16
  CHECK_FALSE(changed("encoder.layers.0.fc1.weight", 0, 13));  // column 13 >= width 12
  CHECK_FALSE(changed("decoder.layers.1.fc1.weight", 0, 0));   // the second decoder layer is unused
  // A fixed architecture outside the space's maxima is refused up front.
  auto bad = o;
  bad.fixed.encoder_embed_dim = 32;
  CHECK_THROWS_AS(trainer_t(be, model, train, bad), hat::invalid_arch);
}

TEST_CASE("trainer: restoring needs a training checkpoint", "[train][trainer][resume]") {
  hat::cpu be;
  const auto train = reverse_task(10, 7);
  model_t model(be, {vocab, vocab, hat::embedding_sharing::all});
  const auto path = temp("plain");
  hat::save_checkpoint(be, model, path);
  hat::checkpoint_extras x;
  model_t loaded = hat::load_checkpoint<model_t::maxima, hat::cpu>(be, path, &x);
  trainer_t t(be, loaded, train, options());
  CHECK_THROWS_WITH(t.restore(x, path.string()), Catch::Contains(path.string()) && Catch::Contains("not a training one"));
  x.values = {{"updates", "3"}, {"epoch", "1"}, {"batch", "x2"}, {"adam_steps", "3"}};
  CHECK_THROWS_WITH(t.restore(x, "f.ckpt"), Catch::Contains("f.ckpt") && Catch::Contains("'batch' is not a count"));
  // A training checkpoint of a run on other data is refused: its data position means other batches.
  {
    trainer_t a(be, loaded, train, options());
    a.step();
    a.save(path);
  }
  const auto header_only = hat::read_checkpoint_state(path);  // the state without loading the tensors
  REQUIRE(header_only.value("updates"));
  CHECK(*header_only.value("updates") == "1");
  CHECK(header_only.arrays.empty());
  const auto junk = std::filesystem::temp_directory_path() / "hat_trainer_junk.hat";
  std::ofstream(junk) << "not a checkpoint";
  CHECK_THROWS_WITH(hat::read_checkpoint_state(junk), Catch::Contains("hat_trainer_junk.hat") && Catch::Contains("bad magic"));
  std::filesystem::remove(junk);
  hat::checkpoint_extras y;
  model_t again = hat::load_checkpoint<model_t::maxima, hat::cpu>(be, path, &y);
  const auto other = reverse_task(11, 7);
  trainer_t b(be, again, other, options());
  CHECK_THROWS_WITH(b.restore(y, path.string()), Catch::Contains("other data") && Catch::Contains("10 pairs"));
  trainer_t same(be, again, train, options());
  same.restore(y, path.string());
  CHECK(same.updates() == 1);
  std::filesystem::remove(path);
}

TEST_CASE("trainer: update-freq sums the micro-batches' gradients, then divides by their tokens", "[train][trainer]") {
  hat::cpu be;
  const auto train = reverse_task(40, 8);
  auto o = options();
  o.dropout = {};
  o.update_freq = 2;
  o.sampling = hat::sampling_rule::fixed;
  o.fixed = hat::config_of(hat::represent_largest<tiny_space>());
  model_t by_trainer(be, {vocab, vocab, hat::embedding_sharing::all}), by_hand(be, {vocab, vocab, hat::embedding_sharing::all});
  by_trainer.init_hat(be, 4);
  by_hand.init_hat(be, 4);
  trainer_t t(be, by_trainer, train, o);
  const auto r = t.step();

  // The same update written out: the first two batches of epoch 1, each one's gradient on its
  // own (what a rank of data-parallel training computes), then summed.
  const auto batches = hat::epoch_batches(train, o.batching, 1);
  std::vector<float> grad(by_hand.size(), 0.0f);
  hat::training_tape<hat::cpu, float> tape;
  hat::model_workspace<hat::cpu, float> ws;
  std::size_t tokens = 0;
  double loss = 0;
  for (std::size_t k = 0; k < 2; ++k) {
    const auto b = hat::make_batch(train, batches[k]);
    const auto s = hat::training_forward(be, by_hand, o.fixed, b.source, b.target, 0.1, o.dropout, 0, tape);
    std::vector<float> micro(by_hand.size(), 0.0f);
    hat::training_backward(be, by_hand, tape, 1.0f, micro.data(), ws);
    for (std::size_t i = 0; i < grad.size(); ++i) grad[i] += micro[i];
    tokens += s.tokens;
    loss += s.loss;
  }
  CHECK(r.tokens == tokens);
  CHECK(r.loss == Approx(loss / static_cast<double>(tokens) / std::log(2.0)).epsilon(1e-12));
  for (auto& g : grad) g *= 1.0f / static_cast<float>(tokens);
  hat::adam<hat::cpu> opt(by_hand.size(), o.adam);
  opt.step(be, by_hand.data(), grad.data(), r.lr);
  CHECK(weights(by_hand) == weights(by_trainer));
}
