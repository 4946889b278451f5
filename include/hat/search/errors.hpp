// SPDX-License-Identifier: MIT
// infeasible_constraint: what a search throws when no candidate satisfies the constraint.
#pragma once

#include <stdexcept>

namespace hat {

/// No feasible candidate was found within `max_draws` draws. The message names the search,
/// the phase (initial population, mutation, crossover, offspring), the number of draws and,
/// for a measured constraint such as `at_most`, the smallest value seen against the limit.
struct infeasible_constraint : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace hat
