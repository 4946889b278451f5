// SPDX-License-Identifier: MIT
// Fuzzes the safetensors reader: the header length, the JSON header (dtypes, shapes, byte ranges,
// metadata) and the ranges against the data they must tile.
#include <cstdint>
#include <string>
#include <vector>

#include <hat/io/safetensors.hpp>

#include "harness.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  hat_fuzz::write_seeds_if_asked([] {  // what hat's export writes, at a tiny size
    return std::vector<std::string>{hat::safetensors_bytes({{"encoder.embed_tokens.weight", {3, 2}, {1, 2, 3, 4, 5, 6}}, {"b", {1}, {0.5f}}},
                                                           {{"space", "number-words"}, {"sharing", "all"}})};
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = hat_fuzz::bytes(data, size);
  hat_fuzz::expect_refusal_or_value([&] { (void)hat::safetensors_file::from_bytes(bytes, "fuzz.safetensors"); });
  return 0;
}
