// SPDX-License-Identifier: MIT
// Fuzzes the pipeline config reader.
#include <hat/yaml/pipeline.hpp>

#include "harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(hat_fuzz::bytes(data, size));
  hat_fuzz::expect_refusal_or_value([&] {
    const auto c = hat::parse_pipeline_yaml(text, "fuzz/pipeline.yml");
    for (const auto& l : c.latency_constraints) (void)l.name();
  });
  return 0;
}
