// SPDX-License-Identifier: MIT
// Fuzzes the latency predictor file reader (checksum, sizes, settings, weights).
#include <array>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/predictor/latency_predictor.hpp>

#include "checksummed.hpp"
#include "harness.hpp"

using predictor = hat::latency_predictor<hat::cpu>;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  hat_fuzz::write_seeds_if_asked([] {  // a linear predictor of 12 synthetic rows, and one adapted from it
    hat::cpu be;
    std::vector<std::array<double, 10>> x;
    std::vector<double> y;
    for (int i = 0; i < 12; ++i) {
      x.push_back({512.0 + i, 6, 2048, 8, 512, 1.0 + i % 6, 2048, 8, 8, 1});
      y.push_back(10.0 + 3.0 * (i % 6) + 0.1 * i);
    }
    predictor p(be, 100, hat::predictor_model::linear);
    p.fit(x, y, {});
    std::vector<std::string> seeds{hat_fuzz::checksummed_seed([&](const std::filesystem::path& path) { p.save(path); })};
    for (auto& v : y) v = 2 * v + 1;
    auto adapted = predictor::adapt(std::move(p), x, y);  // nests its source: the reader recurses
    seeds.push_back(hat_fuzz::checksummed_seed([&](const std::filesystem::path& path) { adapted.save(path); }));
    return seeds;
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static hat::cpu be;
  const std::string file = hat_fuzz::checksummed_file(hat_fuzz::bytes(data, size));
  hat_fuzz::expect_refusal_or_value([&] {
    auto p = predictor::from_bytes(be, file, "fuzz.pred");
    const std::array<double, 10> f{512, 6, 2048, 8, 512, 6, 2048, 8, 8, 1};
    (void)p.predict_ms(f);
  });
  return 0;
}
