// SPDX-License-Identifier: MIT
// nsga2<Space, K>: multi-objective search (NSGA-II) for Pareto fronts such as #params vs latency.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>  // isfinite
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>  // iota
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
#include <hat/search/pareto.hpp>
#include <hat/search/result.hpp>
#include <hat/space/arch.hpp>
#include <hat/space/random.hpp>

namespace hat {

/// K objectives of an architecture, all minimised, e.g. `{loss, latency}`. Deterministic.
template <class F, class Space, std::size_t K>
concept objective_function =
    std::invocable<F&, const arch<Space>&> &&
    std::convertible_to<std::invoke_result_t<F&, const arch<Space>&>, std::array<double, K>>;

/// NSGA-II (Deb, Pratap, Agarwal, Meyarivan 2002) over `Space`: a random feasible
/// population; each generation breeds as many offspring by binary tournament on (rank,
/// crowding distance), uniform crossover and per-gene mutation, each redrawn until
/// feasible; then keeps the best of parents + offspring by non-dominated rank, breaking
/// the last front by crowding distance. Beyond the paper: objectives are cached per network;
/// a network already in parents + offspring is kept once (pymoo's duplicate elimination),
/// unless too few distinct ones remain; the answer is the non-dominated set of everything
/// evaluated. Deterministic for a seed.
template <class Space, std::size_t K>
class nsga2 {
  static_assert(K >= 2, "hat::nsga2: needs at least 2 objectives; use hat::evolution for one");

 public:
  using space_type = Space;
  using point = pareto_point<Space, K>;

  /// Throws std::invalid_argument when `options.validate()` does.
  explicit nsga2(nsga2_options options = {}) : options_(options) { options_.validate(); }

  const nsga2_options& options() const noexcept { return options_; }

  template <class Objectives, class Constraint, class... Callbacks>
    requires objective_function<Objectives, Space, K> && feasibility_constraint<Constraint, Space>
  nsga2_result<Space, K> run(Objectives&& objectives, Constraint&& feasible, Callbacks&&... callbacks) const;

 private:
  using A = arch<Space>;
  // One run's callables, type-erased: the search below is compiled once per (Space, K), not once
  // per combination of objectives, constraint and callbacks.
  struct calls {
    detail::function_ref<std::array<double, K>(const A&)> objectives;
    detail::constraint_ref<Space> feasible;
    detail::function_ref<void(const nsga2_options&)> on_begin;
    detail::function_ref<void(const generation_record<Space, K>&)> on_generation;
    detail::function_ref<void(const nsga2_result<Space, K>&)> on_end;
  };
  nsga2_result<Space, K> run_(const calls& c) const;

  struct member {
    arch<Space> a;
    std::array<double, K> f;
    std::size_t rank = 0;
    double crowding = 0;
  };
  static std::vector<member> survivors_(std::vector<member> pool, std::size_t n);
  static void rank_and_crowd_(std::vector<member>& m, std::vector<std::vector<std::size_t>>& fronts);

  nsga2_options options_;
};

// --- implementation ---------------------------------------------------------------------

template <class Space, std::size_t K>
template <class Objectives, class Constraint, class... Callbacks>
  requires objective_function<Objectives, Space, K> && feasibility_constraint<Constraint, Space>
nsga2_result<Space, K> nsga2<Space, K>::run(Objectives&& objectives, Constraint&& feasible,
                                            Callbacks&&... callbacks) const {
  static_assert((nsga2_callback<std::remove_reference_t<Callbacks>, Space, K> && ...),
                "hat::nsga2::run: a callback defines none of on_begin(const nsga2_options&), "
                "on_generation(const generation_record<Space, K>&), on_end(const nsga2_result<Space, K>&), "
                "so it would never be called");
  const auto on_begin = [&](const nsga2_options& o) { (detail::notify_begin(callbacks, o), ...); };
  const auto on_generation = [&](const generation_record<Space, K>& r) { (detail::notify_generation(callbacks, r), ...); };
  const auto on_end = [&](const nsga2_result<Space, K>& r) { (detail::notify_end(callbacks, r), ...); };
  const detail::constraint_test<Space, std::remove_reference_t<Constraint>> test{feasible};
  return run_({objectives, test.ref(), on_begin, on_generation, on_end});
}

template <class Space, std::size_t K>
nsga2_result<Space, K> nsga2<Space, K>::run_(const calls& c) const {
  const nsga2_options& o = options_;
  rng g(o.seed);
  fitness_cache<Space, std::array<double, K>> cache;
  nsga2_result<Space, K> result;
  c.on_begin(o);

  const auto evaluate = [&](const A& a) -> member {
    const std::size_t before = cache.evaluations();
    const std::array<double, K> f = cache(a, c.objectives);
    if (cache.evaluations() != before) result.evaluated.push_back({a, f});
    return {a, f};
  };
  std::vector<member> population;
  population.reserve(o.population);
  const auto sample = [&] { return A::sample(g); };
  for (std::size_t i = 0; i < o.population; ++i)
    population.push_back(evaluate(detail::draw_until_feasible<Space>(sample, c.feasible, o.max_draws, "nsga2",
                                                                     "initial population")));
  std::vector<std::vector<std::size_t>> fronts;
  rank_and_crowd_(population, fronts);

  // Binary tournament between two distinct members: lower rank, then larger crowding distance.
  const std::uint64_t n = population.size();
  const auto tournament = [&]() -> const member& {
    const auto i = g.below(n);
    auto j = g.below(n - 1);
    j += j >= i ? 1 : 0;
    const member &x = population[i], &y = population[j];
    if (y.rank != x.rank) return y.rank < x.rank ? y : x;
    return y.crowding > x.crowding ? y : x;
  };
  const auto breed = [&] {
    const member& p1 = tournament();
    const member& p2 = tournament();
    const bool cross = g.uniform() < o.crossover_prob;
    return (cross ? A::crossover(p1.a, p2.a, g) : p1.a).mutated(g, o.mutation_prob);
  };
  for (std::size_t gen = 0; gen < o.generations; ++gen) {
    std::vector<member> pool = population;
    pool.reserve(2 * o.population);
    for (std::size_t k = 0; k < o.population; ++k) {
      const A child = detail::draw_until_feasible<Space>(breed, c.feasible, o.max_draws, "nsga2", "offspring");
      pool.push_back(evaluate(child));
    }
    population = survivors_(std::move(pool), o.population);

    generation_record<Space, K> rec{gen, {}, cache.evaluations(), cache.hits()};
    std::vector<point> first;
    for (const auto& m : population)
      if (m.rank == 0) first.push_back({m.a, m.f});
    rec.front = pareto_front(first);  // sorted; a rank-0 set is already non-dominated
    c.on_generation(std::as_const(rec));
  }

  result.front = pareto_front(result.evaluated);
  result.generations = o.generations;
  result.evaluations = cache.evaluations();
  result.cache_hits = cache.hits();
  c.on_end(std::as_const(result));
  return result;
}

// Environmental selection: distinct networks first (in pool order), then whole fronts,
// then the last front by crowding distance, largest first.
template <class Space, std::size_t K>
auto nsga2<Space, K>::survivors_(std::vector<member> pool, std::size_t n) -> std::vector<member> {
  std::vector<member> distinct, repeats;
  std::unordered_set<arch<Space>, std::hash<arch<Space>>> seen;
  for (auto& m : pool) (seen.insert(m.a.canonical()).second ? distinct : repeats).push_back(std::move(m));
  for (std::size_t i = 0; distinct.size() < n && i < repeats.size(); ++i) distinct.push_back(std::move(repeats[i]));

  std::vector<std::vector<std::size_t>> fronts;
  rank_and_crowd_(distinct, fronts);
  std::vector<member> next;
  next.reserve(n);
  for (auto& front : fronts) {
    if (next.size() + front.size() > n)
      std::stable_sort(front.begin(), front.end(),
                       [&](std::size_t a, std::size_t b) { return distinct[a].crowding > distinct[b].crowding; });
    for (std::size_t i : front) {
      if (next.size() == n) return next;
      next.push_back(distinct[i]);
    }
  }
  return next;
}

// Fast non-dominated sort (rank = front index) and crowding distance within each front.
template <class Space, std::size_t K>
void nsga2<Space, K>::rank_and_crowd_(std::vector<member>& m, std::vector<std::vector<std::size_t>>& fronts) {
  const std::size_t n = m.size();
  std::vector<std::vector<std::size_t>> dominated(n);  // dominated[p]: members p dominates
  std::vector<std::size_t> dominators(n, 0);           // how many members dominate p
  fronts.assign(1, {});
  for (std::size_t p = 0; p < n; ++p) {
    for (std::size_t q = 0; q < n; ++q) {
      if (dominates(m[p].f, m[q].f)) dominated[p].push_back(q);
      else if (dominates(m[q].f, m[p].f)) ++dominators[p];
    }
    if (dominators[p] == 0) fronts[0].push_back(p);
  }
  for (std::size_t r = 0; !fronts[r].empty(); ++r) {
    std::vector<std::size_t> next;
    for (std::size_t p : fronts[r]) {
      m[p].rank = r;
      for (std::size_t q : dominated[p])
        if (--dominators[q] == 0) next.push_back(q);
    }
    std::sort(next.begin(), next.end());  // pool order, so ties break the same way every run
    fronts.push_back(std::move(next));
  }
  fronts.pop_back();

  constexpr double inf = std::numeric_limits<double>::infinity();
  for (const auto& front : fronts) {
    for (std::size_t i : front) m[i].crowding = 0;
    std::vector<std::size_t> by(front);
    for (std::size_t k = 0; k < K; ++k) {
      std::stable_sort(by.begin(), by.end(),
                       [&](std::size_t a, std::size_t b) { return detail::less_nan_last(m[a].f[k], m[b].f[k]); });
      m[by.front()].crowding = m[by.back()].crowding = inf;
      const double span = m[by.back()].f[k] - m[by.front()].f[k];
      if (!(span > 0) || !std::isfinite(span)) continue;
      for (std::size_t i = 1; i + 1 < by.size(); ++i)
        m[by[i]].crowding += (m[by[i + 1]].f[k] - m[by[i - 1]].f[k]) / span;
    }
  }
}

}  // namespace hat
