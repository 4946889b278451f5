// SPDX-License-Identifier: MIT
// Fuzzes HAT's latency CSV reader, and the byte-exact rewrite of what it accepts.
#include <hat/io/latency_csv.hpp>

#include "harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  hat_fuzz::expect_refusal_or_value([&] {
    const auto t = hat::parse_latency_csv(hat_fuzz::bytes(data, size), "fuzz.csv");
    for (const auto& r : t.rows)
      if (!(r.total_ms() > 0)) std::abort();  // the reader promises a positive total
    (void)hat::to_latency_csv(t);
  });
  return 0;
}
