// SPDX-License-Identifier: MIT
// subword_nmt_bpe: subword-nmt's BPE codes (learn_bpe.py's output: a `#version: 0.2` header, then
// one merge `a b` per line, by rank) applied as its apply_bpe.py does, with `@@` continuation
// markers: how HAT's WMT and IWSLT data were segmented before fairseq binarized them.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <hat/config.hpp>
#include <hat/eval/unicode.hpp>
#include <hat/io/read_file.hpp>
#include <hat/io/text_lines.hpp>

namespace hat {

class subword_nmt_bpe {
 public:
  /// Parses a codes file. Version 0.2 (`#version: 0.2` first) marks only a word's last symbol
  /// with `</w>`; a file without the header is version 0.1 (an extra `</w>` symbol), as
  /// subword-nmt reads it. Another version, or a line that is not two symbols, is an error naming
  /// `file` and the line. A merge listed twice keeps its first rank, as subword-nmt does.
  static subword_nmt_bpe parse(std::string_view text, const std::string& file, std::string separator = "@@") {
    subword_nmt_bpe b;
    b.separator_ = std::move(separator);
    while (text.ends_with('\n')) text.remove_suffix(1);  // subword-nmt drops the file's final newlines
    std::size_t rank = 0;
    bool first = true;
    for_each_line(text, [&](std::string_view line, std::size_t line_no) {
      if (first && line.starts_with("#version:")) {
        first = false;
        auto v = line.substr(9);
        while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
        while (!v.empty() && (v.back() == ' ' || v.back() == '\r' || v.back() == '\t')) v.remove_suffix(1);
        for (auto dot = v.rfind('.'); dot != std::string_view::npos && dot + 1 < v.size() &&
                                      v.find_first_not_of('0', dot + 1) == std::string_view::npos;
             dot = v.rfind('.'))
          v = v.substr(0, dot);  // trailing ".0" groups go: "0.2.0" is 0.2, as subword-nmt reads it
        if (v == "0.2") b.version2_ = true;
        else if (v != "0.1")
          throw config_error(file + ":" + std::to_string(line_no) + ": BPE codes version '" + std::string(v) +
                             "'; this reader knows subword-nmt's 0.1 and 0.2");
        return;
      }
      first = false;
      // subword-nmt strips '\r\n ' at both ends, then splits at single spaces
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
      while (!line.empty() && (line.front() == '\r' || line.front() == ' ')) line.remove_prefix(1);
      const auto space = line.find(' ');
      if (space == std::string_view::npos || space == 0 || line.find(' ', space + 1) != std::string_view::npos || space + 1 == line.size())
        throw config_error(file + ":" + std::to_string(line_no) + ": expected a merge of two symbols 'a b', found '" +
                           std::string(line.substr(0, 60)) + "'");
      (void)unicode::decode_utf8(line);
      std::pair<std::string, std::string> merge{std::string(line.substr(0, space)), std::string(line.substr(space + 1))};
      b.ranks_.emplace(std::move(merge), rank++);  // emplace keeps the first rank of a repeated merge
    });
    return b;
  }

  static subword_nmt_bpe read(const std::filesystem::path& path, std::string separator = "@@") {
    return parse(read_file(path), path.string(), std::move(separator));
  }

  std::size_t merges() const noexcept { return ranks_.size(); }

  /// apply_bpe.py's process_line() (what its command line writes): segment(), with the line's
  /// leading and trailing '\r', '\n' and spaces kept around it.
  std::string process_line(std::string_view line) const {
    const auto ws = std::string_view("\r\n ");
    const auto lead = line.find_first_not_of(ws);
    if (lead == std::string_view::npos) return std::string(line);  // only whitespace: kept as it is
    const auto last = line.find_last_not_of(ws);
    return std::string(line.substr(0, lead)) + segment(line) + std::string(line.substr(last + 1));
  }

  /// apply_bpe.py's segment(): the line stripped of '\r', '\n' and spaces at its ends, split at
  /// single spaces (empty words dropped), each word segmented; every segment but a word's last
  /// gets the separator. The segments joined by single spaces.
  std::string segment(std::string_view line) const {
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n' || line.back() == ' ')) line.remove_suffix(1);
    while (!line.empty() && (line.front() == '\r' || line.front() == '\n' || line.front() == ' ')) line.remove_prefix(1);
    std::string out;
    std::size_t pos = 0;
    while (pos <= line.size()) {
      std::size_t end = line.find(' ', pos);
      if (end == std::string_view::npos) end = line.size();
      const auto word = line.substr(pos, end - pos);
      pos = end + 1;
      if (word.empty()) continue;
      const auto parts = encode(word);
      for (std::size_t i = 0; i < parts.size(); ++i) {
        if (!out.empty()) out += ' ';
        out += parts[i];
        if (i + 1 < parts.size()) out += separator_;
      }
    }
    return out;
  }

  /// apply_bpe.py's encode() of one word (no glossaries, no vocabulary filter, no dropout): the
  /// lowest-ranked adjacent pair is merged everywhere it occurs, left to right, until none is a merge.
  std::vector<std::string> encode(std::string_view word) const {
    if (const auto it = cache_.find(std::string(word)); it != cache_.end()) return it->second;
    const std::u32string cps = unicode::decode_utf8(word);
    if (cps.size() == 1) return {std::string(word)};
    std::vector<std::string> symbols;
    for (char32_t c : cps) symbols.push_back(unicode::encode_utf8(std::u32string(1, c)));
    if (version2_) symbols.back() += "</w>";
    else symbols.emplace_back("</w>");
    while (symbols.size() > 1) {
      std::size_t best = no_rank;
      for (std::size_t i = 0; i + 1 < symbols.size(); ++i)
        if (const auto it = ranks_.find({symbols[i], symbols[i + 1]}); it != ranks_.end() && it->second < best) best = it->second;
      if (best == no_rank) break;
      std::vector<std::string> merged;
      for (std::size_t i = 0; i < symbols.size();) {
        if (i + 1 < symbols.size()) {
          const auto it = ranks_.find({symbols[i], symbols[i + 1]});
          if (it != ranks_.end() && it->second == best) {
            merged.push_back(symbols[i] + symbols[i + 1]);
            i += 2;
            continue;
          }
        }
        merged.push_back(symbols[i++]);
      }
      symbols = std::move(merged);
    }
    if (symbols.back() == "</w>") symbols.pop_back();
    else if (symbols.back().ends_with("</w>")) symbols.back().resize(symbols.back().size() - 4);
    if (cache_.size() < cache_limit) cache_.emplace(std::string(word), symbols);
    return symbols;
  }

 private:
  static constexpr std::size_t no_rank = static_cast<std::size_t>(-1);
  static constexpr std::size_t cache_limit = 1 << 20;

  struct pair_hash {
    std::size_t operator()(const std::pair<std::string, std::string>& p) const noexcept {
      return std::hash<std::string>{}(p.first) * 1000003u ^ std::hash<std::string>{}(p.second);
    }
  };

  std::string separator_ = "@@";
  bool version2_ = false;
  std::unordered_map<std::pair<std::string, std::string>, std::size_t, pair_hash> ranks_;
  mutable std::unordered_map<std::string, std::vector<std::string>> cache_;
};

}  // namespace hat
