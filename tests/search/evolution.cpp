// SPDX-License-Identifier: MIT
// evolution<Space>: HAT's algorithm and defaults, determinism, the cache, feasibility, optimality.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <span>
#include <vector>
#include <unordered_set>

#include <hat/profile/flops.hpp>
#include <hat/profile/params.hpp>
#include <hat/search/evolution.hpp>
#include <hat/space/hat_spaces.hpp>
#include "brute_force.hpp"
#include "test_spaces.hpp"

using S = hat_test::tiny_transformer;
using A = hat::arch<S>;

namespace {
double tiny_flops(const A& a) { return static_cast<double>(hat::flops(a, 4)); }
double minus_params(const A& a) { return -static_cast<double>(hat::params(a)); }
// Halfway between the smallest and the largest network's FLOPs: the limit binds.
const double flops_limit = (tiny_flops(A::smallest()) + tiny_flops(A::largest())) / 2;

hat::search_result<S> run_tiny(std::uint64_t seed) {
  return hat::evolution<S>{{.seed = seed}}.run(minus_params, hat::at_most(tiny_flops, flops_limit));
}
}  // namespace

TEST_CASE("evolution: HAT's defaults score 30 populations of 125", "[search][evolution]") {
  const auto r = run_tiny(1);
  REQUIRE(r.history.size() == 30);
  for (std::size_t i = 0; i < r.history.size(); ++i) {
    const auto& rec = r.history[i];
    CHECK(rec.iteration == i);
    REQUIRE(rec.fitness.size() == 125);
    CHECK(std::is_sorted(rec.fitness.begin(), rec.fitness.end()));
    CHECK(rec.best_fitness == rec.fitness.front());
    CHECK(minus_params(rec.best) == rec.best_fitness);
    CHECK(rec.evaluations + rec.cache_hits == (i + 1) * 125);
    if (i > 0) CHECK(rec.best_fitness <= r.history[i - 1].best_fitness);  // parents survive
  }
  CHECK(r.best == r.history.back().best);
  CHECK(r.best_fitness == r.history.back().best_fitness);
  CHECK(r.evaluations + r.cache_hits == 30 * 125);
}

TEST_CASE("evolution: the same seed gives the same search, another seed another", "[search][evolution]") {
  const auto a = run_tiny(7), b = run_tiny(7), c = run_tiny(8);
  REQUIRE(a.history.size() == b.history.size());
  CHECK(a.best == b.best);
  CHECK(a.evaluations == b.evaluations);
  for (std::size_t i = 0; i < a.history.size(); ++i) {
    CHECK(a.history[i].best == b.history[i].best);
    CHECK(a.history[i].fitness == b.history[i].fitness);
    CHECK(a.history[i].evaluations == b.history[i].evaluations);
  }
  bool differs = a.evaluations != c.evaluations;
  for (std::size_t i = 0; i < a.history.size(); ++i) differs = differs || a.history[i].fitness != c.history[i].fitness;
  CHECK(differs);
}

TEST_CASE("evolution: each network is scored once and only feasible ones are scored", "[search][evolution]") {
  std::unordered_set<A> scored;
  std::size_t calls = 0, infeasible = 0;
  const auto limit = hat::at_most(tiny_flops, flops_limit);
  const auto fitness = [&](const A& a) {
    ++calls;
    scored.insert(a.canonical());
    infeasible += limit(a) ? 0 : 1;
    return minus_params(a);
  };
  const auto r = hat::evolution<S>{}.run(fitness, limit);
  CHECK(infeasible == 0);
  CHECK(limit(r.best));
  CHECK(calls == r.evaluations);
  CHECK(r.evaluations == scored.size());
  CHECK(r.evaluations < 30 * 125);
  CHECK(r.cache_hits == 30 * 125 - r.evaluations);
}

TEST_CASE("evolution: a prefetching fitness gets each generation's new networks at once, and the same search", "[search][evolution]") {
  // What a fitness shared by the ranks of a job does: score a generation's new networks together.
  struct prefetching {
    std::vector<std::size_t> batch_sizes;
    std::unordered_set<A> prefetched;
    std::size_t asked = 0, asked_unprefetched = 0, prefetched_twice = 0;
    void prefetch(std::span<const A> networks) {
      batch_sizes.push_back(networks.size());
      for (const A& a : networks) prefetched_twice += prefetched.insert(a.canonical()).second ? 0 : 1;
    }
    double operator()(const A& a) {
      ++asked;
      asked_unprefetched += prefetched.contains(a.canonical()) ? 0 : 1;
      return minus_params(a);
    }
  };
  static_assert(hat::prefetching_fitness<prefetching, S>);
  prefetching f;
  const hat::evolution_options o{.iterations = 6, .population = 40, .parents = 10, .mutations = 15, .crossovers = 15, .seed = 2};
  const auto limit = hat::at_most(tiny_flops, flops_limit);
  const auto with = hat::evolution<S>{o}.run(f, limit);
  const auto without = hat::evolution<S>{o}.run(minus_params, limit);
  CHECK(with.best == without.best);
  CHECK(with.evaluations == without.evaluations);
  CHECK(with.cache_hits == without.cache_hits);
  REQUIRE(f.batch_sizes.size() == 6);  // one batch per scored generation
  CHECK(f.batch_sizes[0] <= 40);
  CHECK(f.asked == with.evaluations);  // every network asked for once, and every one was prefetched
  CHECK(f.asked_unprefetched == 0);
  CHECK(f.prefetched_twice == 0);
  CHECK(f.prefetched.size() == with.evaluations);
}

TEST_CASE("evolution: finds the brute-force optimum of the tiny space", "[search][evolution]") {
  // Most #params within a FLOPs budget: the optimum lies on the constraint boundary.
  double best = -1;
  for (const auto& a : hat_test::all_networks<S>())
    if (tiny_flops(a) <= flops_limit) best = std::max(best, -minus_params(a));
  REQUIRE(best > 0);
  for (std::uint64_t seed : {1, 2, 3}) {
    const auto r = run_tiny(seed);
    CHECK(-r.best_fitness == best);
    CHECK(tiny_flops(r.best) <= flops_limit);
  }
}

TEST_CASE("evolution: a separable fitness reaches its known optimum on a non-transformer space",
          "[search][evolution]") {
  using C = hat_test::cnn_space;
  // Distance of every active gene from a target; the optimum (0) is resolution 192, depth 3,
  // kernel 5 and width 32 in the active stages, stem 1 in both genes.
  const auto fitness = [](const hat::arch<C>& a) {
    double d = std::abs(a.get<"resolution">() - 192) + std::abs(a.get<"depth">() - 3);
    for (std::size_t l = 0; l < a.active_layers<"kernel">(); ++l)
      d += std::abs(a.get<"kernel">(l) - 5) + std::abs(a.get<"width">(l) - 32);
    return d + (2 - a.get<"stem">(0) - a.get<"stem">(1));
  };
  const auto r = hat::evolution<C>{{.seed = 3}}.run(fitness, hat::unconstrained{});
  CHECK(r.best_fitness == 0);
}

TEST_CASE("evolution: an impossible constraint throws a clear error quickly", "[search][evolution]") {
  // Initial population on HAT's space0, default max_draws: 100,000 draws, well under a second.
  using W = hat::hat_wmt_space;
  const auto wmt_flops = [](const hat::arch<W>& a) { return hat::flops(a, 30); };
  const auto lowest = static_cast<double>(hat::flops(hat::arch<W>::smallest(), 30));
  CHECK_THROWS_MATCHES(
      hat::evolution<W>{}.run([](const hat::arch<W>&) { return 0.0; }, hat::at_most(wmt_flops, 1000)),
      hat::infeasible_constraint,
      Catch::Matchers::Predicate<std::exception>(
          [&](const std::exception& e) {
            const std::string m = e.what();
            const auto at = m.find("seen was ") + 9;
            return m.starts_with("hat::evolution: no candidate satisfies the constraint in the initial population "
                                 "phase after 100000 draws") &&
                   m.find("against the limit 1000;") != std::string::npos && at > 9 &&
                   std::stod(m.substr(at)) >= lowest;  // the closest draw is reported
          },
          "names the phase, the draws, the closest value and the limit"));

  // Feasible at first, impossible later: the error names the phase where it happened.
  std::size_t calls = 0;
  const auto until = [&](std::size_t n) {
    return [&calls, n](const A&) { return ++calls <= n; };
  };
  const hat::evolution_options small{.population = 10, .parents = 2, .mutations = 4, .crossovers = 4,
                                     .max_draws = 50};
  CHECK_THROWS_WITH(hat::evolution<S>{small}.run(minus_params, until(10)),
                    Catch::Contains("in the mutation phase after 50 draws") && !Catch::Contains("smallest"));
  calls = 0;
  CHECK_THROWS_WITH(hat::evolution<S>{small}.run(minus_params, until(14)),
                    Catch::Contains("in the crossover phase after 50 draws"));
}

TEST_CASE("evolution: NaN fitness sorts last and ties keep population order", "[search][evolution]") {
  const auto fitness = [](const A& a) { return a.get<"encoder_embed_dim">() == 16 ? std::nan("") : 1.0; };
  const auto r = hat::evolution<S>{{.iterations = 3}}.run(fitness, hat::unconstrained{});
  CHECK(r.best_fitness == 1.0);
  CHECK(std::isnan(r.history[0].fitness.back()));
}

TEST_CASE("evolution: the result converts to the best arch", "[search][evolution]") {
  const hat::evolution<S> search{{.iterations = 2, .population = 10, .parents = 2, .mutations = 4,
                                  .crossovers = 4, .mutation_prob = 0.3, .seed = 1}};
  const A best = search.run(minus_params, [](const A& a) { return tiny_flops(a) <= flops_limit; });
  CHECK(best == search.run(minus_params, hat::at_most(tiny_flops, flops_limit)).best);
}
