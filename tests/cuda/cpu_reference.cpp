// SPDX-License-Identifier: MIT
// The scenarios on hat::cpu: the reference every GPU result is compared with.
#include <hat/backend/cpu.hpp>

#include "scenarios.hpp"

hat_test::results hat_test::cpu_scenario(scenario_id s) { return run_scenario<hat::cpu>(s); }
