// SPDX-License-Identifier: MIT
// Fuzzes the comparison of HAT SuperTransformer space files with a space type.
#include <hat/space/hat_spaces.hpp>
#include <hat/yaml/space.hpp>

#include "harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(hat_fuzz::bytes(data, size));
  hat_fuzz::expect_refusal_or_value([&] { (void)hat::space_yaml_differences<hat::hat_wmt_space>(text, "fuzz.yml"); });
  return 0;
}
