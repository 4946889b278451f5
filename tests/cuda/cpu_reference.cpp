// SPDX-License-Identifier: MIT
// The scenarios on hat::cpu: the reference every GPU result is compared with.
#include <hat/backend/cpu.hpp>

#include "scenarios.hpp"

namespace hat_test {

results cpu_primitives_float() {
  hat::cpu be;
  return primitives<hat::cpu, float>(be);
}
results cpu_primitives_double() {
  hat::cpu be;
  return primitives<hat::cpu, double>(be);
}
results cpu_model() {
  hat::cpu be;
  return model_pass(be);
}
results cpu_training() {
  hat::cpu be;
  return training_updates(be);
}

}  // namespace hat_test
