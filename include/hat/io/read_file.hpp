// SPDX-License-Identifier: MIT
// read_file: a whole file as bytes, with an error naming it (every reader of configs, CSVs and models),
// and a size limit checked before the bytes are read, so /dev/zero or a huge file is refused, not swallowed.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include <hat/config.hpp>

namespace hat {

/// The most a text file (YAML, CSV, JSON, logs) may hold: HAT's largest is about 1 MB.
inline constexpr std::uintmax_t text_file_limit = std::uintmax_t{64} << 20;
/// The most a model file (checkpoint, predictor, subword model) may hold.
inline constexpr std::uintmax_t model_file_limit = std::uintmax_t{64} << 30;

/// The file's bytes; throws config_error "PATH: cannot open the file for reading", or naming
/// the limit when the file holds more than `limit` bytes. A file that is not a regular file
/// (a pipe, a device) is read up to text_file_limit at most, as its size is unknown.
inline std::string read_file(const std::filesystem::path& path, std::uintmax_t limit = text_file_limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw config_error(path.string() + ": cannot open the file for reading");
  const auto too_large = [&](std::uintmax_t max) {
    return config_error(path.string() + ": larger than the " + std::to_string(max >> 20) +
                        " MiB this reader accepts (is it the file you meant?)");
  };
  std::error_code ec;
  const bool regular = std::filesystem::is_regular_file(path, ec);
  if (regular) {
    const std::uintmax_t size = std::filesystem::file_size(path, ec);
    if (!ec && size > limit) throw too_large(limit);
  } else {
    limit = std::min(limit, text_file_limit);
  }
  std::string bytes;
  char chunk[1 << 16];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    bytes.append(chunk, static_cast<std::size_t>(in.gcount()));
    if (bytes.size() > limit) throw too_large(limit);
  }
  if (in.bad()) throw config_error(path.string() + ": read error");
  return bytes;
}

}  // namespace hat
