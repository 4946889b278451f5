// SPDX-License-Identifier: MIT
// Training configs: HAT's keys and meanings, ours, and errors that name the file, line and key.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <variant>

#include <hat/yaml/training.hpp>

#include "shared_data.hpp"

namespace {
hat::training_config parse(const std::string& text) { return hat::parse_training_yaml(text, "run.yml"); }
}  // namespace

TEST_CASE("training YAML: HAT's IWSLT keys", "[io][train_yaml]") {
  const auto c = parse(R"(arch: transformersuper_iwslt_de_en
max-tokens: 4096
source-lang: de
target-lang: en
optimizer: adam
adam-betas: (0.9, 0.98)
weight-decay: 0.0001
dropout: 0.375
criterion: label_smoothed_cross_entropy
label-smoothing: 0.1
fp16: False
max-update: 50000
warmup-updates: 10000
lr-scheduler: inverse_sqrt
warmup-init-lr: 1e-7
lr: 0.0005
keep-last-epochs: 20
encoder-embed-choice: [640, 512]
)");
  CHECK(c.space == "iwslt");
  CHECK(c.trainer.max_update == 50000);
  CHECK(c.trainer.batching.max_tokens == 4096);
  CHECK(c.trainer.adam.beta2 == Approx(0.98));
  CHECK(c.trainer.adam.weight_decay == Approx(1e-4));
  CHECK(c.trainer.adam.clip_norm == 0);
  CHECK(c.trainer.adam.style == hat::adam_settings::eps_style::fairseq);
  CHECK(c.trainer.dropout.dropout == Approx(0.375));
  const auto* s = std::get_if<hat::inverse_sqrt_schedule>(&c.trainer.schedule);
  REQUIRE(s);
  CHECK(s->lr == Approx(5e-4));
  CHECK(s->warmup_updates == 10000);
  CHECK((*s)(10000) == Approx(5e-4));
}

TEST_CASE("training YAML: HAT's WMT cosine keys and our own", "[io][train_yaml]") {
  const auto c = parse(R"(arch: transformersuper_wmt_en_de
share-all-embeddings: True
update-freq: 16
max-update: 40000
warmup-updates: 10000
lr-scheduler: cosine
warmup-init-lr: 1e-7
max-lr: 0.001
lr: 1e-7
lr-shrink: 1
attention-dropout: 0.1
data: corpus
bpe-vocab-size: 6000
sampling: sandwich
validate-interval-updates: 500
train-subtransformer: True
subtransformer-config: arch.yml
)");
  CHECK(c.space == "wmt");
  CHECK(c.trainer.update_freq == 16);
  CHECK(c.trainer.sampling == hat::sampling_rule::sandwich);
  CHECK(c.bpe_vocab_size == 6000);
  CHECK(c.validate_interval_updates == 500);
  CHECK(c.train_subtransformer);
  CHECK(c.resolve(c.subtransformer_config) == "arch.yml");
  const auto* s = std::get_if<hat::cosine_schedule>(&c.trainer.schedule);
  REQUIRE(s);
  CHECK(s->max_lr == Approx(1e-3));
  CHECK(s->min_lr == Approx(1e-7));
  CHECK(s->period == 30000);  // max-update - warm-up (fairseq's cosine_lr_scheduler.py)
  CHECK((*s)(25000) == Approx(1e-7 + 0.5 * (1e-3 - 1e-7) * (1 + std::cos(3.14159265358979 * 15000 / 30000))));
}

TEST_CASE("training YAML: bad values and unknown keys name the file, line and key", "[io][train_yaml]") {
  CHECK_THROWS_WITH(parse("max-update: 10\nmax-updat: 20\n"), Catch::Contains("run.yml:2") && Catch::Contains("unknown key 'max-updat'"));
  CHECK_THROWS_WITH(parse("dropout: 1.5\n"), Catch::Contains("run.yml:1") && Catch::Contains("'dropout'"));
  CHECK_THROWS_WITH(parse("lr: fast\n"), Catch::Contains("'lr'") && Catch::Contains("expected a number"));
  CHECK_THROWS_WITH(parse("max-tokens: -5\n"), Catch::Contains("'max-tokens'"));
  CHECK_THROWS_WITH(parse("lr-scheduler: step\n"), Catch::Contains("inverse_sqrt or cosine"));
  CHECK_THROWS_WITH(parse("optimizer: sgd\n"), Catch::Contains("only adam"));
  CHECK_THROWS_WITH(parse("adam-betas: (0.9)\n"), Catch::Contains("'adam-betas'"));
  CHECK_THROWS_WITH(parse("sampling: all\n"), Catch::Contains("'sampling'"));
  CHECK_THROWS_WITH(parse("share-all-embeddings: maybe\n"), Catch::Contains("True or False"));
  CHECK_THROWS_WITH(parse("warmup-updates: 0\n"), Catch::Contains("'warmup-updates'"));
  CHECK_THROWS_WITH(parse("arch: transformer_big\n"), Catch::Contains("not a HAT SuperTransformer"));
  CHECK_THROWS_WITH(parse("- a\n- b\n"), Catch::Contains("run.yml"));
  // Numbers out of range, and bounds that would silently be one.
  CHECK_THROWS_WITH(parse("lr: 0\n"), Catch::Contains("run.yml:1") && Catch::Contains("'lr': must be positive"));
  CHECK_THROWS_WITH(parse("lr: -0.001\n"), Catch::Contains("'lr': must be positive"));
  CHECK_THROWS_WITH(parse("lr: [-0.001]\n"), Catch::Contains("'lr': must be positive"));
  CHECK_THROWS_WITH(parse("max-lr: 0\n"), Catch::Contains("'max-lr': must be positive"));
  CHECK_THROWS_WITH(parse("clip-norm: -1\n"), Catch::Contains("'clip-norm': must not be negative"));
  CHECK_THROWS_WITH(parse("weight-decay: -0.1\n"), Catch::Contains("'weight-decay'"));
  CHECK_THROWS_WITH(parse("adam-eps: 0\n"), Catch::Contains("'adam-eps'"));
  CHECK_THROWS_WITH(parse("lr: nan\n"), Catch::Contains("'lr'"));
  CHECK_THROWS_WITH(parse("lr: 1e999\n"), Catch::Contains("'lr'"));
  CHECK_THROWS_WITH(parse("max-source-positions: 256\nmax-target-positions: 1024\n"),
                    Catch::Contains("run.yml:2") && Catch::Contains("differs from 256 at line 1"));
  CHECK_THROWS_WITH(parse("max-source-positions: 0\n"), Catch::Contains("'max-source-positions': must be positive"));
  CHECK(parse("max-source-positions: 256\nmax-target-positions: 256\nclip-norm: 0\n").max_positions == 256);
  // A key given twice is an error naming both lines (it used to keep the last).
  CHECK_THROWS_WITH(parse("lr: 0.1\nmax-update: 5\nlr: 0.2\n"),
                    Catch::Contains("run.yml:3") && Catch::Contains("'lr' appears twice (first at run.yml:1)"));
}

TEST_CASE("training YAML: HAT's released configs parse", "[io][train_yaml][shared]") {
  const auto dir = hat_test::hat_configs();
  for (const char* f : {"wmt14.en-de/supertransformer/space0.yml", "iwslt14.de-en/supertransformer/space1.yml",
                        "wmt14.en-de/subtransformer/common.yml", "iwslt14.de-en/subtransformer/common.yml"}) {
    INFO(f);
    const auto c = hat::read_training_yaml(dir / f);
    CHECK(c.trainer.max_update >= 40000);
  }
  CHECK(hat::read_training_yaml(dir / "wmt14.en-de/supertransformer/space0.yml").trainer.update_freq == 16);
  CHECK(hat::read_training_yaml(dir / "wmt14.en-de/subtransformer/common.yml").train_subtransformer);
}
