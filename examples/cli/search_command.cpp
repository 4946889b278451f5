// SPDX-License-Identifier: MIT
// `hat search`: HAT's evolutionary search under a predicted-latency constraint, plus an NSGA-II front.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include <hat/backend/cpu.hpp>
#include <hat/io/subtransformer_yaml.hpp>
#include <hat/predictor/latency_predictor.hpp>
#include <hat/profile/flops.hpp>
#include <hat/profile/params.hpp>
#include <hat/search/callbacks.hpp>
#include <hat/search/constraint.hpp>
#include <hat/search/errors.hpp>
#include <hat/search/evolution.hpp>
#include <hat/search/nsga2.hpp>
#include <hat/search/pareto.hpp>

#include "commands.hpp"

namespace hat_cli {
namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

struct search_options {
  std::string task, predictor, fitness = "params", out, pareto;
  double latency_ms = 0;
  hat::evolution_options evo;
  std::size_t pareto_generations = 30;
  bool json = false, quiet = false;
};

void run_search(const search_options& o) {
  hat::cpu::set_threads(1);
  hat::cpu be;
  auto pred = hat::latency_predictor<hat::cpu>::load(be, o.predictor);
  const auto task = *hat::find_task(o.task);
  with_named_space(space_of_task(o.task), [&]<class S>() {
    const auto len = task.source_length;
    // The analytic fitnesses stand in for validation loss: a bigger network under the same
    // latency is taken as the better one, so they are maximised (minimised negated).
    const auto fitness = [&](const hat::arch<S>& a) {
      return o.fitness == "flops" ? -static_cast<double>(hat::flops(a, len)) / 1e9
                                  : -static_cast<double>(hat::params(a)) / 1e6;
    };
    const auto latency = [&](const hat::arch<S>& a) { return pred(a); };
    const auto feasible = hat::at_most(latency, o.latency_ms);
    hat::evolution<S> search(o.evo);
    hat::search_result<S> result;
    try {
      if (o.quiet) result = search.run(fitness, feasible);
      else result = search.run(fitness, feasible, hat::print_progress{std::cerr});
    } catch (const hat::infeasible_constraint& e) {
      std::cerr << "hat search: " << e.what() << "\n";
      throw exit_code{3};
    }
    hat::write_subtransformer_yaml(result.best, o.out);
    const double lat = pred(result.best);
    if (o.json)
      std::printf("{\"out\": \"%s\", \"fitness\": %.17g, \"latency_ms\": %.17g, \"params\": %lld, \"flops\": %lld, "
                  "\"evaluations\": %zu, \"cache_hits\": %zu}\n",
                  json_escape(o.out).c_str(), result.best_fitness, lat,
                  static_cast<long long>(hat::params(result.best)), static_cast<long long>(hat::flops(result.best, len)),
                  result.evaluations, result.cache_hits);
    else
      std::printf("best: %s\n  predicted latency %.2f ms (limit %.2f), #params %.2f M, FLOPs %.2f G\n"
                  "  %zu fitness evaluations, %zu cache hits; written to %s\n",
                  result.best.to_string().c_str(), lat, o.latency_ms, static_cast<double>(hat::params(result.best)) / 1e6,
                  static_cast<double>(hat::flops(result.best, len)) / 1e9, result.evaluations, result.cache_hits,
                  o.out.c_str());
    if (o.pareto.empty()) return;
    hat::nsga2_options no;
    no.generations = o.pareto_generations;
    no.seed = o.evo.seed;
    const auto front = hat::nsga2<S, 2>(no).run(
        [&](const hat::arch<S>& a) { return std::array<double, 2>{fitness(a), latency(a)}; }, feasible);
    const std::string x_name = o.fitness == "flops" ? "-FLOPs (G)" : "-params (M)";
    hat::write_pareto_csv(o.pareto, front.front, std::array<std::string_view, 2>{x_name, "latency_ms"});
    const auto svg = std::filesystem::path(o.pareto).replace_extension(".svg");
    hat::write_pareto_svg(svg, front.evaluated, front.front, x_name, "predicted latency (ms)",
                          "Pareto front: " + o.task + ", predicted latency <= " + number(o.latency_ms) + " ms");
    std::fprintf(stderr, "hat search: Pareto front of %zu networks written to %s and %s\n", front.front.size(),
                 o.pareto.c_str(), svg.c_str());
  });
}

}  // namespace

void add_search_command(CLI::App& app) {
  auto o = std::make_shared<search_options>();
  auto* cmd = app.add_subcommand("search", "HAT's evolutionary search under a predicted-latency constraint");
  cmd->add_option("--task", o->task, "HAT task (fixes the space)")->required()->check(CLI::IsMember(task_names()));
  cmd->add_option("--predictor", o->predictor, "latency predictor file (hat predictor train)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--latency-constraint", o->latency_ms, "predicted latency limit, ms")
      ->required()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--fitness", o->fitness,
                  "params or flops: maximise #params or FLOPs under the constraint (validation loss needs a "
                  "trained SuperTransformer)")
      ->check(CLI::IsMember({"params", "flops"}))
      ->capture_default_str();
  cmd->add_option("--out", o->out, "best architecture, as HAT SubTransformer YAML")->required();
  cmd->add_option("--seed", o->evo.seed, "random seed: the same seed gives the same result")->capture_default_str();
  cmd->add_option("--iterations", o->evo.iterations, "evolution iterations")->capture_default_str();
  cmd->add_option("--population", o->evo.population, "population size (= parents + mutations + crossovers)")
      ->capture_default_str();
  cmd->add_option("--parents", o->evo.parents, "parents kept per iteration")->capture_default_str();
  cmd->add_option("--mutations", o->evo.mutations, "mutants per iteration")->capture_default_str();
  cmd->add_option("--crossovers", o->evo.crossovers, "crossovers per iteration")->capture_default_str();
  cmd->add_option("--mutation-prob", o->evo.mutation_prob, "per-gene mutation probability")->capture_default_str();
  cmd->add_option("--pareto", o->pareto, "also run NSGA-II over (fitness, latency): front as CSV here, SVG beside it");
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
    run_search(*o);
  });
}

}  // namespace hat_cli
