// SPDX-License-Identifier: MIT
// Tutorial 2: HAT's evolutionary search under a FLOPs budget, then an NSGA-II Pareto front of
// loss against FLOPs, written as CSV and SVG. docs/search.md walks through this file.
#include <hat/yaml/subtransformer.hpp>
#include <hat/profile/flops.hpp>
#include <hat/profile/params.hpp>
#include <hat/search/callbacks.hpp>
#include <hat/search/evolution.hpp>
#include <hat/search/nsga2.hpp>
#include <hat/search/pareto.hpp>
#include <hat/space/hat_spaces.hpp>
#include <cmath>
#include <filesystem>
#include <iostream>

using space = hat::hat_wmt_space;  // HAT's space0 (WMT'14 En-De and En-Fr, WMT'19 En-De)
using arch = hat::arch<space>;

// [proxy]
// A stand-in for HAT's fitness (validation loss of the SubTransformer with inherited
// weights), so that this tutorial runs in milliseconds: a scaling-law curve in #params,
// L(N) = 6 * (N / 10^6)^-0.08. Replace it by a real validation loss in practice.
double proxy_loss(const arch& a) { return 6.0 * std::pow(static_cast<double>(hat::params(a)) / 1e6, -0.08); }

// HAT's FLOPs for WMT's 30-token dummy sentence.
double gflops(const arch& a) { return static_cast<double>(hat::flops(a, 30)) / 1e9; }
// [proxy]

int main() {
  const auto dir = std::filesystem::temp_directory_path() / "hat_example_02_search";
  std::filesystem::create_directories(dir);

  // [evolve]
  // HAT's defaults: 30 iterations, population 125 = 25 parents + 50 mutants + 50 crossovers.
  const hat::evolution<space> search{{.iterations = 30, .population = 125, .parents = 25,
                                      .mutations = 50, .crossovers = 50, .mutation_prob = 0.3, .seed = 1}};
  const auto budget = hat::at_most(gflops, 3.0);  // at most 3 GFLOPs
  const hat::search_result<space> found = search.run(proxy_loss, budget, hat::print_progress{std::cout});
  // [evolve]

  // [result]
  std::cout << "best: " << found.best << "\n"
            << "  proxy loss " << found.best_fitness << ", " << gflops(found.best) << " GFLOPs, "
            << hat::params(found.best) << " params\n"
            << "  " << found.evaluations << " fitness evaluations for " << 30 * 125 << " scores ("
            << found.cache_hits << " served by the cache)\n";
  hat::write_subtransformer_yaml(found.best, dir / "best.yml");
  std::cout << "wrote " << (dir / "best.yml").string() << "\n";
  // [result]

  // [pareto]
  // Two objectives, both minimised: the trade-off between (proxy) loss and cost.
  const auto loss_and_gflops = [](const arch& a) { return std::array<double, 2>{proxy_loss(a), gflops(a)}; };
  const hat::nsga2<space, 2> moo{{.population = 100, .generations = 30, .seed = 1}};
  const auto pareto = moo.run(loss_and_gflops, hat::unconstrained{});
  hat::write_pareto_csv(dir / "pareto.csv", pareto.front, {"proxy_loss", "gflops"});
  hat::write_pareto_svg(dir / "pareto.svg", pareto.evaluated, pareto.front, "proxy loss", "GFLOPs",
                        "NSGA-II on HAT space0: proxy loss vs GFLOPs");
  std::cout << "NSGA-II: " << pareto.front.size() << " Pareto-optimal of " << pareto.evaluated.size()
            << " evaluated networks; wrote " << (dir / "pareto.csv").string() << " and pareto.svg\n";
  // [pareto]

  // Exit status 0: the answer fits the budget, reads back from YAML, and a front was found.
  const bool consistent = budget(found.best) && !pareto.front.empty() &&
                          hat::read_subtransformer_yaml<space>(dir / "best.yml").same_network(found.best);
  return consistent ? 0 : 1;
}
