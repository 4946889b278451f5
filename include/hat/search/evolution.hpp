// SPDX-License-Identifier: MIT
// evolution<Space>: HAT's evolutionary search (Evolution, fairseq/evolution.py), with a fitness cache.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <numeric>  // iota
#include <span>
#include <type_traits>
#include <unordered_set>
#include <utility>  // as_const
#include <vector>

#include <hat/search/callbacks.hpp>
#include <hat/search/constraint.hpp>
#include <hat/search/detail/function_ref.hpp>
#include <hat/search/detail/numbers.hpp>
#include <hat/search/fitness_cache.hpp>
#include <hat/search/options.hpp>
#include <hat/search/result.hpp>
#include <hat/space/arch.hpp>
#include <hat/space/random.hpp>

namespace hat {

/// A fitness: any callable scoring an architecture with something convertible to double,
/// lower is better (HAT: validation loss of the SubTransformer with inherited weights).
/// It must be deterministic, since each network is scored once and cached.
template <class F, class Space>
concept fitness_function = std::invocable<F&, const arch<Space>&> &&
                           std::convertible_to<std::invoke_result_t<F&, const arch<Space>&>, double>;

/// A fitness that can score many networks together (across the ranks of a job, or in a batch):
/// given the networks of a generation not scored yet, `f.prefetch(networks)` computes their
/// values, and `f(a)` then returns them. The search's result is the same as without it.
template <class F, class Space>
concept prefetching_fitness = fitness_function<F, Space> && requires(F& f, std::span<const arch<Space>> networks) {
  f.prefetch(networks);
};

/// HAT's evolutionary search over `Space`, exactly as HAT's Evolution (fairseq/evolution.py) runs
/// it: a random feasible population, then per iteration score everyone, keep the best `parents`,
/// and refill with mutants and uniform crossovers of them, every candidate redrawn until it
/// satisfies the constraint. The answer is the best member of the last scored population.
/// Beyond HAT: each network is scored once (fitness_cache), rejection sampling is bounded
/// (`max_draws`, then infeasible_constraint), ties keep population order, and one seeded
/// `rng` makes a run reproducible on every platform. A value type: `run` may be called again
/// and gives the same result for the same callables.
template <class Space>
class evolution {
 public:
  using space_type = Space;

  /// Throws std::invalid_argument when `options.validate()` does.
  explicit evolution(evolution_options options = {}) : options_(options) { options_.validate(); }

  const evolution_options& options() const noexcept { return options_; }

  /// Runs the search. `fitness(a)` is minimised; `feasible(a)` must hold for every
  /// candidate; each callback gets the hooks it defines (see callbacks.hpp).
  template <class Fitness, class Constraint, class... Callbacks>
    requires fitness_function<Fitness, Space> && feasibility_constraint<Constraint, Space>
  search_result<Space> run(Fitness&& fitness, Constraint&& feasible, Callbacks&&... callbacks) const;

 private:
  using A = arch<Space>;
  // One run's callables, type-erased: the search below is compiled once per Space, not once per
  // combination of fitness, constraint and callbacks (it was most of the command line's code).
  struct calls {
    detail::function_ref<double(const A&)> fitness;
    detail::function_ref<void(std::span<const A>)> prefetch;  // empty: the fitness does not prefetch
    detail::constraint_ref<Space> feasible;
    detail::function_ref<void(const evolution_options&)> on_begin;
    detail::function_ref<void(const iteration_record<Space>&)> on_iteration;
    detail::function_ref<void(const search_result<Space>&)> on_end;
  };
  search_result<Space> run_(const calls& c) const;

  evolution_options options_;
};

// --- implementation ---------------------------------------------------------------------

template <class Space>
template <class Fitness, class Constraint, class... Callbacks>
  requires fitness_function<Fitness, Space> && feasibility_constraint<Constraint, Space>
search_result<Space> evolution<Space>::run(Fitness&& fitness, Constraint&& feasible,
                                           Callbacks&&... callbacks) const {
  static_assert((evolution_callback<std::remove_reference_t<Callbacks>, Space> && ...),
                "hat::evolution::run: a callback defines none of on_begin(const evolution_options&), "
                "on_iteration(const iteration_record<Space>&), on_end(const search_result<Space>&), "
                "so it would never be called");
  const auto prefetch = [&](std::span<const A> networks) {
    if constexpr (prefetching_fitness<std::remove_reference_t<Fitness>, Space>) fitness.prefetch(networks);
  };
  const auto on_begin = [&](const evolution_options& o) { (detail::notify_begin(callbacks, o), ...); };
  const auto on_iteration = [&](const iteration_record<Space>& r) { (detail::notify_iteration(callbacks, r), ...); };
  const auto on_end = [&](const search_result<Space>& r) { (detail::notify_end(callbacks, r), ...); };
  const detail::constraint_test<Space, std::remove_reference_t<Constraint>> test{feasible};
  calls c{fitness, {}, test.ref(), on_begin, on_iteration, on_end};
  if constexpr (prefetching_fitness<std::remove_reference_t<Fitness>, Space>) c.prefetch = prefetch;
  return run_(c);
}

template <class Space>
search_result<Space> evolution<Space>::run_(const calls& c) const {
  const evolution_options& o = options_;
  rng g(o.seed);
  fitness_cache<Space, double> cache;
  search_result<Space> result;
  result.history.reserve(o.iterations);
  c.on_begin(o);

  const auto draw = [&](auto&& make, const char* phase) {
    return detail::draw_until_feasible<Space>(make, c.feasible, o.max_draws, "evolution", phase);
  };
  std::vector<A> population, next;
  population.reserve(o.population);
  next.reserve(o.population);
  for (std::size_t i = 0; i < o.population; ++i)
    population.push_back(draw([&] { return A::sample(g); }, "initial population"));

  std::vector<double> score(o.population);
  std::vector<std::size_t> order(o.population);
  for (std::size_t it = 0; it < o.iterations; ++it) {
    // a. score everyone (parents come from the cache), b. stable sort, best first
    if (c.prefetch) {
      // the networks this generation scores, each once, in the order they are scored below
      std::vector<A> fresh;
      std::unordered_set<A, std::hash<A>> seen;
      for (const A& a : population)
        if (!cache.contains(a) && seen.insert(a.canonical()).second) fresh.push_back(a.canonical());
      c.prefetch(std::span<const A>(fresh));
    }
    for (std::size_t i = 0; i < o.population; ++i) score[i] = cache(population[i], c.fitness);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return detail::less_nan_last(score[a], score[b]); });

    iteration_record<Space> rec{it, population[order[0]], score[order[0]], {}, cache.evaluations(), cache.hits()};
    rec.fitness.reserve(o.population);
    for (std::size_t i : order) rec.fitness.push_back(score[i]);
    result.history.push_back(std::move(rec));
    c.on_iteration(result.history.back());
    if (it + 1 == o.iterations) break;  // HAT never scores the last offspring

    // c-e. parents + mutants + crossovers; the parents are next[0, parents)
    next.clear();
    for (std::size_t k = 0; k < o.parents; ++k) next.push_back(population[order[k]]);
    const std::uint64_t p = o.parents;
    for (std::size_t k = 0; k < o.mutations; ++k)
      next.push_back(draw([&] { return next[g.below(p)].mutated(g, o.mutation_prob); }, "mutation"));
    for (std::size_t k = 0; k < o.crossovers; ++k)
      next.push_back(draw(
          [&] {
            const auto i = g.below(p);
            auto j = g.below(p - 1);  // two distinct parents (HAT: random.sample(parents, 2))
            j += j >= i ? 1 : 0;
            return A::crossover(next[i], next[j], g);
          },
          "crossover"));
    population.swap(next);
  }

  result.best = result.history.back().best;
  result.best_fitness = result.history.back().best_fitness;
  result.evaluations = cache.evaluations();
  result.cache_hits = cache.hits();
  c.on_end(std::as_const(result));
  return result;
}

}  // namespace hat
