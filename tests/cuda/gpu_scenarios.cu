// SPDX-License-Identifier: MIT
// The scenarios on hat::cuda: compiled by nvcc, called from device.cpp when a GPU is present.
#include <hat/backend/cuda.hpp>

#include "scenarios.hpp"

namespace hat_test {

results cuda_primitives_float() {
  hat::cuda be;
  return primitives<hat::cuda, float>(be);
}
results cuda_primitives_double() {
  hat::cuda be;
  return primitives<hat::cuda, double>(be);
}
results cuda_model() {
  hat::cuda be;
  return model_pass(be);
}
results cuda_training() {
  hat::cuda be;
  return training_updates(be);
}

}  // namespace hat_test
