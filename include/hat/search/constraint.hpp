// SPDX-License-Identifier: MIT
// Constraints of a search: user predicates on an arch, at_most(measure, limit), bounded rejection.
#pragma once

#include <concepts>
#include <cstddef>
#include <functional>  // std::invoke
#include <limits>
#include <string>
#include <type_traits>
#include <utility>  // std::as_const

#include <hat/search/detail/function_ref.hpp>
#include <hat/search/detail/numbers.hpp>
#include <hat/search/errors.hpp>
#include <hat/space/arch.hpp>

namespace hat {

/// A constraint is any predicate on an architecture: true means feasible. HAT's is
/// "predicted latency <= limit"; `at_most` builds that shape from a measure.
template <class C, class Space>
concept feasibility_constraint = std::predicate<C&, const arch<Space>&>;

/// A constraint that also reports how far a candidate is from the limit: `value(a)` is the
/// measured quantity and `limit` the largest feasible value; a candidate is feasible exactly
/// when `value(a) <= limit` (searches evaluate `value` once per draw). When no candidate is feasible,
/// searches report the smallest value they saw, which tells a user how far off the limit is.
template <class C, class Space>
concept measured_constraint = feasibility_constraint<C, Space> && requires(const C& c, const arch<Space>& a) {
  { c.value(a) } -> std::convertible_to<double>;
  { c.limit } -> std::convertible_to<double>;
};

/// `measure(a) <= limit`, remembering the measure and the limit (see `at_most`).
template <class Measure>
struct at_most_constraint {
  Measure measure;
  double limit;

  template <class Space>
    requires std::invocable<const Measure&, const arch<Space>&>
  double value(const arch<Space>& a) const {
    return static_cast<double>(std::invoke(measure, a));
  }
  template <class Space>
    requires std::invocable<const Measure&, const arch<Space>&>
  bool operator()(const arch<Space>& a) const {
    return value(a) <= limit;  // a NaN measure is infeasible
  }
};

/// The constraint "measure(a) <= limit", e.g. `hat::at_most([](const auto& a) { return
/// hat::flops(a, 30); }, 2e9)`. The measure may return any arithmetic type.
template <class Measure>
at_most_constraint<std::decay_t<Measure>> at_most(Measure&& measure, double limit) {
  return {std::forward<Measure>(measure), limit};
}

/// The constraint that accepts every architecture.
struct unconstrained {
  template <class Space>
  constexpr bool operator()(const arch<Space>&) const noexcept { return true; }
};

namespace detail {

/// A constraint as the searches call it, type-erased (so a search's body is compiled once per
/// space): `accepts(a, value)` says whether `a` is feasible, and a measured constraint also
/// writes its value; `limit()` (measured constraints only) is the limit the error message reports.
template <class Space>
struct constraint_ref {
  function_ref<bool(const arch<Space>&, double&)> accepts;
  function_ref<double()> limit;  // empty: not a measured constraint
};

/// A constraint held by reference, as a constraint_ref (`ref()`) calls it: one evaluation of a
/// measured constraint serves both the test and the error message.
template <class Space, class Constraint>
struct constraint_test {
  static constexpr bool measured = measured_constraint<std::remove_const_t<Constraint>, Space>;
  struct limit_of {  // read when asked, as the constraint may change it
    Constraint& feasible;
    double operator()() const { return static_cast<double>(feasible.limit); }
  };
  Constraint& feasible;
  limit_of limit{feasible};

  bool operator()(const arch<Space>& a, double& value) const {
    if constexpr (measured) {
      value = static_cast<double>(feasible.value(a));
      return value <= limit();  // a NaN value is infeasible
    } else {
      return std::invoke(feasible, a);
    }
  }
  constraint_ref<Space> ref() const {
    if constexpr (measured)
      return {*this, limit};
    else
      return {*this, {}};
  }
};

/// Calls `draw()` until `feasible` accepts its result, at most `max_draws` times, then throws
/// infeasible_constraint naming `search`, `phase`, the draws and, for a measured constraint,
/// the smallest value seen against the limit. The bound is a count, never a clock: the same
/// seed gives the same answer on an idle machine and on a loaded one.
template <class Space>
arch<Space> draw_until_feasible(function_ref<arch<Space>()> draw, const constraint_ref<Space>& feasible,
                                std::size_t max_draws, const char* search, const char* phase) {
  double smallest = std::numeric_limits<double>::infinity();
  std::size_t i = 0;
  for (; i < max_draws; ++i) {
    arch<Space> a = draw();
    double v = 0;
    if (feasible.accepts(std::as_const(a), v)) return a;
    smallest = v < smallest ? v : smallest;
  }
  std::string msg = std::string("hat::") + search + ": no candidate satisfies the constraint in the " + phase +
                    " phase after " + std::to_string(i) + " draws (max_draws)";
  if (feasible.limit)
    msg += "; the smallest constraint value seen was " + number_text(smallest) + " against the limit " +
           number_text(feasible.limit());
  throw infeasible_constraint(msg + "; relax the constraint or raise max_draws");
}

/// draw_until_feasible for any draw callable and constraint.
template <class Space, class Constraint, class Draw>
arch<Space> draw_feasible(Draw&& draw, Constraint& feasible, std::size_t max_draws, const char* search, const char* phase) {
  const constraint_test<Space, Constraint> test{feasible};
  return draw_until_feasible<Space>(draw, test.ref(), max_draws, search, phase);
}

}  // namespace detail

}  // namespace hat
