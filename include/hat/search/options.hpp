// SPDX-License-Identifier: MIT
// evolution_options and nsga2_options: the knobs of the two searches, with validation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace hat {

namespace detail {
inline void check_option(bool ok, const char* search, const std::string& what) {
  if (!ok) throw std::invalid_argument(std::string("hat::") + search + "_options: " + what);
}
inline void check_probability(double p, const char* search, const char* field) {
  check_option(p >= 0.0 && p <= 1.0, search,  // also rejects NaN
               std::string(field) + " = " + std::to_string(p) + " is not a probability in [0, 1]");
}
}  // namespace detail

/// HAT's evolutionary search settings (evo_search.py, configs/*/evo_search/*.yml). The defaults
/// are HAT's: 30 iterations of a population of 125 = 25 parents + 50 mutants + 50 crossovers,
/// per-gene mutation probability 0.3. `max_draws` bounds the rejection sampling of one candidate, so that an
/// impossible constraint fails with `infeasible_constraint` instead of looping forever.
struct evolution_options {
  std::size_t iterations = 30;
  std::size_t population = 125;
  std::size_t parents = 25;
  std::size_t mutations = 50;
  std::size_t crossovers = 50;
  double mutation_prob = 0.3;
  std::uint64_t seed = 1;
  std::size_t max_draws = 100000;  // draws per candidate before giving up

  /// Throws std::invalid_argument naming the bad field.
  void validate() const {
    constexpr const char* s = "evolution";
    detail::check_option(iterations >= 1, s, "iterations must be at least 1");
    // Bounds before anything is allocated (HAT's searches: 30 x 125).
    detail::check_option(iterations <= 1000000, s, "iterations = " + std::to_string(iterations) + ": at most 1000000");
    detail::check_option(population <= 1000000, s, "population = " + std::to_string(population) + ": at most 1000000");
    detail::check_option(parents >= 2, s,
                         "parents = " + std::to_string(parents) + ": crossover needs at least 2 parents");
    detail::check_option(population == parents + mutations + crossovers, s,
                         "population = " + std::to_string(population) + " must equal parents + mutations + "
                         "crossovers = " + std::to_string(parents) + " + " + std::to_string(mutations) + " + " +
                         std::to_string(crossovers) + " (HAT asserts this)");
    detail::check_probability(mutation_prob, s, "mutation_prob");
    detail::check_option(max_draws >= 1, s, "max_draws must be at least 1");
  }
};

/// NSGA-II settings (Deb et al. 2002). Each generation breeds `population` offspring
/// (binary tournament, crossover with `crossover_prob`, then per-gene mutation) and keeps the
/// best `population` of parents + offspring.
struct nsga2_options {
  std::size_t population = 100;
  std::size_t generations = 50;
  double mutation_prob = 0.3;
  double crossover_prob = 1.0;
  std::uint64_t seed = 1;
  std::size_t max_draws = 100000;  // draws per candidate before giving up

  /// Throws std::invalid_argument naming the bad field.
  void validate() const {
    constexpr const char* s = "nsga2";
    detail::check_option(population <= 1000000, s, "population = " + std::to_string(population) + ": at most 1000000");
    detail::check_option(generations <= 1000000, s, "generations = " + std::to_string(generations) + ": at most 1000000");
    detail::check_option(population >= 2, s,
                         "population = " + std::to_string(population) + ": needs at least 2 members");
    detail::check_option(generations >= 1, s, "generations must be at least 1");
    detail::check_probability(mutation_prob, s, "mutation_prob");
    detail::check_probability(crossover_prob, s, "crossover_prob");
    detail::check_option(max_draws >= 1, s, "max_draws must be at least 1");
  }
};

}  // namespace hat
