// SPDX-License-Identifier: MIT
// `hat search`: HAT's evolutionary search under a predicted-latency constraint, plus an NSGA-II front.
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include <hat/backend/cpu.hpp>
#include <hat/data/load_corpus.hpp>
#include <hat/data/subword_model.hpp>
#include <hat/io/same_file.hpp>
#include <hat/nn/checkpoint.hpp>
#include <hat/train/trainer.hpp>
#include <hat/yaml/subtransformer.hpp>
#include <hat/predictor/latency_predictor.hpp>
#include <hat/profile/flops.hpp>
#include <hat/profile/params.hpp>
#include <hat/search/callbacks.hpp>
#include <hat/search/constraint.hpp>
#include <hat/search/errors.hpp>
#include <hat/search/evolution.hpp>
#include <hat/search/nsga2.hpp>
#include <hat/search/pareto.hpp>
#include <hat/pipeline/search_step.hpp>

#include "commands.hpp"
#include "precision_flag.hpp"
#include "fairseq_inputs.hpp"
#include "validators.hpp"
#include "json_output.hpp"
#include "ranks.hpp"

namespace hat_cli {
namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

struct search_options {
  std::string task, space, predictor, fitness = "params", out, pareto, history;
  std::string checkpoint, data, bpe_model, valid_split, source_lang, target_lang;
  std::size_t valid_batches = 0, max_tokens = 4096, source_length = 30;
  int threads = 1;
  double latency_ms = 0;
  hat::evolution_options evo;
  std::size_t pareto_generations = 30;
  bool json = false, quiet = false;
  precision_options weights;  // --precision, --int8-scales
};

/// The search in space S, with `valid_loss` as the fitness when the caller loaded the model.
template <class S>
void search_space(hat::cpu& be, hat::latency_predictor<hat::cpu>& pred, const search_options& o, const hat::search_inputs& in, int len,
                  std::function<double(const hat::arch<S>&)> valid_loss = {}) {
  hat::search_outputs<S> found;
  try {
    found = hat::search_architecture<S>(be, pred, in, std::move(valid_loss));
  } catch (const hat::infeasible_constraint& e) {  // on every rank alike
    if (!in.comm || in.comm->rank() == 0) std::cerr << "hat search: " << e.what() << "\n";
    throw exit_code{3};
  }
  // Under mpirun the ranks scored together; rank 0 reports (and computes a Pareto front alone).
  if (in.comm && in.comm->rank() != 0) return;
  const auto& result = found.result;
  const double lat = found.predicted_ms;
  if (o.json)
    print_json({{"out", o.out},
                {"fitness", result.best_fitness},
                {"latency_ms", lat},
                {"params", hat::params(result.best)},
                {"flops", hat::flops(result.best, len)},
                {"evaluations", result.evaluations},
                {"cache_hits", result.cache_hits}});
  else
    std::printf("best: %s\n  predicted latency %.2f ms (limit %.2f), #params %.2f M, FLOPs %.2f G\n"
                "  %zu fitness evaluations, %zu cache hits; written to %s\n",
                result.best.to_string().c_str(), lat, o.latency_ms, static_cast<double>(hat::params(result.best)) / 1e6,
                static_cast<double>(hat::flops(result.best, len)) / 1e9, result.evaluations, result.cache_hits, o.out.c_str());
  if (!o.history.empty() && !o.quiet)
    std::fprintf(stderr, "hat search: %zu scored networks written to %s, their front to %s\n", found.scored.size(),
                 o.history.c_str(), std::filesystem::path(o.history).replace_extension(".svg").c_str());
  const auto& fitness = found.fitness;
  const std::string& x_name = found.fitness_name;
  const auto latency = [&](const hat::arch<S>& a) { return pred(a); };
  const auto feasible = hat::at_most(latency, o.latency_ms);
  if (o.pareto.empty()) return;
  hat::nsga2_options no;
  no.generations = o.pareto_generations;
  no.seed = o.evo.seed;
  const auto front = hat::nsga2<S, 2>(no).run(
      [&](const hat::arch<S>& a) { return std::array<double, 2>{fitness(a), latency(a)}; }, feasible);
  hat::write_pareto_csv(o.pareto, front.front, std::array<std::string_view, 2>{x_name, "latency_ms"});
  const auto svg = std::filesystem::path(o.pareto).replace_extension(".svg");
  hat::write_pareto_svg(svg, front.evaluated, front.front, x_name, "predicted latency (ms)",
                        "Pareto front: " + in.title + ", predicted latency <= " + number(o.latency_ms) + " ms");
  std::fprintf(stderr, "hat search: Pareto front of %zu networks written to %s and %s\n", front.front.size(), o.pareto.c_str(),
               svg.c_str());
}

void run_search(const search_options& o, hat::communicator* comm) {
  const auto [weights, scales] = o.weights.parse();
  hat::cpu::set_threads(o.threads);
  hat::cpu be;
  auto pred = hat::latency_predictor<hat::cpu>::load(be, o.predictor);
  hat::require_latencies_at(pred.measured_at(), weights, o.predictor, "--precision");  // before any model is read
  std::string space = o.space;
  int len = static_cast<int>(o.source_length);
  if (!o.task.empty()) space = space_of_task(o.task), len = hat::find_task(o.task)->source_length;
  const bool valid_loss = o.fitness == "valid-loss";
  if (valid_loss && (o.checkpoint.empty() || o.data.empty()))
    throw hat::config_error("--fitness valid-loss needs --checkpoint (a SuperTransformer) and --data (its corpus)");
  const bool fairseq = valid_loss && is_torch_save(o.checkpoint);
  if (fairseq && !o.bpe_model.empty())
    throw hat::config_error("--bpe-model: " + o.checkpoint + " is scored on fairseq's binarized data, read with its dictionaries");
  if (valid_loss && !fairseq) {
    const auto state = hat::read_checkpoint_state(o.checkpoint);
    const std::string* recorded = state.value("space");
    if (!recorded) throw hat::config_error(o.checkpoint + ": no 'space' recorded (not written by hat train)");
    if (!space.empty() && space != *recorded)
      throw hat::config_error(o.checkpoint + ": a SuperTransformer of space '" + *recorded + "', not '" + space + "'");
    space = *recorded;
  }
  if (space.empty() && !fairseq) throw hat::config_error("give --task, --space, or --checkpoint with --fitness valid-loss");
  hat::search_inputs in;
  in.limit_ms = o.latency_ms;
  in.fitness = hat::search_fitness_named(o.fitness, "--fitness");
  in.checkpoint = o.checkpoint;
  in.data = o.data;
  in.bpe_model = o.bpe_model;
  in.valid_split = o.valid_split;
  in.source_lang = o.source_lang;
  in.target_lang = o.target_lang;
  in.valid_batches = o.valid_batches;
  in.max_tokens = o.max_tokens;
  in.flops_length = static_cast<std::size_t>(len);
  in.weights = weights;
  in.scales = scales;
  in.evo = o.evo;
  in.out = o.out;
  in.history = o.history;
  in.inputs = {o.predictor};
  if (!o.pareto.empty()) {
    hat::refuse_to_overwrite(o.pareto, "--pareto", {o.predictor, o.checkpoint});
    hat::refuse_to_overwrite(std::filesystem::path(o.pareto).replace_extension(".svg"), "--pareto's plot", {o.predictor, o.checkpoint});
  }
  in.progress = o.quiet ? nullptr : &std::cerr;
  in.comm = comm;
  if (!fairseq) {
    in.title = o.task.empty() ? space : o.task;
    return with_space<space_role::measurable>(space, "--space", [&]<class S>() { search_space<S>(be, pred, o, in, len); });
  }
  // HAT's evo_search.py on HAT's own files: the SuperTransformer's .pt scored on fairseq's
  // binarized validation split.
  require_binarized(o.data, "scored");
  with_fairseq_model(o.checkpoint, [&]<class S>(hat::cpu& mbe, auto& model, const hat::checkpoint_extras& x) {
    const std::string& found = *x.value("space");
    if (!space.empty() && space != found)
      throw hat::config_error(o.checkpoint + ": a SuperTransformer of space '" + found + "', not '" + space + "'");
    in.title = o.task.empty() ? found : o.task;
    using fitness_t = hat::valid_loss_fitness<S, hat::cpu>;
    auto valid = fitness_t::valid_split_of(model, recorded_positions(x), in, o.valid_split,
                                           language_of(o.source_lang, x.value("source_lang"), o.checkpoint, "--source-lang"),
                                           language_of(o.target_lang, x.value("target_lang"), o.checkpoint, "--target-lang"));
    fitness_t fitness{&mbe, std::move(model), std::move(valid), o.max_tokens, o.valid_batches};
    fitness.set_precision(in.weights, in.scales);
    search_space<S>(mbe, pred, o, in, len, [&fitness](const hat::arch<S>& a) { return fitness(a); });
  });
}

}  // namespace

void add_search_command(CLI::App& app) {
  auto o = std::make_shared<search_options>();
  auto* cmd = app.add_subcommand("search", "HAT's evolutionary search under a predicted-latency constraint");
  cmd->add_option("--task", o->task, "HAT task (fixes the space and the FLOPs sentence length)")
      ->check(CLI::IsMember(task_names()));
  cmd->add_option("--space", o->space, "or a space: wmt, iwslt, latency, multi30k, multi30k-tiny, number-words");
  cmd->add_option("--source-length", o->source_length, "sentence length for FLOPs without --task")->capture_default_str();
  cmd->add_option("--predictor", o->predictor, "latency predictor file (hat predictor train)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--latency-constraint", o->latency_ms, "predicted latency limit, ms")
      ->required()
      ->check(positive_number());
  cmd->add_option("--fitness", o->fitness,
                  "valid-loss: HAT's, the SuperTransformer's validation loss with inherited weights (needs "
                  "--checkpoint, --data); params or flops: maximise #params or FLOPs under the constraint")
      ->check(CLI::IsMember({"valid-loss", "params", "flops"}))
      ->capture_default_str();
  cmd->add_option("--checkpoint", o->checkpoint, "SuperTransformer checkpoint written by hat train or hat import, or HAT's .pt (valid-loss)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--data", o->data, "corpus folder of the checkpoint's training, or fairseq's binarized data (valid-loss)")->check(CLI::ExistingDirectory);
  cmd->add_option("--valid-batches", o->valid_batches, "validation batches per fitness evaluation (0: all)")
      ->capture_default_str();
  cmd->add_option("--max-tokens", o->max_tokens, "tokens per validation batch")->check(positive_count())->capture_default_str();
  cmd->add_option("--valid-split", o->valid_split, "validation split (default: the one training used; binarized data: valid)");
  cmd->add_option("--source-lang", o->source_lang, "the source language (default: the checkpoint's)");
  cmd->add_option("--target-lang", o->target_lang, "the target language (default: the checkpoint's)");
  cmd->add_option("--bpe-model", o->bpe_model, "SentencePiece model (default: the one training used)")->check(CLI::ExistingFile);
  cmd->add_option("--threads", o->threads, "threads (OpenBLAS and the decoder's few-row products)")
      ->check(positive_count())->capture_default_str();
  o->weights.add_to(cmd, "searched for: the predictor must have learnt this precision's latencies; the valid-loss fitness "
                         "scores at it");
  cmd->add_option("--out", o->out, "best architecture, as HAT SubTransformer YAML")->required();
  cmd->add_option("--seed", o->evo.seed, "random seed: the same seed gives the same result")->capture_default_str();
  cmd->add_option("--iterations", o->evo.iterations, "evolution iterations")->capture_default_str();
  cmd->add_option("--population", o->evo.population, "population size (= parents + mutations + crossovers)")
      ->capture_default_str();
  cmd->add_option("--parents", o->evo.parents, "parents kept per iteration")->capture_default_str();
  cmd->add_option("--mutations", o->evo.mutations, "mutants per iteration")->capture_default_str();
  cmd->add_option("--crossovers", o->evo.crossovers, "crossovers per iteration")->capture_default_str();
  cmd->add_option("--mutation-prob", o->evo.mutation_prob, "per-gene mutation probability")
      ->check(finite_number(0, 1, "a probability in [0, 1]"))
      ->capture_default_str();
  cmd->add_option("--pareto", o->pareto, "also run NSGA-II over (fitness, latency): front as CSV here, SVG beside it");
  cmd->add_option("--history", o->history,
                  "every scored network (fitness, predicted latency) as CSV here, with an SVG of them and their front");
  cmd->add_option("--pareto-generations", o->pareto_generations, "NSGA-II generations")->capture_default_str();
  cmd->add_flag("--json", o->json, "one JSON object with the result");
  cmd->add_flag("--quiet", o->quiet, "no progress lines");
  cmd->callback([o] {
    try {
      o->evo.validate();
    } catch (const std::invalid_argument& e) {
      std::cerr << "hat search: " << e.what() << "\n";
      throw exit_code{2};
    }
    with_ranks("search", [&](hat::communicator* comm) { run_search(*o, comm); });
  });
}

}  // namespace hat_cli
