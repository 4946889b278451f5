// SPDX-License-Identifier: MIT
// Fuzzes the SubTransformer YAML reader (HAT's space0 and the IWSLT space).
#include <hat/space/hat_spaces.hpp>
#include <hat/yaml/subtransformer.hpp>

#include "harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(hat_fuzz::bytes(data, size));
  hat_fuzz::expect_refusal_or_value([&] { (void)hat::parse_subtransformer_yaml<hat::hat_wmt_space>(text, "fuzz.yml"); });
  hat_fuzz::expect_refusal_or_value([&] { (void)hat::parse_subtransformer_yaml<hat::hat_iwslt_space>(text, "fuzz.yml"); });
  return 0;
}
