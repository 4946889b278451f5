// SPDX-License-Identifier: MIT
// The scenarios on hat::cuda: compiled by nvcc, called from device.cpp when a GPU is present.
#include <hat/backend/cuda.hpp>

#include "scenarios.hpp"

hat_test::results hat_test::cuda_scenario(scenario_id s) { return run_scenario<hat::cuda>(s); }
