// SPDX-License-Identifier: MIT
// Inputs for files guarded by a trailing FNV-1a checksum: a fuzzer rarely forges one, so an input's
// first byte chooses whether the checksum of the rest is appended (the parser behind the check is
// reached) or the rest is taken as it is (the check itself is fuzzed).
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>

#include <unistd.h>

#include <hat/io/checksum.hpp>
#include <hat/io/read_file.hpp>

namespace hat_fuzz {

inline std::string checksummed_file(std::string_view input) {
  if (input.empty()) return {};
  std::string file(input.substr(1));
  if (input[0] & 1) {
    const std::uint64_t sum = hat::fnv1a(file);
    char raw[sizeof sum];
    std::memcpy(raw, &sum, sizeof sum);
    file.append(raw, sizeof sum);
  }
  return file;
}

/// The input that checksummed_file turns into the file `save(path)` writes (a valid file: its
/// checksum is recomputed).
template <class Save>
std::string checksummed_seed(Save&& save) {
  const auto path = std::filesystem::temp_directory_path() / ("hat_fuzz_seed_" + std::to_string(::getpid()));
  save(path);
  const std::string file = hat::read_file(path, hat::model_file_limit);
  std::filesystem::remove(path);
  return "\x01" + file.substr(0, file.size() - 8);
}

}  // namespace hat_fuzz
