// SPDX-License-Identifier: MIT
// nsga2<Space, K>: a non-dominated answer, equal to the brute-force front on the tiny space.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <unordered_set>

#include <hat/profile/flops.hpp>
#include <hat/profile/params.hpp>
#include <hat/search/nsga2.hpp>
#include "brute_force.hpp"
#include "test_spaces.hpp"

using S = hat_test::tiny_transformer;
using A = hat::arch<S>;
using point = hat::pareto_point<S, 2>;
using objective_set = std::set<std::array<double, 2>>;

namespace {
double tiny_flops(const A& a) { return static_cast<double>(hat::flops(a, 4)); }
// Capacity against cost: most #params for the fewest FLOPs (both minimised).
std::array<double, 2> objectives(const A& a) { return {-static_cast<double>(hat::params(a)), tiny_flops(a)}; }

objective_set objective_vectors(const std::vector<point>& pts) {
  objective_set s;
  for (const auto& p : pts) s.insert(p.objectives);
  return s;
}
// The exact front of every network that satisfies `feasible`, as objective vectors.
template <class C>
objective_set brute_force_front(const C& feasible) {
  std::vector<point> pts;
  for (const auto& a : hat_test::all_networks<S>())
    if (feasible(a)) pts.push_back({a, objectives(a)});
  return objective_vectors(hat::pareto_front(pts));
}
const hat::nsga2_options tiny_options{.population = 60, .generations = 40};
}  // namespace

TEST_CASE("nsga2: the front is non-dominated, sorted and feasible", "[search][nsga2]") {
  const auto limit = hat::at_most(tiny_flops, 60000);
  const auto r = hat::nsga2<S, 2>{{.population = 20, .generations = 10}}.run(objectives, limit);
  REQUIRE_FALSE(r.front.empty());
  for (const auto& p : r.front) {
    CHECK(limit(p.architecture));
    CHECK(p.objectives == objectives(p.architecture));
    for (const auto& q : r.evaluated) CHECK_FALSE(hat::dominates(q.objectives, p.objectives));
  }
  CHECK(std::is_sorted(r.front.begin(), r.front.end(),
                       [](const point& a, const point& b) { return a.objectives[0] < b.objectives[0]; }));
  for (const auto& q : r.evaluated) CHECK(limit(q.architecture));
  CHECK(r.generations == 10);
}

TEST_CASE("nsga2: on the tiny space the front equals the brute-force Pareto front", "[search][nsga2]") {
  const auto truth = brute_force_front(hat::unconstrained{});
  REQUIRE(truth.size() > 20);  // a real trade-off, not one dominant network
  const auto r = hat::nsga2<S, 2>{tiny_options}.run(objectives, hat::unconstrained{});
  const auto found = objective_vectors(r.front);
  for (const auto& f : found) CHECK(truth.count(f) == 1);  // only true-front points
  CHECK(found == truth);                                    // and all of them (seed 1)
  for (std::uint64_t seed : {2, 3}) {  // other seeds: only true points, and most of them
    const auto other = objective_vectors(hat::nsga2<S, 2>{{.population = 60, .generations = 40, .seed = seed}}
                                             .run(objectives, hat::unconstrained{})
                                             .front);
    CHECK(std::includes(truth.begin(), truth.end(), other.begin(), other.end()));
    CHECK(other.size() * 10 >= truth.size() * 9);
  }
}

TEST_CASE("nsga2: under a constraint the front is the brute-force front of feasible networks",
          "[search][nsga2]") {
  const auto limit = hat::at_most(tiny_flops, 50000);
  const auto truth = brute_force_front(limit);
  const auto found = objective_vectors(hat::nsga2<S, 2>{tiny_options}.run(objectives, limit).front);
  CHECK(std::includes(truth.begin(), truth.end(), found.begin(), found.end()));
  CHECK(found.size() * 10 >= truth.size() * 9);
}

TEST_CASE("nsga2: deterministic by seed; every network evaluated once", "[search][nsga2]") {
  std::size_t calls = 0;
  std::unordered_set<A> seen;
  const auto counted = [&](const A& a) {
    ++calls;
    seen.insert(a.canonical());
    return objectives(a);
  };
  const hat::nsga2_options o{.population = 16, .generations = 8, .seed = 5};
  const auto a = hat::nsga2<S, 2>{o}.run(counted, hat::unconstrained{});
  CHECK(calls == a.evaluations);
  CHECK(seen.size() == a.evaluations);
  CHECK(a.evaluated.size() == a.evaluations);
  CHECK(a.evaluations + a.cache_hits == 16 * 9);
  const auto b = hat::nsga2<S, 2>{o}.run(objectives, hat::unconstrained{});
  REQUIRE(a.evaluated.size() == b.evaluated.size());
  for (std::size_t i = 0; i < a.evaluated.size(); ++i) CHECK(a.evaluated[i].architecture == b.evaluated[i].architecture);
  REQUIRE(a.front.size() == b.front.size());
  for (std::size_t i = 0; i < a.front.size(); ++i) CHECK(a.front[i].architecture == b.front[i].architecture);
  const auto c = hat::nsga2<S, 2>{{.population = 16, .generations = 8, .seed = 6}}.run(objectives, hat::unconstrained{});
  bool differs = c.evaluated.size() != a.evaluated.size();
  for (std::size_t i = 0; !differs && i < a.evaluated.size(); ++i)
    differs = !(a.evaluated[i].architecture == c.evaluated[i].architecture);
  CHECK(differs);
}

TEST_CASE("nsga2: an impossible constraint throws the clear error", "[search][nsga2]") {
  const hat::nsga2<S, 2> search{{.population = 4, .generations = 1, .max_draws = 1000}};
  CHECK_THROWS_MATCHES(search.run(objectives, hat::at_most(tiny_flops, 100)), hat::infeasible_constraint,
                       Catch::Message("hat::nsga2: no candidate satisfies the constraint in the initial population "
                                      "phase after 1000 draws (max_draws); the smallest constraint value seen was " +
                                      std::to_string(hat::flops(A::smallest(), 4)) +
                                      " against the limit 100; relax the constraint or raise max_draws"));
}
