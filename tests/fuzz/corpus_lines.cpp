// SPDX-License-Identifier: MIT
// Fuzzes the corpus line reader on plain and gzip-compressed files (zlib behind our wrapper): the
// first byte chooses the file's name, the rest is its content.
#include <filesystem>
#include <string>

#include <unistd.h>

#include <hat/data/text_reader.hpp>

#include "harness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const auto dir = std::filesystem::temp_directory_path();
  const auto path = dir / ("hat_fuzz_corpus_" + std::to_string(::getpid()) + (data[0] & 1 ? ".de.gz" : ".de"));
  hat::write_file_atomic(path, hat_fuzz::bytes(data + 1, size - 1));
  hat_fuzz::expect_refusal_or_value([&] { (void)hat::read_lines(path.string()); });
  std::filesystem::remove(path);
  return 0;
}
