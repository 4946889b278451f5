// SPDX-License-Identifier: MIT
// Pipeline configs: defaults, every key, paths relative to the file, and errors naming the line.
#include <catch2/catch.hpp>

#include <string>

#include <hat/pipeline/subtransformer_schedule.hpp>
#include <hat/yaml/pipeline.hpp>

namespace {
hat::pipeline_config parse(const std::string& text) { return hat::parse_pipeline_yaml(text, "runs/x/pipeline.yml"); }
}  // namespace

TEST_CASE("pipeline YAML: keys, defaults, relative paths", "[io][pipeline_yaml]") {
  const auto c = parse(R"(training-config: training.yml
data: ../data
latency-constraints: [12.5, 50%]
iterations: 3
population: 10
parents: 2
mutations: 4
crossovers: 4
subtransformer-init: scratch
supertransformer-checkpoint: super/checkpoint_last.hat
predictor-model: quadratic
threads: 2
latency-device: cuda
train-device: cuda
baselines: True
)");
  CHECK(c.baselines);
  CHECK_FALSE(parse("training-config: t.yml\nlatency-constraints: [5]\n").baselines);  // HAT's pipeline has none
  CHECK(c.training_config == "runs/x/training.yml");
  CHECK(c.data == "runs/data");
  CHECK(c.supertransformer_checkpoint == "runs/x/super/checkpoint_last.hat");
  CHECK(c.test_split.empty());  // the training config's test-subset
  REQUIRE(c.latency_constraints.size() == 2);
  CHECK(c.latency_constraints[0].ms(40) == 12.5);
  CHECK(c.latency_constraints[0].name() == "12.5ms");
  CHECK(c.latency_constraints[1].ms(40) == 20);  // a share of the slowest measured latency
  CHECK(c.latency_constraints[1].name() == "50pct");
  CHECK(c.iterations == 3);
  CHECK_FALSE(c.subtransformer_inherit);
  CHECK(c.predictor_model == "quadratic");
  CHECK(c.threads == 2);
  CHECK(c.fitness == "valid-loss");  // HAT's
  CHECK(c.latency_samples == 200);
  CHECK(c.latency_device == "cuda");
  CHECK(c.train_device == "cuda");
  CHECK(parse("training-config: t.yml\nlatency-constraints: [5]\n").latency_device == "cpu");
  CHECK(parse("training-config: /abs/t.yml\nlatency-constraints: [5]\n").training_config == "/abs/t.yml");
}

TEST_CASE("pipeline YAML: the SubTransformer's own peak learning rate and warm-up", "[io][pipeline_yaml]") {
  const std::string base = "training-config: t.yml\nlatency-constraints: [5]\nsubtransformer-updates: 300\n";
  hat::inverse_sqrt_schedule inv;  // the training config's: 1e-7 -> 5e-4 over 10,000 updates
  const auto same = hat::subtransformer_schedule(inv, parse(base));
  CHECK(std::get<hat::inverse_sqrt_schedule>(same)(100) == inv(100));  // unset: the training config's
  const auto c = parse(base + "subtransformer-lr: 2e-4\nsubtransformer-warmup-updates: 20\n");
  CHECK(c.subtransformer_lr == 2e-4);
  REQUIRE(c.subtransformer_warmup);
  CHECK(*c.subtransformer_warmup == 20);
  const auto fine = std::get<hat::inverse_sqrt_schedule>(hat::subtransformer_schedule(inv, c));
  CHECK(fine(20) == Approx(2e-4));            // the peak after 20 updates, not 10,000
  CHECK(fine(80) == Approx(2e-4 * 0.5));      // then inverse_sqrt's decay from there
  hat::cosine_schedule cos;
  const auto fine_cos = std::get<hat::cosine_schedule>(hat::subtransformer_schedule(cos, c));
  CHECK(fine_cos(20) == Approx(2e-4));
  CHECK(fine_cos.period == 280);  // decays over the 300 - 20 updates left
  CHECK(fine_cos(300) == Approx(2e-4).margin(1e-9));  // a full period: back at the peak (fairseq's restart)
  CHECK_THROWS_WITH(hat::subtransformer_schedule(inv, parse(base + "subtransformer-warmup-updates: 0\n")),
                    Catch::Contains("key 'subtransformer-warmup-updates': the inverse_sqrt schedule needs at least 1"));
  CHECK_THROWS_WITH(parse(base + "subtransformer-lr: -1\n"), Catch::Contains("key 'subtransformer-lr': must be positive"));
}

TEST_CASE("pipeline YAML: bad input names the line and key", "[io][pipeline_yaml]") {
  const auto fails = [](const std::string& text, const std::string& message) {
    INFO(text);
    CHECK_THROWS_WITH(parse(text), Catch::Contains(message));
  };
  const std::string ok = "training-config: t.yml\nlatency-constraints: [5]\n";
  fails(ok + "latency-sample: 10\n", "pipeline.yml:3: unknown key 'latency-sample'");
  fails("latency-constraints: [5]\n", "missing key 'training-config'");
  fails("training-config: t.yml\n", "missing key 'latency-constraints'");
  fails("training-config: t.yml\nlatency-constraints: []\n", "expected a list of latencies");
  fails("training-config: t.yml\nlatency-constraints: [0]\n", "must be positive");
  fails("training-config: t.yml\nlatency-constraints: [150%]\n", "'150%' is not a percentage");
  fails("training-config: t.yml\nlatency-constraints: [abc%]\n", "is not a percentage");
  fails(ok + "fitness: bleu\n", "pipeline.yml:3: key 'fitness': 'bleu' is not one of valid-loss, params, flops");
  fails(ok + "baselines: some\n", "baselines");
  fails(ok + "subtransformer-init: warm\n", "'warm' is not one of inherit, scratch");
  fails(ok + "latency-device: gpu\n", "pipeline.yml:3: key 'latency-device': 'gpu' is not one of cpu, cuda");
  fails(ok + "train-device: tpu\n", "pipeline.yml:3: key 'train-device': 'tpu' is not one of cpu, cuda");
  fails(ok + "latency-samples: 0\n", "key 'latency-samples': must be positive");
  fails(ok + "latency-samples: many\n", "latency-samples");
  fails(ok + "mutation-prob: 2\n", "a probability in [0, 1]");
  fails(ok + "population: 10\n", "parents + mutations + crossovers must equal population");
  fails("- a\n- b\n", "pipeline.yml");
  fails(ok + "beam: 4\nbeam: 5\n", "pipeline.yml:4: key 'beam' appears twice (first at runs/x/pipeline.yml:3)");
  fails(ok + "lenpen: nan\n", "lenpen");
  fails(ok + "max-len-a: -1\n", "max-len-a");
}

TEST_CASE("pipeline YAML: a predictor adapted from another device's", "[io][pipeline_yaml]") {
  const std::string base = "training-config: t.yml\nlatency-constraints: [5]\n";
  const auto c = parse(base + "predictor-adapt-from: ../xeon.pred\nlatency-samples: 20\n");
  CHECK(c.predictor_adapt_from == "runs/xeon.pred");  // relative to the config file
  CHECK(parse(base + "predictor-adapt-from: p.pred\npredictor-model: cost\n").predictor_model == "cost");
  CHECK(parse(base).predictor_adapt_from.empty());
  CHECK(parse(base).latency_passes == 1);  // HAT's protocol
  CHECK(parse(base + "latency-passes: 2\n").latency_passes == 2);
  CHECK_THROWS_WITH(parse(base + "latency-passes: 0\n"), Catch::Contains("latency-passes"));
  CHECK_THROWS_WITH(parse(base + "latency-passes: 17\n"), Catch::Contains("'latency-passes': at most 16"));
  CHECK_THROWS_WITH(parse(base + "predictor-adapt-from: p.pred\npredictor-model: mlp\n"),
                    Catch::Contains("predictor-adapt-from adapts with the cost model; predictor-model 'mlp' contradicts it"));
  CHECK_THROWS_WITH(parse(base + "predictor-adapt-from: p.pred\nlatency-samples: 4\n"),
                    Catch::Contains("predictor-adapt-from needs latency-samples >= 5"));
}

TEST_CASE("pipeline YAML: the weights' precision the results are for", "[io][pipeline_yaml]") {
  const std::string base = "training-config: t.yml\nlatency-constraints: [5]\n";
  CHECK(parse(base).weights == hat::precision::fp32);
  CHECK(parse(base + "precision: bf16\n").weights == hat::precision::bf16);
  const auto c = parse(base + "precision: int8\nint8-scales: row\n");
  CHECK(c.weights == hat::precision::int8);
  CHECK(c.scales == hat::int8_scales::row);
  CHECK(parse(base + "precision: int8\n").scales == hat::int8_scales::panel);
  CHECK_THROWS_WITH(parse(base + "precision: fp16\n"),
                    Catch::Contains("pipeline.yml:3: key 'precision': 'fp16' is not one of fp32, bf16, int8"));
  CHECK_THROWS_WITH(parse(base + "precision: int8\nint8-scales: column\n"),
                    Catch::Contains("pipeline.yml:4: key 'int8-scales': 'column' is not one of panel, row"));
  CHECK_THROWS_WITH(parse(base + "int8-scales: row\n"),
                    Catch::Contains("key 'int8-scales' applies to 'precision: int8' only (the precision is fp32)"));
  CHECK_THROWS_WITH(parse(base + "precision: bf16\nlatency-device: cuda\n"),
                    Catch::Contains("key 'precision': bf16 is timed on the CPU only (latency-device: cuda times fp32)"));
}
