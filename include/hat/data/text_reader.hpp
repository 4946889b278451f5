// SPDX-License-Identifier: MIT
// read_lines: the lines of a text file, plain or gzip-compressed (zlib reads both), with errors naming the file and line.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <string>
#include <vector>

#include <hat/config.hpp>

namespace hat {

/// Every line of `path` (without its '\n' or '\r\n'), decompressing gzip transparently.
/// Throws config_error naming the file when it cannot be opened or read, and naming the line
/// when it is not valid UTF-8 (SentencePiece and BLEU both need text).
inline std::vector<std::string> read_lines(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw config_error(path + ": cannot open");
  std::vector<std::string> lines;
  std::string line;
  char chunk[1 << 14];
  bool pending = false;
  while (gzgets(f, chunk, sizeof chunk)) {
    line += chunk;
    pending = true;
    if (!line.empty() && line.back() == '\n') {
      line.pop_back();
      if (!line.empty() && line.back() == '\r') line.pop_back();
      lines.push_back(std::move(line));
      line.clear();
      pending = false;
    }
  }
  int err = Z_OK;
  const char* msg = gzerror(f, &err);
  const std::string what = msg ? msg : "";
  gzclose(f);
  if (err != Z_OK && err != Z_STREAM_END) throw config_error(path + ": read error after line " + std::to_string(lines.size()) + ": " + what);
  if (pending) lines.push_back(std::move(line));
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& s = lines[i];
    for (std::size_t j = 0; j < s.size();) {  // UTF-8 well-formedness (lengths and continuation bytes)
      const auto c = static_cast<unsigned char>(s[j]);
      const std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
      bool ok = n > 0 && j + n <= s.size();
      for (std::size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(s[j + k]) & 0xC0) == 0x80;
      if (!ok) throw config_error(path + ":" + std::to_string(i + 1) + ": not valid UTF-8 (byte " + std::to_string(j + 1) + ")");
      j += n;
    }
  }
  return lines;
}

}  // namespace hat
