// SPDX-License-Identifier: MIT
// Fuzzes HAT's latency CSV reader, and the byte-exact rewrite of what it accepts.
#include <hat/io/latency_csv.hpp>

#include "harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  hat_fuzz::expect_refusal_or_value([&] {
    const auto t = hat::parse_latency_csv(hat_fuzz::bytes(data, size), "fuzz.csv");
    for (const auto& r : t.rows)
      if (!(r.total_ms() > 0)) std::abort();  // the reader promises a positive total
    // What it writes reads back as the same shape and precision (a `precision` column among the
    // extras moves to the end).
    const auto again = hat::parse_latency_csv(hat::to_latency_csv(t), "again.csv");
    if (again.weights != t.weights || again.rows.size() != t.rows.size() || again.extra_columns != t.extra_columns) std::abort();
  });
  return 0;
}
