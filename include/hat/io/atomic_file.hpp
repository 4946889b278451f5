// SPDX-License-Identifier: MIT
// write_file_atomic: replace a file's contents all at once (temp file + rename).
#pragma once

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>

#include <unistd.h>  // getpid

#include <hat/config.hpp>

namespace hat {

/// Writes `contents` to a temporary file beside `path`, then renames it over `path`, so a
/// reader sees the old file or the new one, never half of one, and a failed write loses
/// nothing. Throws config_error naming the path.
inline void write_file_atomic(const std::filesystem::path& path, std::string_view contents) {
  static std::atomic<unsigned> counter{0};
  auto tmp = path;
  tmp += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw config_error(path.string() + ": cannot open '" + tmp.string() + "' for writing");
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.flush();
    if (!out) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw config_error(path.string() + ": write failed (disk full?)");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw config_error(path.string() + ": cannot replace the file: " + ec.message());
  }
}

}  // namespace hat
