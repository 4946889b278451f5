// SPDX-License-Identifier: MIT
// Search options and their validation, constraints (at_most), and the fitness cache.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include <cmath>

#include <hat/profile/flops.hpp>
#include <hat/search/constraint.hpp>
#include <hat/search/evolution.hpp>
#include <hat/search/fitness_cache.hpp>
#include <hat/search/nsga2.hpp>
#include <hat/search/options.hpp>
#include "test_spaces.hpp"

using S = hat_test::tiny_transformer;
using A = hat::arch<S>;

TEST_CASE("evolution options: the defaults are HAT's", "[search][options]") {
  const hat::evolution_options o;
  CHECK(o.iterations == 30);
  CHECK(o.population == 125);
  CHECK(o.parents == 25);
  CHECK(o.mutations == 50);
  CHECK(o.crossovers == 50);
  CHECK(o.mutation_prob == 0.3);
  CHECK(o.seed == 1);
  CHECK_NOTHROW(o.validate());
  CHECK(hat::evolution<S>{}.options().population == 125);
}

TEST_CASE("evolution options: validation names the bad field", "[search][options]") {
  const auto fails = [](hat::evolution_options o, const char* text) {
    CHECK_THROWS_WITH(o.validate(), Catch::Contains(text));
    CHECK_THROWS_AS(hat::evolution<S>{o}, std::invalid_argument);
  };
  fails({.population = 100}, "population = 100 must equal parents + mutations + crossovers = 25 + 50 + 50");
  fails({.iterations = 0}, "iterations");
  fails({.population = 51, .parents = 1}, "parents = 1: crossover needs at least 2 parents");
  fails({.mutation_prob = 1.5}, "mutation_prob = 1.5");
  fails({.mutation_prob = std::nan("")}, "mutation_prob");
  fails({.max_draws = 0}, "max_draws");
  fails({.iterations = 10000000000}, "iterations = 10000000000: at most 1000000");  // refused before any allocation
  CHECK_NOTHROW(hat::evolution<S>{{.population = 10, .parents = 2, .mutations = 4, .crossovers = 4}});
}

TEST_CASE("nsga2 options: validation names the bad field", "[search][options]") {
  const auto fails = [](hat::nsga2_options o, const char* text) {
    CHECK_THROWS_WITH(o.validate(), Catch::Contains("hat::nsga2_options") && Catch::Contains(text));
    CHECK_THROWS_AS((hat::nsga2<S, 2>{o}), std::invalid_argument);
  };
  fails({.population = 1}, "population = 1");
  fails({.generations = 0}, "generations");
  fails({.mutation_prob = -0.1}, "mutation_prob");
  fails({.crossover_prob = 2}, "crossover_prob = 2");
  fails({.generations = 10000000000}, "generations = 10000000000: at most 1000000");
  fails({.max_draws = 0}, "max_draws");
  const hat::nsga2_options d;
  CHECK(d.crossover_prob == 1.0);
  CHECK_NOTHROW(d.validate());
}

namespace {
const auto tiny_flops = [](const A& a) { return hat::flops(a, 4); };
}

TEST_CASE("constraint: at_most measures, compares and exposes its limit", "[search][constraint]") {
  const auto c = hat::at_most(tiny_flops, 30000);
  STATIC_REQUIRE(hat::measured_constraint<decltype(c), S>);
  STATIC_REQUIRE(hat::feasibility_constraint<decltype(c), S>);
  STATIC_REQUIRE(hat::feasibility_constraint<hat::unconstrained, S>);
  STATIC_REQUIRE_FALSE(hat::measured_constraint<hat::unconstrained, S>);
  STATIC_REQUIRE_FALSE(hat::measured_constraint<decltype(tiny_flops), S>);

  const A big = A::largest(), small = A::smallest();
  CHECK(c.limit == 30000);
  CHECK(c.value(big) == static_cast<double>(hat::flops(big, 4)));
  CHECK(c.value(small) == static_cast<double>(hat::flops(small, 4)));
  CHECK_FALSE(c(big));
  CHECK(c(small));
  CHECK(hat::at_most(tiny_flops, c.value(big))(big));  // the limit itself is feasible
  CHECK_FALSE(hat::at_most([](const A&) { return std::nan(""); }, 1e300)(small));
  CHECK(hat::unconstrained{}(big));
}

TEST_CASE("constraint: bounded rejection reports the phase, the draws and the closest value",
          "[search][constraint]") {
  hat::rng g(1);
  auto c = hat::at_most(tiny_flops, 0.5);
  const auto draw = [&] { return A::sample(g); };
  // 20,000 uniform draws find the smallest network (probability 1/96 per draw) almost surely.
  CHECK_THROWS_MATCHES(hat::detail::draw_feasible<S>(draw, c, 20000, "evolution", "mutation"),
                       hat::infeasible_constraint,
                       Catch::Message("hat::evolution: no candidate satisfies the constraint in the mutation phase "
                                      "after 20000 draws (max_draws); the smallest constraint value seen was " +
                                      std::to_string(hat::flops(A::smallest(), 4)) +
                                      " against the limit 0.5; relax the constraint or raise max_draws"));
  // No draw at all: the limit is still the constraint's (read when the message is written).
  CHECK_THROWS_WITH(hat::detail::draw_feasible<S>(draw, c, 0, "evolution", "mutation"),
                    Catch::Contains("after 0 draws") && Catch::Contains("against the limit 0.5;"));
  auto never = [](const A&) { return false; };
  CHECK_THROWS_WITH(hat::detail::draw_feasible<S>(draw, never, 7, "nsga2", "offspring"),
                    Catch::Contains("offspring phase after 7 draws") && !Catch::Contains("smallest"));
  int calls = 0;
  auto third = [&](const A&) { return ++calls == 3; };
  CHECK_NOTHROW(hat::detail::draw_feasible<S>(draw, third, 3, "evolution", "crossover"));
  // The bound is a count, never a clock: a slow constraint (100 x 25 ms, past the 2 s wall-time
  // bound this search once had) gets its draws all the same, so a loaded machine gives the
  // answer an idle one does.
  int slow_calls = 0;
  auto slow_tenth = [&](const A&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    return ++slow_calls == 100;
  };
  CHECK_NOTHROW(hat::detail::draw_feasible<S>(draw, slow_tenth, 100, "evolution", "mutation"));
  CHECK(slow_calls == 100);
}

TEST_CASE("fitness cache: one evaluation per network, inactive genes ignored", "[search][cache]") {
  hat::fitness_cache<S> cache;
  int calls = 0;
  const auto f = [&](const A& a) {
    ++calls;
    return static_cast<double>(a.get<"encoder_embed_dim">());
  };
  A a = A::smallest();  // one decoder layer: genes of decoder layers 1 and 2 are inactive
  A b = a;
  b.set<"decoder_ffn_embed_dim">(2, 32);
  REQUIRE_FALSE(a == b);
  CHECK(cache(a, f) == 8);
  CHECK(cache(b, f) == 8);
  CHECK(cache(a, f) == 8);
  CHECK(calls == 1);
  CHECK(cache.evaluations() == 1);
  CHECK(cache.hits() == 2);
  CHECK(cache.contains(b));
  CHECK_FALSE(cache.contains(A::largest()));
  CHECK_THROWS(cache(A::largest(), [](const A&) -> double { throw std::runtime_error("boom"); }));
  CHECK(cache.size() == 1);  // a throwing fitness stores nothing
}
