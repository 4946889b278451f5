// SPDX-License-Identifier: MIT
// for_each_line: the lines of a text file's bytes, numbered from 1, for readers whose errors name
// the line.
#pragma once

#include <cstddef>
#include <string_view>

namespace hat {

/// Calls f(line, number) for each line of `text` (without its '\n'; the last line may lack one,
/// and a final newline starts no empty line). Numbers count from 1.
template <class F>
void for_each_line(std::string_view text, F&& f) {
  std::size_t pos = 0, number = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    f(text.substr(pos, end - pos), ++number);
    pos = end + 1;
  }
}

}  // namespace hat
