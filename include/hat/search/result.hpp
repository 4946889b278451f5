// SPDX-License-Identifier: MIT
// What the searches report: per-iteration records and final results of evolution and NSGA-II.
#pragma once

#include <array>
#include <cstddef>
#include <vector>

#include <hat/space/arch.hpp>

namespace hat {

/// One scored population of `evolution`: what HAT prints after each iteration.
template <class Space>
struct iteration_record {
  std::size_t iteration = 0;    // 0-based
  arch<Space> best;             // the lowest-fitness member (first of equals)
  double best_fitness = 0;
  std::vector<double> fitness;  // [population], every member's fitness, ascending
  std::size_t evaluations = 0;  // fitness calls so far (cache misses)
  std::size_t cache_hits = 0;   // scores served by the cache so far
};

/// The outcome of `evolution::run`: the best member of the last scored population (HAT's
/// `best_config`), one record per iteration, and the cost in fitness evaluations.
template <class Space>
struct search_result {
  arch<Space> best;
  double best_fitness = 0;
  std::vector<iteration_record<Space>> history;  // [iterations]
  std::size_t evaluations = 0;
  std::size_t cache_hits = 0;

  /// Lets `hat::arch<S> best = search.run(...)` read as in HAT, where the search returns a config.
  operator arch<Space>() const { return best; }
};

/// An architecture with its objective vector (all minimised).
template <class Space, std::size_t K>
struct pareto_point {
  arch<Space> architecture;
  std::array<double, K> objectives{};
};

/// One generation of `nsga2`, after environmental selection.
template <class Space, std::size_t K>
struct generation_record {
  std::size_t generation = 0;                   // 0-based
  std::vector<pareto_point<Space, K>> front;  // the population's first front, by objective 0
  std::size_t evaluations = 0;                  // objective calls so far (cache misses)
  std::size_t cache_hits = 0;
};

/// The outcome of `nsga2::run`.
template <class Space, std::size_t K>
struct nsga2_result {
  /// The non-dominated points among everything evaluated, sorted by objective 0 (then 1, ...).
  /// Networks with equal objective vectors all appear.
  std::vector<pareto_point<Space, K>> front;
  std::vector<pareto_point<Space, K>> evaluated;  // every distinct network, in evaluation order
  std::size_t generations = 0;
  std::size_t evaluations = 0;
  std::size_t cache_hits = 0;
};

}  // namespace hat
