// SPDX-License-Identifier: MIT
// read_file: a whole file as bytes, with an error naming it (every reader of configs, CSVs and models).
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <hat/config.hpp>

namespace hat {

/// The file's bytes; throws config_error "PATH: cannot open the file for reading".
inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw config_error(path.string() + ": cannot open the file for reading");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace hat
