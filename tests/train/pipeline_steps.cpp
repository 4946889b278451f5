// SPDX-License-Identifier: MIT
// The pipeline's steps as library calls: training stops, resumes, and leaves a finished run as it
// is; the latency dataset continues its own rows and refuses another seed's file untouched; the
// test step's record and the results table say what was measured.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cmath>
#include <filesystem>
#include <span>
#include <memory>
#include <optional>
#include <sstream>
#include <vector>
#include <string>
#include <unistd.h>

#include <hat/backend/cpu.hpp>
#include <hat/data/number_words.hpp>
#include <hat/data/text_reader.hpp>
#include <hat/io/read_file.hpp>
#include <hat/pipeline/latency_step.hpp>
#include <hat/io/json.hpp>
#include <hat/pipeline/predictor_step.hpp>
#include <hat/pipeline/results.hpp>
#include <hat/pipeline/run_folder.hpp>
#include <hat/pipeline/search_step.hpp>
#include <hat/pipeline/subword_binding.hpp>
#include <hat/pipeline/test_step.hpp>
#include <hat/search/errors.hpp>
#include <hat/pipeline/train_step.hpp>
#include <hat/space/small_spaces.hpp>
#include <hat/space/transformer.hpp>
#include <hat/yaml/subtransformer.hpp>
#include <hat/yaml/training.hpp>

namespace {

std::filesystem::path fresh_dir(const std::string& name) {
  const auto d = std::filesystem::temp_directory_path() / ("hat_pipeline_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

constexpr const char* tiny_training = R"(space: number-words
share-all-embeddings: True
source-lang: de
target-lang: en
train-subset: train
valid-subset: valid
bpe-vocab-size: 120
max-tokens: 512
max-source-positions: 64
max-target-positions: 64
optimizer: adam
lr: 0.002
warmup-updates: 2
lr-scheduler: inverse_sqrt
max-update: 4
log-interval: 0
validate-interval-updates: 2
save-interval-updates: 2
valid-batches: 1
seed: 1
)";

// A latency dataset of `samples` rows of number_words_space in `folder`, timed once each on
// 5-token sentences with one beam: seconds, not minutes.
hat::latency_dataset_inputs tiny_latency_dataset(const hat::run_folder& folder, std::size_t samples) {
  std::filesystem::create_directories(folder.latency_csv().parent_path());
  hat::latency_dataset_inputs in;
  in.out = folder.latency_csv();
  in.samples = samples;
  in.vocab = 60;
  in.protocol.source_length = 5;
  in.protocol.beam = 1;
  in.protocol.iters = 1;
  in.protocol.warmup = 0;
  in.progress = nullptr;
  return in;
}

// The CPU backend, recording the weights' precision of every product it runs (copies share the
// record): what a step timed is then known, not just what it was asked to time.
struct precision_spy : hat::cpu {
  std::shared_ptr<std::vector<hat::precision>> seen = std::make_shared<std::vector<hat::precision>>();
  template <class T>
  void gemm(hat::matrix_cref<T> a, hat::op ta, hat::matrix_cref<T> b, hat::op tb, hat::matrix_ref<T> c, T alpha, T beta) const {
    seen->push_back(decode_precision());
    hat::cpu::gemm<T>(a, ta, b, tb, c, alpha, beta);
  }
  template <class T>  // paneled products (paneled_matrix::product) come here, not through gemm
  void gemm_panels(hat::matrix_cref<T> x, std::span<const hat::matrix_cref<T>> w, hat::matrix_ref<T> y, T alpha,
                   T beta) const {
    seen->push_back(decode_precision());
    hat::cpu::gemm_panels<T>(x, w, y, alpha, beta);
  }
  bool only(hat::precision p) const {
    return !seen->empty() && std::all_of(seen->begin(), seen->end(), [p](hat::precision q) { return q == p; });
  }
};
}  // namespace

TEST_CASE("train step: stops when asked, resumes, and a finished run returns untouched", "[train][pipeline]") {
  const auto dir = fresh_dir("train");
  hat::write_number_words_corpus(dir / "data", {300, 20, 10, 1});
  hat::training_config c = hat::parse_training_yaml(tiny_training, (dir / "training.yml").string());
  c.data = (dir / "data").string();
  hat::cpu be;
  hat::train_inputs in;
  in.save_dir = dir / "run";
  in.progress = nullptr;
  std::size_t seen = 0;
  in.on_update = [&](const hat::update_record&) { ++seen; };
  in.stop_requested = [&] { return seen == 1; };
  const auto first = hat::train_model<hat::number_words_space>(be, c, in);
  CHECK(first.stopped);
  CHECK_FALSE(first.resumed);
  CHECK(first.updates == 1);
  REQUIRE(std::filesystem::exists(first.checkpoint));

  in.stop_requested = nullptr;
  std::size_t started_at = 99;
  in.on_start = [&](std::size_t u) { started_at = u; };
  const auto second = hat::train_model<hat::number_words_space>(be, c, in);
  CHECK(second.resumed);
  CHECK_FALSE(second.stopped);
  CHECK_FALSE(second.already_done);  // it trained updates 2-4
  CHECK(started_at == 1);
  CHECK(second.updates == 4);
  CHECK(seen == 4);

  const std::string valid = hat::read_file(in.save_dir / "valid.csv"), weights = hat::read_file(second.checkpoint);
  {  // The loss curve of the interrupted run equals an uninterrupted one's (but for wall-clock seconds).
    hat::train_inputs straight;
    straight.save_dir = dir / "straight";
    straight.progress = nullptr;
    hat::train_model<hat::number_words_space>(be, c, straight);
    const auto without_seconds = [](const std::string& csv) {
      std::string kept;
      std::istringstream lines(csv);
      for (std::string line; std::getline(lines, line);) kept += line.substr(0, line.rfind(',')) + "\n";
      return kept;
    };
    CHECK(without_seconds(hat::read_file(in.save_dir / "loss.csv")) == without_seconds(hat::read_file(straight.save_dir / "loss.csv")));
    CHECK(hat::read_file(in.save_dir / "valid.csv") == hat::read_file(straight.save_dir / "valid.csv"));
  }
  started_at = 99;
  const auto third = hat::train_model<hat::number_words_space>(be, c, in);
  CHECK(third.resumed);
  CHECK(third.already_done);
  CHECK(third.updates == 4);
  CHECK(started_at == 99);  // nothing to train: no start
  CHECK(seen == 4);
  CHECK(hat::read_file(in.save_dir / "valid.csv") == valid);  // no repeated validation rows
  CHECK(hat::read_file(third.checkpoint) == weights);

  // A SubTransformer run must not overwrite the SuperTransformer's checkpoint in its folder.
  hat::write_subtransformer_yaml(hat::represent_smallest<hat::number_words_space>(), (dir / "sub.yml").string());
  hat::training_config sub = c;
  sub.train_subtransformer = true;
  sub.subtransformer_config = (dir / "sub.yml").string();
  CHECK_THROWS_WITH(hat::train_model<hat::number_words_space>(be, sub, in), Catch::Contains("checkpoint of another run"));
  CHECK(hat::read_file(third.checkpoint) == weights);

  // The test step: translations and the record, written as the record says.
  hat::test_inputs t;
  t.checkpoint = third.checkpoint.string();
  t.data = c.data;
  t.translate.generation.beam = 2;
  t.translate.generation.max_len_b = 12;
  t.hypotheses_out = dir / "test" / "t.hyp";
  t.record_out = dir / "test" / "t.json";
  std::filesystem::create_directories(dir / "test");
  const auto smallest = hat::represent_smallest<hat::number_words_space>();
  const auto r = hat::test_subtransformer<hat::number_words_space>(be, smallest, t);
  CHECK(r.sentences == 10);
  CHECK(r.hypotheses.size() == 10);
  CHECK(r.params == hat::params(smallest));
  CHECK(r.flops == hat::flops(smallest, 30));
  CHECK(r.sacrebleu.score >= 0);
  const auto record = hat::read_json(t.record_out);
  CHECK(hat::json_get<double>(record, "bleu", "t.json") == r.sacrebleu.score);
  CHECK(hat::json_get<std::string>(record, "split", "t.json") == "test");
  const std::string hyps = hat::read_file(t.hypotheses_out);
  CHECK(std::count(hyps.begin(), hyps.end(), '\n') == 10);
  t.split = "nosuch";
  CHECK_THROWS_WITH(hat::test_subtransformer<hat::number_words_space>(be, smallest, t), Catch::Contains("nosuch.de"));
  t.split = "test";

  // The subword model is bound to the checkpoint: found beside it when the run folder moves,
  // another model (of another size, or other bytes) refused, a stale one in a save folder refused.
  const auto state = hat::read_checkpoint_state(third.checkpoint);
  REQUIRE(state.value("subwords"));
  CHECK(*state.value("subwords") == "subwords.model");
  CHECK(state.value("subwords_fnv1a"));
  std::filesystem::rename(dir / "run", dir / "moved");
  t.checkpoint = (dir / "moved" / "checkpoint_last.hat").string();
  t.record_out.clear();
  CHECK(hat::test_subtransformer<hat::number_words_space>(be, smallest, t).sentences == 10);
  const auto src = hat::read_lines((dir / "data" / "train.de").string()), tgt = hat::read_lines((dir / "data" / "train.en").string());
  hat::subword_options other;
  other.vocab_size = 90;
  hat::subword_model::train({&src, &tgt}, (dir / "other.model").string(), other);
  t.bpe_model = (dir / "other.model").string();
  CHECK_THROWS_WITH(hat::test_subtransformer<hat::number_words_space>(be, smallest, t),
                    Catch::Contains("other.model: a subword model of") && Catch::Contains("was trained with one of"));
  std::filesystem::copy_file(dir / "moved" / "subwords.model", dir / "copy.model");  // the same bytes elsewhere: fine
  t.bpe_model = (dir / "copy.model").string();
  CHECK(hat::test_subtransformer<hat::number_words_space>(be, smallest, t).sentences == 10);
  hat::checkpoint_extras other_bytes = state;  // a model of the same size whose bytes differ
  for (auto& [key, value] : other_bytes.values)
    if (key == "subwords_fnv1a") value = "0123456789abcdef";
  CHECK_THROWS_WITH(hat::check_subwords(other_bytes, "c.hat", hat::subword_model::load(t.bpe_model)),
                    Catch::Contains("not the subword model c.hat was trained with (its bytes differ"));
  std::filesystem::create_directories(dir / "stale");
  std::filesystem::copy_file(dir / "moved" / "subwords.model", dir / "stale" / "subwords.model");
  hat::training_config smaller = c;
  smaller.bpe_vocab_size = 100;
  hat::train_inputs fresh;
  fresh.save_dir = dir / "stale";
  fresh.progress = nullptr;
  CHECK_THROWS_WITH(hat::train_model<hat::number_words_space>(be, smaller, fresh), Catch::Contains("more than the bpe-vocab-size 100"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("train step at bf16: the checkpoint says so, another precision's run refuses it, the caller's backend stays fp32",
          "[train][pipeline][bf16]") {
  const auto dir = fresh_dir("train_bf16");
  hat::write_number_words_corpus(dir / "data", {300, 20, 10, 1});
  const auto config = [&](const std::string& extra) {
    hat::training_config c = hat::parse_training_yaml(tiny_training + extra, (dir / "training.yml").string());
    c.data = (dir / "data").string();
    return c;
  };
  const auto at16 = config("precision: bf16\n"), at32 = config("");
  CHECK(at16.trainer.products == hat::precision::bf16);
  CHECK(at32.trainer.products == hat::precision::fp32);
  CHECK_THROWS_WITH(config("precision: int8\n"), Catch::Contains("training.yml:21") && Catch::Contains("key 'precision': training runs at fp32 or bf16"));
  CHECK_THROWS_WITH(config("precision: fp64\n"), Catch::Contains("key 'precision': training runs at fp32 or bf16, got 'fp64'"));
  hat::cpu be;
  const auto run = [&](const hat::training_config& c, const std::string& folder) {
    hat::train_inputs in;
    in.save_dir = dir / folder;
    in.progress = nullptr;
    return hat::train_model<hat::number_words_space>(be, c, in);
  };
  const auto r16 = run(at16, "bf16");
  CHECK(be.training_precision() == hat::precision::fp32);
  CHECK(*hat::read_checkpoint_state(r16.checkpoint).value("run") == "supertransformer random, bf16 products");
  run(at32, "fp32");
  CHECK(*hat::read_checkpoint_state(dir / "fp32" / "checkpoint_last.hat").value("run") == "supertransformer random");
  // the same run otherwise: close losses, not equal ones
  const std::string v16 = hat::read_file(dir / "bf16" / "valid.csv"), v32 = hat::read_file(dir / "fp32" / "valid.csv");
  CHECK(v16 != v32);
  CHECK(std::count(v16.begin(), v16.end(), '\n') == std::count(v32.begin(), v32.end(), '\n'));
  const std::string kept = hat::read_file(r16.checkpoint);
  CHECK_THROWS_WITH(run(at32, "bf16"), Catch::Contains("checkpoint of another run (supertransformer random, bf16 products)"));
  CHECK_THROWS_WITH(run(at16, "fp32"), Catch::Contains("checkpoint of another run (supertransformer random)"));
  CHECK(hat::read_file(r16.checkpoint) == kept);
  CHECK(run(at16, "bf16").resumed);  // its own precision resumes (finished: returns at once)
  std::filesystem::remove_all(dir);
}

TEST_CASE("results: Markdown, CSV and JSON of the same rows; a NaN writes nothing", "[train][pipeline]") {
  const auto dir = fresh_dir("results");
  std::vector<hat::pipeline_row> rows(2);
  rows[0] = {"50pct", "enc 64", 1.5, 1.25, 1.375, 30.5, 31.25, 1000000, 2500000000};
  rows[1] = {"100ms", "enc 32", 100, 90, 80, 20, 21, 500000, 1000000000};
  const double now[] = {1.2, 2.6, 0.9}, then[] = {1.0, 2.0, 1.0};  // the dataset's rows re-measured
  const auto drift = hat::latency_drift_of(now, then);
  CHECK(drift.rows == 3);
  CHECK(drift.median == Approx(1.2));
  CHECK(drift.low == Approx(0.9));
  CHECK(drift.high == Approx(1.3));
  CHECK(drift.suspicious());
  const std::string md = hat::write_pipeline_results(dir, rows, "a test device", drift);
  CHECK(md.find("| 50pct (1.50 ms) | hat | 1.25 | 1.38 | 1.10 | 1.00 | 2.500 | 30.50 | 31.25 | `enc 64` |") != std::string::npos);
  const std::string md_file = hat::read_file(dir / "results.md");
  CHECK(md_file.starts_with("Measured on a test device.\n\n"));
  CHECK_THAT(md_file, Catch::Contains("Latency check: 3 rows of the latency dataset, re-measured with the results, took 1.20x "
                                      "their recorded latency (median; 0.90-1.30). The device ran at another speed"));
  CHECK(hat::read_file(dir / "results.csv") ==
        "constraint,family,limit_ms,predicted_ms,measured_ms,dataset_drift,params,flops,bleu,bleu_tokenized,bleu_p_value,arch\n"
        "50pct,hat,1.5,1.25,1.375,1.2,1000000,2500000000,30.5,31.25,,\"enc 64\"\n"
        "100ms,hat,100,90,80,1.2,500000,1000000000,20,21,,\"enc 32\"\n");
  const auto j = hat::read_json(dir / "results.json");
  REQUIRE(j.size() == 2);
  CHECK(j[0]["flops"].get<std::int64_t>() == 2500000000);
  CHECK(j[1]["constraint"] == "100ms");
  CHECK(j[1]["family"] == "hat");
  CHECK_FALSE(j[1].contains("bleu_p_value"));  // no baseline, no test of the difference
  CHECK_THAT(hat::read_file(dir / "results.svg"), Catch::Contains("HAT (searched SubTransformers)"));
  CHECK_THAT(md_file, !Catch::Contains("uniformly scaled"));  // no baselines, no comparison
  CHECK(j[1]["dataset_drift"].get<double>() == Approx(1.2));
  const double steady[] = {1.05, 0.97};
  const double ones[] = {1.0, 1.0};
  CHECK_FALSE(hat::latency_drift_of(steady, ones).suspicious());  // within 10 %
  const std::string before = hat::read_file(dir / "results.md") + hat::read_file(dir / "results.csv");
  rows[1].measured_ms = std::nan("");
  CHECK_THROWS_WITH(hat::write_pipeline_results(dir, rows, "a test device", drift), Catch::Contains("'[1].measured_ms' = nan"));
  CHECK(hat::read_file(dir / "results.md") + hat::read_file(dir / "results.csv") == before);
  std::filesystem::remove_all(dir);
}

TEST_CASE("results: HAT's rows against the baselines of the same constraints", "[train][pipeline]") {
  const auto dir = fresh_dir("families");
  std::vector<hat::pipeline_row> rows(6);
  //              constraint  arch     limit predicted measured BLEU  tok.  params flops family
  rows[0] = {"50pct", "a", 2, 1.9, 2.0, 30, 31, 10, 20, "hat"};
  rows[1] = {"50pct", "b", 2, 1.8, 2.02, 25, 26, 10, 20, "baseline"};  // HAT: +5 BLEU, 1 % faster: a win
  rows[2] = {"75pct", "c", 3, 2.9, 3.3, 33, 34, 10, 20, "hat"};
  rows[3] = {"75pct", "d", 3, 2.5, 3.0, 32, 33, 10, 20, "baseline"};  // HAT: +1 BLEU but 10 % slower: mixed
  rows[4] = {"100pct", "e", 4, 3.9, 4.0, 34, 35, 10, 20, "hat"};
  rows[5] = {"100pct", "f", 4, 3.9, 4.1, 36, 37, 10, 20, "baseline"};  // HAT: -2 BLEU, 2.5 % faster: a loss
  const auto c = hat::compare_families(rows);  // no p-values: every BLEU difference counts
  CHECK(c.pairs == 3);
  CHECK(c.wins == 1);
  CHECK(c.losses == 1);
  CHECK(c.ties == 0);
  CHECK(c.mixed() == 1);
  CHECK(c.mean_bleu_gain == Approx((5.0 + 1.0 - 2.0) / 3));
  CHECK(c.mean_latency_ratio == Approx(std::cbrt(2.0 / 2.02 * 3.3 / 3.0 * 4.0 / 4.1)));
  CHECK_THAT(c.sentence(), Catch::Contains("neither family wins overall on this run (1 win(s), 1 loss(es), 0 tie(s), 1 mixed of 3;") &&
                               Catch::Contains("BLEU +1.33"));
  rows[4].bleu_p_value = rows[5].bleu_p_value = 0.4;  // the -2 BLEU is noise: at the same latency, a tie
  const auto t = hat::compare_families(rows);
  CHECK(t.ties == 1);
  CHECK(t.losses == 0);
  CHECK_THAT(t.sentence(), Catch::Contains("HAT's networks win more often than they lose"));
  rows[4].measured_ms = 3.5;  // the same BLEU 12.5 % faster: a win
  CHECK(hat::compare_families(rows).wins == 2);
  rows[4].measured_ms = 4.0;
  rows[4].bleu_p_value = rows[5].bleu_p_value = 0.01;  // significant again: a loss
  CHECK(hat::compare_families(rows).losses == 1);
  rows[4].bleu_p_value = rows[5].bleu_p_value = std::nullopt;
  rows[5].bleu = 30;  // now HAT wins there too
  CHECK_THAT(hat::compare_families(rows).sentence(), Catch::Contains("HAT's networks win more often than they lose"));
  rows[3].bleu = 20;
  rows[3].measured_ms = 3.3;
  CHECK_THAT(hat::compare_families(rows).sentence(), Catch::Contains("HAT's networks win at every constraint"));
  rows[0].bleu_p_value = rows[1].bleu_p_value = 0.002;
  hat::write_pipeline_results(dir, rows, "a test device");
  CHECK_THAT(hat::read_file(dir / "results.md"), Catch::Contains("| 75pct (3.00 ms) | baseline | 2.50 |") &&
                                                     Catch::Contains("HAT's networks win at every constraint"));
  const std::string svg = hat::read_file(dir / "results.svg");
  CHECK_THAT(svg, Catch::Contains("HAT (searched SubTransformers)") && Catch::Contains("Transformer, uniformly scaled"));
  CHECK(hat::read_json(dir / "results.json")[5]["family"] == "baseline");
  CHECK(hat::read_json(dir / "results.json")[1]["bleu_p_value"].get<double>() == 0.002);
  CHECK_THAT(hat::read_file(dir / "results.csv"), Catch::Contains(",25,26,0.002,\"b\"\n"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("latency step: continues its own rows, refuses another seed's file and keeps it", "[train][pipeline]") {
  const auto dir = fresh_dir("latency");
  const hat::run_folder folder{dir};
  hat::cpu be;
  auto in = tiny_latency_dataset(folder, 3);
  const auto a = hat::measure_latency_dataset<hat::number_words_space>(be, in);
  CHECK(a.measured_now == 3);
  REQUIRE(a.table.rows.size() == 3);
  CHECK(a.fastest_ms > 0);
  CHECK(a.fastest_ms <= a.mean_ms);
  CHECK(a.mean_ms <= a.slowest_ms);

  in.samples = 5;
  const auto b = hat::measure_latency_dataset<hat::number_words_space>(be, in);
  CHECK(b.measured_now == 2);
  REQUIRE(b.table.rows.size() == 5);
  for (std::size_t i = 0; i < 3; ++i) CHECK(b.table.rows[i].total_ms() == a.table.rows[i].total_ms());

  const std::string kept = hat::read_file(in.out);
  in.seed = 2;
  CHECK_THROWS_WITH(hat::measure_latency_dataset<hat::number_words_space>(be, in), Catch::Contains("not the architecture"));
  CHECK(hat::read_file(in.out) == kept);
  in.seed = 1;
  in.weights = hat::precision::int8;
  CHECK_THROWS_WITH(hat::measure_latency_dataset<hat::number_words_space>(be, in),
                    Catch::Contains("measured at precision fp32, this run measures int8"));
  CHECK(hat::read_file(in.out) == kept);
  in.weights = hat::precision::fp32;
  in.samples = 30;
  hat::measure_latency_dataset<hat::number_words_space>(be, in);

  SECTION("predictor step: trained, scored on the held-out rows, plotted, saved last") {
    for (auto model : {std::optional<hat::predictor_model>(hat::predictor_model::linear), std::optional<hat::predictor_model>()}) {
      hat::predictor_inputs p;
      p.csv = folder.latency_csv();
      p.out = folder.predictor_file();
      p.plot = folder.predictor_plot();
      p.model = model;
      p.lat_norm = 10;
      p.train.steps = 20;
      std::filesystem::create_directories(p.out.parent_path());
      std::filesystem::remove(p.out);
      std::size_t steps = 0;
      p.progress = [&](std::size_t, std::size_t, double) { ++steps; };
      auto r = hat::train_latency_predictor(be, p);
      CHECK(folder.predictor_done());
      CHECK(hat::read_file(p.plot).find("</svg>") != std::string::npos);
      CHECK(r.test.rows == 3);
      CHECK(std::isfinite(r.test.rmse_ms));
      if (model) CHECK(r.model == hat::predictor_model::linear);
      else CHECK(steps == 20);  // auto also trains the MLP
      auto loaded = hat::latency_predictor<hat::cpu>::load(be, p.out.string());
      const auto table = hat::read_latency_csv(p.csv);
      std::vector<std::array<double, 10>> x{table.rows[0].features, table.rows[7].features};
      const auto pa = loaded.predict_ms(x), pb = r.predictor.predict_ms(x);
      for (std::size_t i = 0; i < pa.size(); ++i) CHECK(pa[i] == Approx(pb[i]).epsilon(1e-9));
    }
    // The search step: the best network under the constraint, its history, written last.
    {
      auto predictor = hat::latency_predictor<hat::cpu>::load(be, folder.predictor_file().string());
      const auto ms = [&](const hat::arch<hat::number_words_space>& a) { return predictor(a); };
      const double limit = 0.5 * (ms(hat::arch<hat::number_words_space>::largest()) +
                                  ms(hat::arch<hat::number_words_space>::smallest()));
      hat::search_inputs q;
      q.limit_ms = limit;
      q.evo.iterations = 2;
      q.evo.population = 8;
      q.evo.parents = 2;
      q.evo.mutations = 3;
      q.evo.crossovers = 3;
      q.out = folder.search_arch("half");
      q.history = folder.search_history("half");
      q.progress = nullptr;
      std::filesystem::create_directories(q.out.parent_path());
      const auto found = hat::search_architecture<hat::number_words_space>(be, predictor, q);
      CHECK(found.predicted_ms <= limit);
      CHECK(folder.search_done("half"));
      CHECK(hat::read_subtransformer_yaml<hat::number_words_space>(q.out.string()).to_string() == found.result.best.to_string());
      CHECK(!found.scored.empty());
      CHECK(hat::read_file(std::filesystem::path(q.history).replace_extension(".svg")).find("</svg>") != std::string::npos);
      q.limit_ms = 0.5;
      q.out = folder.search_arch("none");
      auto one_ms = [](const hat::arch<hat::number_words_space>&) { return 1.0; };  // every network over the limit
      CHECK_THROWS_AS(hat::search_architecture<hat::number_words_space>(be, one_ms, q), hat::infeasible_constraint);
      CHECK_FALSE(folder.search_done("none"));
    }
    hat::predictor_inputs bad;
    bad.csv = folder.latency_csv();
    CHECK_THROWS_WITH(hat::train_latency_predictor(be, bad), Catch::Contains("lat_norm"));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("latency step at int8: the dataset and its predictor say int8; a search for fp32 refuses it", "[train][pipeline]") {
  const auto dir = fresh_dir("latency_int8");
  const hat::run_folder folder{dir};
  hat::cpu be;
  auto in = tiny_latency_dataset(folder, 20);
  in.weights = hat::precision::int8;
  precision_spy spy;
  const auto a = hat::measure_latency_dataset<hat::number_words_space>(spy, in);
  CHECK(a.table.weights == hat::precision::int8);
  CHECK(hat::read_latency_csv(in.out).weights == hat::precision::int8);
  CHECK(spy.only(hat::precision::int8));  // every product timed ran on the int8 weights
  CHECK(spy.decode_precision() == hat::precision::fp32);  // the caller's backend stays fp32
  spy.seen->clear();
  const std::vector<hat::transformer_config> two{hat::config_of(hat::arch<hat::number_words_space>::largest()),
                                                 hat::config_of(hat::arch<hat::number_words_space>::smallest())};
  const auto totals = hat::measure_totals<hat::number_words_space>(spy, std::span(two), 60, 1, in.protocol, hat::precision::int8);
  CHECK(totals.size() == 2);
  CHECK(spy.only(hat::precision::int8));
  spy.seen->clear();
  hat::measure_totals<hat::number_words_space>(spy, std::span(two), 60, 1, in.protocol);
  CHECK(spy.only(hat::precision::fp32));

  hat::predictor_inputs p;
  p.csv = in.out;
  p.out = folder.predictor_file();
  p.model = hat::predictor_model::linear;
  p.lat_norm = 1;
  std::filesystem::create_directories(p.out.parent_path());
  CHECK(hat::train_latency_predictor(be, p).predictor.measured_at() == hat::precision::int8);
  auto predictor = hat::latency_predictor<hat::cpu>::load(be, p.out.string());
  CHECK(predictor.measured_at() == hat::precision::int8);

  hat::search_inputs q;  // one small generation, every network within the limit
  q.limit_ms = 1e9;
  q.evo.iterations = 1;
  q.evo.population = 4;
  q.evo.parents = 2;
  q.evo.mutations = q.evo.crossovers = 1;
  q.out = folder.search_arch("all");
  q.inputs = {p.out};
  q.progress = nullptr;
  std::filesystem::create_directories(q.out.parent_path());
  CHECK_THROWS_WITH(hat::search_architecture<hat::number_words_space>(be, predictor, q),
                    Catch::Contains("latency.pred: int8 latencies; the search's precision is fp32"));
  CHECK_FALSE(folder.search_done("all"));
  q.weights = hat::precision::int8;
  CHECK_NOTHROW(hat::search_architecture<hat::number_words_space>(be, predictor, q));
  CHECK(folder.search_done("all"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("latency check rows: spread over the recorded latencies, fastest and slowest included", "[train][pipeline]") {
  hat::latency_table t;
  for (double ms : {5.0, 1.0, 9.0, 3.0, 7.0, 2.0, 8.0, 4.0, 6.0}) {
    hat::latency_row r;
    r.encoder_ms = ms;
    t.rows.push_back(r);
  }
  CHECK(hat::latency_check_rows(t, 3) == std::vector<std::size_t>{1, 0, 2});  // 1, 5 and 9 ms
  CHECK(hat::latency_check_rows(t, 100).size() == 9);
  CHECK(hat::latency_check_rows(t, 1) == std::vector<std::size_t>{1});
  CHECK(hat::latency_check_rows({}, 8).empty());
  // The architectures are those the dataset step samples, in its order.
  const auto a = hat::latency_dataset_archs<hat::number_words_space>(5, 3), b = hat::latency_dataset_archs<hat::number_words_space>(7, 3);
  REQUIRE(a.size() == 5);
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i].to_string() == b[i].to_string());
}
