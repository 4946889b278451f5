// SPDX-License-Identifier: MIT
// Search callbacks: only defined hooks are called, the right number of times; print_progress.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>

#include <hat/profile/params.hpp>
#include <hat/search/callbacks.hpp>
#include <hat/search/evolution.hpp>
#include <hat/search/nsga2.hpp>
#include "test_spaces.hpp"

using S = hat_test::tiny_transformer;
using A = hat::arch<S>;

namespace {
double minus_params(const A& a) { return -static_cast<double>(hat::params(a)); }
std::array<double, 2> two_objectives(const A& a) {
  return {minus_params(a), static_cast<double>(a.get<"decoder_layer_num">())};
}
const hat::evolution_options small{.iterations = 4, .population = 10, .parents = 2, .mutations = 4,
                                   .crossovers = 4};

struct every_hook {
  int begins = 0, iterations = 0, ends = 0;
  std::size_t last_iteration = 99, iterations_expected = 0;
  double end_fitness = 0;
  void on_begin(const hat::evolution_options& o) {
    ++begins;
    iterations_expected = o.iterations;
  }
  void on_iteration(const hat::iteration_record<S>& r) {
    CHECK(r.iteration == static_cast<std::size_t>(iterations));
    last_iteration = r.iteration;
    ++iterations;
  }
  void on_end(const hat::search_result<S>& r) {
    ++ends;
    end_fitness = r.best_fitness;
  }
};

struct only_iteration {
  int calls = 0;
  void on_iteration(const hat::iteration_record<S>&) { ++calls; }
};

struct no_hooks {};
struct nsga2_hooks {
  int begins = 0, generations = 0, ends = 0;
  void on_begin(const hat::nsga2_options&) { ++begins; }
  void on_generation(const hat::generation_record<S, 2>& r) {
    CHECK(r.generation == static_cast<std::size_t>(generations));
    CHECK_FALSE(r.front.empty());
    ++generations;
  }
  void on_end(const hat::nsga2_result<S, 2>&) { ++ends; }
};
}  // namespace

TEST_CASE("callbacks: each hook is called the right number of times", "[search][callbacks]") {
  every_hook all;
  only_iteration some;
  const auto r = hat::evolution<S>{small}.run(minus_params, hat::unconstrained{}, all, some);
  CHECK(all.begins == 1);
  CHECK(all.iterations_expected == 4);
  CHECK(all.iterations == 4);
  CHECK(all.last_iteration == 3);
  CHECK(all.ends == 1);
  CHECK(all.end_fitness == r.best_fitness);
  CHECK(some.calls == 4);
  // A callback passed as a temporary works too, and a search without callbacks is the same search.
  CHECK(hat::evolution<S>{small}.run(minus_params, hat::unconstrained{}, only_iteration{}).best == r.best);
  CHECK(hat::evolution<S>{small}.run(minus_params, hat::unconstrained{}).best == r.best);
}

TEST_CASE("callbacks: which types count as callbacks of which search", "[search][callbacks]") {
  STATIC_REQUIRE(hat::evolution_callback<every_hook, S>);
  STATIC_REQUIRE(hat::evolution_callback<only_iteration, S>);
  STATIC_REQUIRE(hat::evolution_callback<hat::print_progress, S>);
  STATIC_REQUIRE_FALSE(hat::evolution_callback<no_hooks, S>);
  STATIC_REQUIRE_FALSE(hat::evolution_callback<nsga2_hooks, S>);
  STATIC_REQUIRE(hat::nsga2_callback<nsga2_hooks, S, 2>);
  STATIC_REQUIRE(hat::nsga2_callback<hat::print_progress, S, 2>);
  STATIC_REQUIRE_FALSE(hat::nsga2_callback<only_iteration, S, 2>);
}

TEST_CASE("callbacks: print_progress writes one line per iteration", "[search][callbacks]") {
  std::ostringstream out;
  const auto r = hat::evolution<S>{small}.run(minus_params, hat::unconstrained{}, hat::print_progress{out});
  const std::string text = out.str();
  CHECK(std::count(text.begin(), text.end(), '\n') == 4);
  CHECK_THAT(text, Catch::StartsWith("iteration 1/4  best -"));
  CHECK_THAT(text, Catch::Contains("iteration 4/4  best ") &&
                       Catch::Contains("evaluations " + std::to_string(r.evaluations) + "  elapsed "));
  CHECK_THAT(text, Catch::EndsWith(" s\n"));
}

TEST_CASE("callbacks: NSGA-II hooks and print_progress", "[search][callbacks]") {
  nsga2_hooks hooks;
  std::ostringstream out;
  hat::nsga2<S, 2>{{.population = 8, .generations = 3}}.run(two_objectives, hat::unconstrained{}, hooks,
                                                             hat::print_progress{out});
  CHECK(hooks.begins == 1);
  CHECK(hooks.generations == 3);
  CHECK(hooks.ends == 1);
  const std::string text = out.str();
  CHECK(std::count(text.begin(), text.end(), '\n') == 3);
  CHECK_THAT(text, Catch::StartsWith("generation 1/3  front ") && Catch::Contains("generation 3/3  front "));
}
