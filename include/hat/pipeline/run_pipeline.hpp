// SPDX-License-Identifier: MIT
// run_pipeline: the whole HAT method as one library call on any space and backend: SuperTransformer
// training, a latency dataset on this device, the latency predictor, evolutionary search at each
// latency constraint, SubTransformer training and test, then predicted against measured latency.
// The run folder is the state: a step whose output exists is skipped, training and the latency
// dataset resume themselves, so calling it again after an interruption resumes the run.
#pragma once

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <functional>
#include <iostream>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <hat/backend/concepts.hpp>
#include <hat/backend/precision.hpp>
#include <hat/config.hpp>
#include <hat/io/read_file.hpp>
#include <hat/io/atomic_file.hpp>
#include <hat/data/load_corpus.hpp>
#include <hat/dist/communicator.hpp>
#include <hat/data/subword_model.hpp>
#include <hat/data/text_reader.hpp>
#include <hat/eval/paired_bootstrap.hpp>
#include <hat/io/json.hpp>
#include <hat/nn/checkpoint.hpp>
#include <hat/pipeline/latency_step.hpp>
#include <hat/pipeline/predictor_step.hpp>
#include <hat/pipeline/results.hpp>
#include <hat/pipeline/run_folder.hpp>
#include <hat/pipeline/search_step.hpp>
#include <hat/pipeline/subword_binding.hpp>
#include <hat/pipeline/test_step.hpp>
#include <hat/pipeline/subtransformer_schedule.hpp>
#include <hat/pipeline/train_step.hpp>
#include <hat/predictor/latency_predictor.hpp>
#include <hat/space/uniform.hpp>
#include <hat/yaml/pipeline.hpp>
#include <hat/yaml/subtransformer.hpp>
#include <hat/yaml/training.hpp>

namespace hat {

/// Steps that run on another device than the pipeline's backend (the command line's GPU, with
/// `train-device: cuda` / `latency-device: cuda`). An empty hook runs the step on the backend; a
/// config naming a device other than `cpu` needs its hooks.
struct pipeline_devices {
  std::function<train_outputs(const training_config&, const train_inputs&)> train;
  std::function<latency_dataset_outputs(const latency_dataset_inputs&)> latency_dataset;
  std::function<measured_latencies(std::span<const transformer_config>, std::size_t vocab, std::uint64_t seed,
                                   const latency_options&)>
      measure;
};

struct pipeline_inputs {
  run_folder folder;  // where every step keeps what it made (docs/pipeline.md)
  std::string data;   // corpus folder (<split>.<lang>); empty: the configs'
  int threads = 0;    // for training, search and test (0: the config's); latency uses latency-threads
  bool quiet = false;  // no progress on stderr
  predictor_train_options predictor{};  // how predictors fit (the config chooses the model and seed)
  /// Polled during training: true saves the checkpoint and returns with `stopped` set.
  std::function<bool()> stop_requested{};
  pipeline_devices devices{};
  /// The ranks of a job under mpirun (docs/distributed.md; null: this process alone): training,
  /// search and test are shared by them; rank 0 alone measures latency (the others wait without
  /// using a core), fits the predictor, writes the run folder and prints.
  communicator* comm = nullptr;
};

struct pipeline_outputs {
  std::vector<pipeline_row> rows;  // one per latency constraint (empty when stopped)
  std::string device;              // where the rows' latencies were measured
  std::string table;               // results.md's table
  latency_drift drift;             // the dataset's rows re-measured with the results, against their record
  family_comparison families;      // HAT's rows against the baselines (none without `baselines: true`)
  bool stopped = false;
};

/// The backend in words, for the results table: its describe(), or OpenBLAS's threads and core.
template <backend_policy Backend>
std::string describe_backend(const Backend& be) {
  if constexpr (requires { be.describe(); }) {
    return be.describe();
  } else if constexpr (requires { Backend::threads(); Backend::blas_core(); }) {
    return "this CPU (" + std::to_string(Backend::threads()) + " thread(s), OpenBLAS " + Backend::blas_core() + ")";
  } else {
    return "this device";
  }
}

namespace detail {


template <backend_policy Backend>
void set_backend_threads(int n) {
  if constexpr (requires { Backend::set_threads(n); }) Backend::set_threads(n);
}

/// Announces each step, skips it when its output exists, and names it when it fails.
class pipeline_steps {
 public:
  /// `silent`: not even a failed step is named (the ranks other than 0 of a job).
  pipeline_steps(std::size_t total, bool quiet, bool silent = false)
      : total_(total), quiet_(quiet || silent), silent_(silent), start_(std::chrono::steady_clock::now()) {}

  template <class F>
  void operator()(const std::string& what, bool done, F&& run) {
    ++k_;
    std::fflush(stdout);  // what came before this step's header, when both go to one file
    if (!quiet_)
      std::fprintf(stderr, "\nhat pipeline: step %zu/%zu, %s%s (%.0f s so far)\n", k_, total_, what.c_str(),
                   done ? ": done already, skipped" : "", seconds());
    if (done) return;
    try {
      run();
    } catch (...) {
      if (!silent_)
        std::fprintf(stderr, "hat pipeline: step %zu (%s) failed; fix the cause and run the pipeline again to resume from this step\n",
                     k_, what.c_str());
      throw;
    }
  }
  double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }

 private:
  std::size_t total_, k_ = 0;
  bool quiet_, silent_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace detail

/// bf16 training (the training config's `precision`) runs on the CPU only: a config_error naming
/// both files when `cfg` trains elsewhere. run_pipeline checks it; a caller that writes into the
/// run folder first checks it before.
inline void check_training_device(const pipeline_config& cfg, const training_config& tc) {
  if (cfg.train_device != "cpu" && tc.trainer.products != precision::fp32)
    throw config_error(tc.file + ": key 'precision': " + std::string(precision_name(tc.trainer.products)) +
                       " training runs on the CPU only, and " + cfg.file + " sets train-device '" + cfg.train_device + "'");
}

/// Runs the pipeline of `cfg` (training `tc`) on space S and backend `be` in in.folder. Throws
/// config_error (bad files, a checkpoint of another space), training_diverged, and
/// infeasible_constraint (no network meets a constraint); each names its step on stderr first.
template <transformer_space S, backend_policy Backend>
pipeline_outputs run_pipeline(Backend& be, const pipeline_config& cfg, training_config tc, const pipeline_inputs& in) {
  namespace fs = std::filesystem;
  const run_folder& folder = in.folder;
  const pipeline_devices& dev = in.devices;
  if (cfg.train_device != "cpu" && !dev.train)
    throw config_error(cfg.file + ": train-device '" + cfg.train_device + "': this program gives no way to train there");
  check_training_device(cfg, tc);
  if (cfg.latency_device != "cpu" && (!dev.latency_dataset || !dev.measure))
    throw config_error(cfg.file + ": latency-device '" + cfg.latency_device + "': this program gives no way to measure there");
  tc.data = !in.data.empty() ? in.data : !cfg.data.empty() ? cfg.data : tc.resolve(tc.data);
  if (tc.data.empty()) throw config_error(cfg.file + ": no corpus: set 'data' here or in " + tc.file);
  if (is_fairseq_binarized(tc.data))  // its latency datasets and tests read text through the subword model
    throw config_error(tc.data + ": fairseq's binarized data; the pipeline reads a text corpus (its subword model sets the "
                       "sentence lengths and vocabulary it measures): run hat train, search and test on this folder one by one");
  const lr_schedule sub_schedule = subtransformer_schedule(tc.trainer.schedule, cfg);  // checked before any step
  const int threads = in.threads > 0 ? in.threads : cfg.threads;
  const std::string threads_text = std::to_string(threads) + " threads";
  communicator& comm = in.comm ? *in.comm : this_process_alone();
  const bool lead = comm.rank() == 0;
  if (comm.size() > 1 && (dev.train || dev.latency_dataset))
    throw config_error(cfg.file + ": a pipeline on " + std::to_string(comm.size()) + " ranks trains and measures on the CPU; "
                       "train-device and latency-device cuda run in one process");
  FILE* const progress = in.quiet || !lead ? nullptr : stderr;
  // A run folder holds one precision: its dataset, predictor, searches and tests are all for it.
  // Recorded before step 1 and checked on every rerun (a folder from before the record holds
  // fp32 results, if any).
  const std::string weights = weights_text(cfg.weights, cfg.scales);
  {
    const fs::path stamp = folder.precision_file();
    const bool earlier = fs::exists(folder.latency_csv()) || fs::exists(folder.predictor_file()) || fs::exists(folder.root / "search");
    std::string recorded = fs::exists(stamp) ? read_file(stamp) : earlier ? "fp32" : weights;
    while (!recorded.empty() && std::isspace(static_cast<unsigned char>(recorded.back()))) recorded.pop_back();
    if (recorded != weights)
      throw config_error(folder.root.string() + ": a run for " + recorded + " weights, but " + cfg.file + " says " + weights +
                         " (a run folder holds one precision: use another run folder)");
    on_rank0(comm, [&] {
      if (!fs::exists(stamp)) {
        fs::create_directories(folder.root);
        write_file_atomic(stamp, weights + "\n");
      }
    });
  }
  if constexpr (requires { Backend::precision_warning(cfg.weights); })
    if (const auto w = Backend::precision_warning(cfg.weights); progress && !w.empty())
      std::fprintf(progress, "hat pipeline: warning: %s\n", w.c_str());
  pipeline_outputs out;
  detail::pipeline_steps step(3 + (cfg.baselines ? 6 : 3) * cfg.latency_constraints.size(), in.quiet, !lead);
  const auto train = [&](const training_config& c, train_inputs t) {
    t.progress = progress;
    t.stop_requested = in.stop_requested;
    t.comm = &comm;
    if (dev.train) return dev.train(c, t);
    detail::set_backend_threads<Backend>(threads);
    t.device = threads_text;
    return train_model<S>(be, c, t);
  };

  // 1. The SuperTransformer (resumes from its folder; returns at once when done).
  const bool given = !cfg.supertransformer_checkpoint.empty();
  const fs::path super_ckpt = given ? fs::path(cfg.supertransformer_checkpoint) : folder.supertransformer_checkpoint();
  std::string subword_file;  // the SuperTransformer's (its SubTransformers inherit its vocabulary)
  step(given ? "train the SuperTransformer (given: " + super_ckpt.string() + ")" : "train the SuperTransformer", given, [&] {
    training_config c = tc;
    if (cfg.supertransformer_updates) c.trainer.max_update = cfg.supertransformer_updates;
    train_inputs t;
    t.save_dir = folder.supertransformer_dir();
    const auto r = train(c, t);
    out.stopped = r.stopped;
    subword_file = r.subwords;
  });
  if (out.stopped) return out;
  if (given) {
    const auto state = read_checkpoint_state(super_ckpt.string());
    if (const std::string* space_of = state.value("space"); !space_of || *space_of != tc.space)
      throw config_error(super_ckpt.string() + ": not a SuperTransformer of space '" + tc.space + "'");
    subword_file = checkpoint_subwords(state, super_ckpt.string(), "").path();
  }
  const auto subwords = subword_model::load(subword_file);

  // 2. The latency dataset, with the real vocabulary and the corpus's mean source length.
  std::size_t length = cfg.latency_source_length;
  if (length == 0) {
    const auto valid = read_lines(corpus_location{tc.data, tc.source_lang, tc.target_lang}.file(tc.valid_split, tc.source_lang));
    double sum = 0;
    for (const auto& l : valid) sum += static_cast<double>(subwords.encode(l).size() + 1);
    length = std::max<std::size_t>(2, static_cast<std::size_t>(std::lround(sum / static_cast<double>(std::max<std::size_t>(1, valid.size())))));
  }
  latency_options protocol;
  protocol.source_length = length;
  protocol.beam = cfg.latency_beam;
  protocol.iters = cfg.latency_iters;
  protocol.warmup = cfg.latency_warmup;
  protocol.passes = cfg.latency_passes;
  double slowest = 0;
  step("measure the latency dataset on this device", false, [&] { on_rank0(comm, [&] {
    latency_dataset_inputs l;
    l.out = folder.latency_csv();
    fs::create_directories(l.out.parent_path());
    l.samples = cfg.latency_samples;
    l.vocab = subwords.size();
    l.protocol = protocol;
    l.seed = cfg.seed;
    l.weights = cfg.weights;
    l.progress = progress;
    detail::set_backend_threads<Backend>(cfg.latency_threads);
    const auto r = dev.latency_dataset ? dev.latency_dataset(l) : measure_latency_dataset<S>(be, l);
    slowest = r.slowest_ms;
    if (progress)
      std::fprintf(progress, "hat pipeline: %s: %zu rows, total latency %.2f - %.2f ms (mean %.2f)\n", l.out.c_str(),
                   r.table.rows.size(), r.fastest_ms, r.slowest_ms, r.mean_ms);
  }); });
  share_from_rank0(comm, slowest);  // the constraints are fractions of it

  // 3. The latency predictor.
  const fs::path pred_file = folder.predictor_file();
  step("train the latency predictor", folder.predictor_done(), [&] { on_rank0(comm, [&] {
    predictor_inputs p;
    p.csv = folder.latency_csv();
    p.out = pred_file;
    fs::create_directories(pred_file.parent_path());
    p.plot = folder.predictor_plot();
    p.model = predictor_model_named(cfg.predictor_model, cfg.file);
    p.lat_norm = cfg.predictor_lat_norm > 0 ? cfg.predictor_lat_norm : slowest;
    p.seed = cfg.seed;
    p.train = in.predictor;
    p.adapt_from = cfg.predictor_adapt_from;
    detail::set_backend_threads<Backend>(threads);
    const auto r = train_latency_predictor(be, p);
    if (progress && r.leave_one_out)
      std::fprintf(progress, "hat pipeline: predictor adapted from %s, leave-one-out over %zu rows: RMSE %.2f ms, MAPE %.2f %%, Kendall tau %.3f\n",
                   cfg.predictor_adapt_from.c_str(), r.test.rows, r.test.rmse_ms, 100 * r.test.mape, r.test.kendall_tau);
    else if (progress)
      std::fprintf(progress, "hat pipeline: predictor (%s) on the test split (%zu rows): RMSE %.2f ms, MAPE %.2f %%\n",
                   predictor_model_name(r.model).c_str(), r.test.rows, r.test.rmse_ms, 100 * r.test.mape);
  }); });
  detail::set_backend_threads<Backend>(threads);
  auto predictor = latency_predictor<Backend>::load(be, pred_file.string());
  require_latencies_at(predictor.measured_at(), cfg.weights, pred_file.string(), cfg.file + ": key 'precision'");
  const auto predicted = [&](const arch<S>& a) { return predictor(a); };

  std::vector<transformer_config> configs;  // of each row, in order
  const std::string test_split = cfg.test_split.empty() ? tc.test_split : cfg.test_split;
  // Trains the SubTransformer of `arch_file` (inherited weights unless `subtransformer-init:
  // scratch`) into `ckpt`, tests it (BLEU both ways, #params, FLOPs) into `record`: one row.
  const auto train_and_test = [&](const std::string& name, double ms, const fs::path& arch_file, const fs::path& ckpt,
                                  const fs::path& record, const fs::path& hypotheses, const std::string& family) {
    const std::string what = family == "hat" ? "the SubTransformer found under " + name : "the baseline under " + name;
    step("train " + what, false, [&] {
      training_config c = tc;
      c.trainer.max_update = cfg.subtransformer_updates;
      c.trainer.schedule = sub_schedule;
      train_inputs t;
      t.save_dir = ckpt.parent_path();
      t.arch = arch_file.string();
      if (cfg.subtransformer_inherit && !fs::exists(ckpt)) t.restore_file = super_ckpt.string();
      out.stopped = train(c, t).stopped;
    });
    pipeline_row r;
    if (out.stopped) return r;
    const auto a = read_subtransformer_yaml<S>(arch_file.string());
    configs.push_back(config_of(a));  // for the last step
    step("test " + what, fs::exists(record), [&] { on_every_rank(comm, [&] {  // the record is there for every rank after
      test_inputs t;
      t.checkpoint = ckpt.string();
      t.data = tc.data;
      t.split = test_split;
      t.translate.generation.beam = cfg.beam;
      t.translate.generation.lenpen = cfg.lenpen;
      t.translate.generation.max_len_a = cfg.max_len_a;
      t.translate.generation.max_len_b = cfg.max_len_b;
      t.flops_length = length;
      t.weights = cfg.weights;
      t.scales = cfg.scales;
      t.hypotheses_out = hypotheses;
      fs::create_directories(record.parent_path());
      t.record_out = record;
      t.translate.comm = &comm;
      detail::set_backend_threads<Backend>(threads);
      const auto res = test_subtransformer<S>(be, a, t);
      if (progress)
        std::fprintf(progress, "hat pipeline: %s: %zu sentences, BLEU %.2f (tokenized %.2f)\n", t.split.c_str(),
                     res.sentences, res.sacrebleu.score, res.tokenized.score);
    }); });
    const json j = read_json(record);  // also when skipped: the record is the step's result
    // A record of an earlier run at another precision is not this run's result.
    const auto said = [&](const char* key, std::string_view fallback) {
      return j.contains(key) ? json_get<std::string>(j, key, record.string()) : std::string(fallback);
    };
    const std::string tested = weights_text(parse_precision(said("precision", "fp32"), record.string() + ": key 'precision'"),
                                            parse_int8_scales(said("int8_scales", "panel"), record.string() + ": key 'int8_scales'"));
    if (tested != weights)
      throw config_error(record.string() + ": tested at precision " + tested + ", but " + cfg.file + " says " + weights +
                         " (a run folder holds one precision: use another run folder)");
    r.constraint = name;
    r.family = family;
    r.arch = a.to_string();
    r.limit_ms = ms;
    r.predicted_ms = predicted(a);
    r.bleu = json_get<double>(j, "bleu", record.string());
    r.bleu_tokenized = json_get<double>(j, "bleu_tokenized", record.string());
    r.params = json_get<std::int64_t>(j, "params", record.string());
    r.flops = json_get<std::int64_t>(j, "flops", record.string());
    return r;
  };
  for (const auto& limit : cfg.latency_constraints) {
    const std::string name = limit.name();
    const double ms = limit.ms(slowest);
    // 4. Search, with the SuperTransformer's validation loss as fitness (HAT's).
    const fs::path arch_file = folder.search_arch(name);
    step("search under " + detail::number(ms, "%.2f") + " ms (" + name + ")", folder.search_done(name), [&] {
      search_inputs s;
      s.limit_ms = ms;
      s.fitness = search_fitness_named(cfg.fitness, cfg.file);
      s.checkpoint = super_ckpt.string();
      s.data = tc.data;
      s.valid_batches = cfg.valid_batches;
      s.evo.iterations = cfg.iterations;
      s.evo.population = cfg.population;
      s.evo.parents = cfg.parents;
      s.evo.mutations = cfg.mutations;
      s.evo.crossovers = cfg.crossovers;
      s.evo.mutation_prob = cfg.mutation_prob;
      s.evo.seed = cfg.seed;
      s.weights = cfg.weights;
      s.scales = cfg.scales;
      s.out = arch_file;
      fs::create_directories(arch_file.parent_path());
      s.history = folder.search_history(name);
      s.title = tc.space;
      s.progress = in.quiet || !lead ? nullptr : &std::cerr;
      s.comm = &comm;
      const auto r = search_architecture<S>(be, predicted, s);
      if (progress)
        std::fprintf(progress, "hat pipeline: best %s: predicted %.2f ms, %s %.4g\n", r.result.best.to_string().c_str(),
                     r.predicted_ms, r.fitness_name.c_str(), r.result.best_fitness);
    });
    // 5. SubTransformer training: inherited weights unless `subtransformer-init: scratch`.
    // 6. Test: BLEU both ways, #params, FLOPs.
    out.rows.push_back(train_and_test(name, ms, arch_file, folder.subtransformer_checkpoint(name), folder.test_record(name),
                                      folder.test_hypotheses(name), "hat"));
    if (out.stopped) return out;
    if (!cfg.baselines) continue;
    // The baseline HAT's paper compares with: the uniformly scaled Transformer of the space
    // with the largest predicted latency under the same constraint, trained and tested as the
    // searched one was.
    const fs::path base_file = folder.baseline_arch(name);
    step("pick the uniformly scaled Transformer under " + name, folder.baseline_done(name), [&] { on_rank0(comm, [&] {
      const auto pick = pick_uniform<S>(predicted, ms);
      fs::create_directories(base_file.parent_path());
      write_subtransformer_yaml(pick.network, base_file);
      if (progress)
        std::fprintf(progress, "hat pipeline: baseline %s: predicted %.2f ms%s\n", pick.network.to_string().c_str(),
                     pick.predicted_ms, pick.meets_limit ? "" : " (none meets the constraint: the fastest)");
    }); });
    out.rows.push_back(train_and_test(name, ms, base_file, folder.baseline_checkpoint(name), folder.baseline_record(name),
                                      folder.baseline_hypotheses(name), "baseline"));
    if (out.stopped) return out;
    // Whether the two BLEU scores differ by more than the test set's sampling noise: the paired
    // bootstrap over both translation files (a second; from the files, so also when skipped).
    const corpus_location at{tc.data, tc.source_lang, tc.target_lang};
    paired_bootstrap_options bo;
    bo.seed = cfg.seed;
    const auto boot = paired_bootstrap_bleu(read_lines(folder.test_hypotheses(name).string()),
                                            read_lines(folder.baseline_hypotheses(name).string()),
                                            read_lines(at.file(test_split, tc.target_lang)), bo);
    out.rows[out.rows.size() - 2].bleu_p_value = out.rows.back().bleu_p_value = boot.p_value;
    if (progress)
      std::fprintf(progress, "hat pipeline: %s: HAT %.2f against the baseline's %.2f BLEU: difference %+.2f (95 %% interval %+.2f to %+.2f), p = %.3f\n",
                   name.c_str(), boot.bleu_a, boot.bleu_b, boot.bleu_a - boot.bleu_b, boot.ci_low, boot.ci_high, boot.p_value);
  }

  // 7. Predicted against measured latency of each result, timed as the dataset was, with a few
  // of the dataset's own rows re-measured beside them: if those now take another time than
  // they did, the device's speed drifted, and the comparison says so instead of blaming the
  // predictor.
  // Rank 0 alone, the others waiting without using a core; their outputs keep the rows unmeasured.
  on_rank0(comm, [&] {
    const auto dataset = read_latency_csv(folder.latency_csv());
    const auto check_rows = latency_check_rows(dataset, std::min<std::size_t>(8, dataset.rows.size()));
    const auto dataset_archs = latency_dataset_archs<S>(cfg.latency_samples, cfg.seed);
    std::vector<transformer_config> timed = configs;
    for (auto i : check_rows) timed.push_back(config_of(dataset_archs.at(i)));
    if (progress)
      std::fprintf(progress, "\nhat pipeline: last step, measure the latency of each result and of %zu dataset rows (%zu timed runs, sentences of %zu tokens)\n",
                   check_rows.size(), cfg.latency_iters, length);
    measured_latencies measured;
    if (dev.measure) {
      measured = dev.measure(timed, subwords.size(), cfg.seed, protocol);
    } else {
      detail::set_backend_threads<Backend>(cfg.latency_threads);
      measured.ms =
          measure_totals<S>(be, std::span<const transformer_config>(timed), subwords.size(), cfg.seed, protocol, cfg.weights);
      measured.device = describe_backend(be);
      if (cfg.weights != precision::fp32) measured.device += ", " + std::string(precision_name(cfg.weights)) + " weights";
    }
    for (std::size_t i = 0; i < out.rows.size(); ++i) out.rows[i].measured_ms = measured.ms[i];
    std::vector<double> now, then;
    for (std::size_t k = 0; k < check_rows.size(); ++k) {
      now.push_back(measured.ms[configs.size() + k]);
      then.push_back(dataset.rows[check_rows[k]].total_ms());
    }
    const auto drift = latency_drift_of(now, then);
    if (progress && drift.suspicious()) std::fprintf(progress, "hat pipeline: warning: %s\n", drift.sentence().c_str());
    out.device = measured.device;
    out.drift = drift;
    out.families = compare_families(out.rows);
    out.table = write_pipeline_results(folder.root, out.rows, out.device, drift);
    if (progress)
      std::fprintf(progress, "hat pipeline: done in %.0f s; %s/results.md, .csv, .json; plots: supertransformer/loss.svg, "
                             "predictor/fit.svg, search/*.svg%s\n", step.seconds(), folder.root.c_str(),
                   cfg.baselines ? ", results.svg (BLEU against latency, both families)" : ", results.svg");
  });
  return out;
}

}  // namespace hat
