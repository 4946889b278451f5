// SPDX-License-Identifier: MIT
// Tutorial 4: training a SuperTransformer. HAT trains one random SubTransformer per update on
// the shared weights; afterwards every SubTransformer of the space translates with the weights
// it inherits. Here the task is reversing sequences of ids (no data files needed); with text,
// hat::subword_model and hat::load_corpus give the same parallel_corpus (docs/training.md).
// The run is interrupted half way, saved and resumed: the result is bit for bit the same.
#include <hat/backend/cpu.hpp>
#include <hat/decode/beam_search.hpp>
#include <hat/nn/checkpoint.hpp>
#include <hat/space/choice.hpp>
#include <hat/space/space.hpp>
#include <hat/train/trainer.hpp>
#include <filesystem>
#include <iostream>

using space = hat::space<
    hat::choice<"encoder_embed_dim", 32, 24>,
    hat::choice<"encoder_layer_num", 2>,
    hat::per_layer<2, hat::choice<"encoder_ffn_embed_dim", 64, 32>>,
    hat::per_layer<2, hat::choice<"encoder_self_attention_heads", 4, 2>>,
    hat::choice<"decoder_embed_dim", 32, 24>,
    hat::choice<"decoder_layer_num", 2, 1>,
    hat::per_layer<2, hat::choice<"decoder_ffn_embed_dim", 64, 32>>,
    hat::per_layer<2, hat::choice<"decoder_self_attention_heads", 4, 2>>,
    hat::per_layer<2, hat::choice<"decoder_ende_attention_heads", 4, 2>>,
    hat::per_layer<2, hat::choice<"decoder_arbitrary_ende_attn", -1, 1>>,
    hat::fixed<"qkv_dim", 32>>;
using trainer_t = hat::trainer<space, hat::cpu>;
using model_t = trainer_t::model_type;

// [data]
// Pairs of id sequences ending in </s> (id 2); ids 4..19 are "words".
hat::parallel_corpus reverse_task(std::size_t n, std::uint64_t seed) {
  hat::parallel_corpus c;
  hat::rng g(seed);
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<int> s;
    for (std::size_t k = 0, len = 3 + g.below(4); k < len; ++k) s.push_back(4 + static_cast<int>(g.below(16)));
    std::vector<int> t(s.rbegin(), s.rend());
    s.push_back(hat::special_tokens::eos);
    t.push_back(hat::special_tokens::eos);
    c.source.push_back(std::move(s));
    c.target.push_back(std::move(t));
  }
  return c;
}
// [data]

int main() {
  hat::cpu be;
  const auto train = reverse_task(400, 1), valid = reverse_task(50, 2);
  // [options]
  hat::trainer_options o;                              // HAT's defaults, then a short run:
  o.max_update = 240;
  o.schedule = hat::inverse_sqrt_schedule{1e-2, 1e-7, 40};  // peak lr, initial lr, warm-up updates
  o.batching.max_tokens = 160;
  o.dropout = {0.1, 0.0, 0.0, true, true};             // rate, attention, activation; HAT's scaling and quirk
  o.sampling = hat::sampling_rule::hat_random;         // one random SubTransformer per update
  // [options]
  const auto largest = hat::config_of(hat::represent_largest<space>());
  const auto smallest = hat::config_of(hat::represent_smallest<space>());
  const auto bits = [&](const model_t& m, const hat::transformer_config& c) {
    const auto s = hat::validation_loss(be, m, c, valid, 1024, 0);
    return hat::per_token_bits(s.loss, s.tokens);  // fairseq's valid loss: base 2 per token
  };

  // [train]
  model_t model(be, {20, 20, hat::embedding_sharing::all});
  model.init_hat(be, 1);
  const double before = bits(model, largest);
  std::cout << "before: valid loss largest " << before << ", smallest " << bits(model, smallest) << "\n";
  const auto path = std::filesystem::temp_directory_path() / "hat_tutorial_4.hat";
  {
    trainer_t t(be, model, train, o);
    while (t.updates() < o.max_update / 2) t.step();
    t.save(path);  // weights, Adam's moments, update count, data position, loss history
  }
  hat::checkpoint_extras state;
  model_t resumed = hat::load_checkpoint<model_t::maxima, hat::cpu>(be, path, &state);
  trainer_t t(be, resumed, train, o);
  t.restore(state, path.string());
  while (!t.done()) {
    const hat::update_record r = t.step();
    if (r.update % 60 == 0) std::cout << "update " << r.update << ": loss " << r.loss << " lr " << r.lr << "\n";
  }
  std::filesystem::remove(path);
  // [train]
  const double after_large = bits(resumed, largest), after_small = bits(resumed, smallest);
  std::cout << "after:  valid loss largest " << after_large << ", smallest " << after_small << "\n";

  // [translate] Both ends of the space with the weights they inherit.
  const auto batch = hat::make_batch(valid, {0, 1, 2});
  hat::model_workspace<hat::cpu, float> ws;
  for (const auto* c : {&largest, &smallest}) {
    const auto out = hat::beam_search(be, resumed, *c, batch.source, hat::generation_options{}, ws);
    std::cout << (c == &largest ? "largest: " : "smallest:");
    for (int id : out[0].front().tokens) std::cout << " " << id;
    std::cout << "   (reference:";
    for (int id : valid.target[0]) std::cout << " " << id;
    std::cout << ")\n";
  }
  // [translate]
  return after_large < 0.6 * before && after_small < 0.8 * before ? 0 : 1;  // it learned (run as a test)
}
