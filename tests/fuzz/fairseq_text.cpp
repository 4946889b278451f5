// SPDX-License-Identifier: MIT
// Fuzzes the text formats of HAT's data: fairseq's dict.txt (then encode_line and string with
// --remove-bpe) and subword-nmt's BPE codes (then segmenting a line). The first byte chooses the
// reader; the rest is the file, and its last line doubles as the text to encode or segment.
#include <cstdint>
#include <string>
#include <vector>

#include <hat/data/fairseq_dictionary.hpp>
#include <hat/data/subword_nmt.hpp>
#include <hat/io/read_file.hpp>

#include "harness.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  hat_fuzz::write_seeds_if_asked([] {  // the committed fixtures
    const std::string dir = std::string(HAT_TEST_DATA_DIR) + "/fairseq/";
    return std::vector<std::string>{"d" + hat::read_file(dir + "dict.de.txt"), "b" + hat::read_file(dir + "bpe.codes")};
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = hat_fuzz::bytes(data, size);
  if (bytes.empty()) return 0;
  const auto file = bytes.substr(1);
  const auto last = file.substr(file.rfind('\n', file.size() > 1 ? file.size() - 2 : 0) + 1);
  hat_fuzz::expect_refusal_or_value([&] {
    if (bytes[0] & 1) {
      const auto bpe = hat::subword_nmt_bpe::parse(file, "fuzz.codes");
      (void)bpe.process_line(last);
    } else {
      const auto d = hat::fairseq_dictionary::parse(file, "fuzz.txt");
      const auto ids = d.encode_line(last);
      (void)d.string(ids, "@@ ");
    }
  });
  return 0;
}
