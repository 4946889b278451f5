// SPDX-License-Identifier: MIT
// Fuzzes the training config reader (HAT's keys and ours).
#include <hat/yaml/training.hpp>

#include "harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(hat_fuzz::bytes(data, size));
  hat_fuzz::expect_refusal_or_value([&] { (void)hat::parse_training_yaml(text, "fuzz.yml"); });
  return 0;
}
