// SPDX-License-Identifier: MIT
// Fuzzes the JSON reader as the pipeline reads a test record, and the writer's finite-number rule.
#include <cmath>
#include <cstdint>

#include <hat/io/json.hpp>

#include "harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  hat_fuzz::expect_refusal_or_value([&] {
    const hat::json j = hat::parse_json(std::string(hat_fuzz::bytes(data, size)), "fuzz.json");
    (void)hat::json_get<double>(j, "bleu", "fuzz.json");
    (void)hat::json_get<std::int64_t>(j, "params", "fuzz.json");
    (void)hat::json_get<std::string>(j, "split", "fuzz.json");
  });
  hat_fuzz::expect_refusal_or_value([&] {
    const hat::json j = hat::parse_json(std::string(hat_fuzz::bytes(data, size)), "fuzz.json");
    const std::string text = hat::json_text(j, 2);  // what is written parses back to the same document
    if (hat::parse_json(text, "again.json") != j) std::abort();
  });
  return 0;
}
