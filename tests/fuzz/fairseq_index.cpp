// SPDX-License-Identifier: MIT
// Fuzzes fairseq's binarized data reader: both index formats (MMIDIDX with and without the document
// index, TNTIDX), their counts, sizes and pointers against the index and the data file. An input is
// a 4-byte little-endian length, that many bytes of `.idx`, then the `.bin`.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <hat/data/fairseq_binarized.hpp>
#include <hat/io/read_file.hpp>

#include "harness.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  hat_fuzz::write_seeds_if_asked([] {  // the committed fixtures, one per index format
    std::vector<std::string> seeds;
    for (const char* prefix : {"test.de-en.de", "valid.de-en.en"}) {
      const std::string dir = std::string(HAT_TEST_DATA_DIR) + "/fairseq/" + prefix;
      const auto idx = hat::read_file(dir + ".idx"), bin = hat::read_file(dir + ".bin");
      std::string seed(4, '\0');
      for (int i = 0; i < 4; ++i) seed[static_cast<std::size_t>(i)] = static_cast<char>(idx.size() >> (8 * i));
      seeds.push_back(seed + idx + bin);
    }
    return seeds;
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = hat_fuzz::bytes(data, size);
  if (bytes.size() < 4) return 0;
  std::size_t n = 0;
  for (int i = 3; i >= 0; --i) n = n << 8 | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  n = std::min(n, bytes.size() - 4);
  hat_fuzz::expect_refusal_or_value([&] {
    (void)hat::parse_fairseq_indexed(bytes.substr(4, n), bytes.substr(4 + n), "fuzz", bytes.size() % 3 ? 300 : 0);
  });
  return 0;
}
