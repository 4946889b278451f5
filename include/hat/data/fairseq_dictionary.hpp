// SPDX-License-Identifier: MIT
// fairseq_dictionary: fairseq's Dictionary as its `dict.<lang>.txt` files hold it: the four special
// symbols first (<s> 0, <pad> 1, </s> 2, <unk> 3), then one `<symbol> <count> [#fairseq:overwrite]`
// line per symbol. The vocabulary of an imported fairseq model and of binarized data.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <hat/config.hpp>
#include <hat/data/token_batch.hpp>
#include <hat/eval/unicode.hpp>
#include <hat/io/read_file.hpp>
#include <hat/io/text_lines.hpp>

namespace hat {

class fairseq_dictionary {
 public:
  /// Parses the text of a dict.txt as fairseq's Dictionary.add_from_file does: each line is split
  /// at its last space into a symbol and a count; a trailing ` #fairseq:overwrite` lets a symbol
  /// that is already present take a new id (otherwise a repeated symbol is an error, as in fairseq).
  /// Errors name `file` and the line.
  static fairseq_dictionary parse(std::string_view text, const std::string& file) {
    fairseq_dictionary d;
    d.file_ = file;
    for (const char* s : {"<s>", "<pad>", "</s>", "<unk>"}) d.add_(s, 1, false);
    for_each_line(text, [&](std::string_view line, std::size_t line_no) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
      const auto where = file + ":" + std::to_string(line_no) + ": ";
      auto cut = line.rfind(' ');
      if (cut == std::string_view::npos)
        throw config_error(where + "expected '<symbol> <count> [#fairseq:overwrite]', found '" + std::string(line.substr(0, 60)) + "'");
      bool overwrite = false;
      if (line.substr(cut + 1) == "#fairseq:overwrite") {
        overwrite = true;
        line = line.substr(0, cut);
        cut = line.rfind(' ');
        if (cut == std::string_view::npos) throw config_error(where + "a #fairseq:overwrite line without a count");
      }
      const auto count_text = line.substr(cut + 1);
      std::int64_t count = 0;
      const auto [end_ptr, ec] = std::from_chars(count_text.data(), count_text.data() + count_text.size(), count);
      if (ec != std::errc() || end_ptr != count_text.data() + count_text.size() || count < 0)
        throw config_error(where + "the count '" + std::string(count_text.substr(0, 30)) + "' is not a whole number >= 0");
      const auto symbol = line.substr(0, cut);
      (void)unicode::decode_utf8(symbol);  // fairseq reads the file as UTF-8: so must its symbols be
      if (d.ids_.contains(std::string(symbol)) && !overwrite)
        throw config_error(where + "the symbol '" + std::string(symbol) +
                           "' is listed twice (fairseq refuses this unless the line ends with #fairseq:overwrite)");
      d.add_(std::string(symbol), count, overwrite);
    });
    return d;
  }

  static fairseq_dictionary read(const std::filesystem::path& path) { return parse(read_file(path), path.string()); }

  /// Symbols, the four specials included: the rows of the model's embedding table.
  std::size_t size() const noexcept { return symbols_.size(); }
  const std::string& file() const noexcept { return file_; }

  /// The id of `symbol`, or <unk>'s (3).
  int index(std::string_view symbol) const {
    const auto it = ids_.find(std::string(symbol));
    return it == ids_.end() ? special_tokens::unk : it->second;
  }
  /// The symbol of id `i`; an id outside the dictionary is an error.
  const std::string& symbol(int i) const {
    if (i < 0 || static_cast<std::size_t>(i) >= symbols_.size())
      throw config_error(file_ + ": id " + std::to_string(i) + " is outside the dictionary of " + std::to_string(symbols_.size()) + " symbols");
    return symbols_[static_cast<std::size_t>(i)];
  }
  std::int64_t count(int i) const { return (void)symbol(i), counts_[static_cast<std::size_t>(i)]; }

  /// fairseq's encode_line with add_if_not_exist=False: the line split on whitespace as Python's
  /// str.split() does, each word's id (unknown words <unk>), then </s>.
  std::vector<int> encode_line(std::string_view line, bool append_eos = true) const {
    std::vector<int> ids;
    for (const auto& w : unicode::split_utf8(line)) ids.push_back(index(w));
    if (append_eos) ids.push_back(special_tokens::eos);
    return ids;
  }

  /// fairseq's Dictionary.string: the symbols joined by spaces, </s> left out, then
  /// `remove_bpe` (fairseq's --remove-bpe, "@@ " by default) removed as process_bpe_symbol does.
  std::string string(std::span<const int> ids, std::string_view remove_bpe = {}) const {
    std::string s;
    bool first = true;
    for (int i : ids) {
      if (i == special_tokens::eos) continue;
      if (!first) s += ' ';
      s += symbol(i);
      first = false;
    }
    if (remove_bpe.empty()) return s;
    s += ' ';
    std::string out;
    for (std::size_t p = 0; p < s.size();) {
      if (s.compare(p, remove_bpe.size(), remove_bpe) == 0) {
        p += remove_bpe.size();
      } else {
        out += s[p++];
      }
    }
    while (!out.empty() && (out.back() == ' ' || out.back() == '\t' || out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
  }

 private:
  void add_(std::string symbol, std::int64_t count, bool overwrite) {
    if (!overwrite) {
      if (const auto it = ids_.find(symbol); it != ids_.end()) {
        counts_[static_cast<std::size_t>(it->second)] += count;
        return;
      }
    }
    ids_[symbol] = static_cast<int>(symbols_.size());
    symbols_.push_back(std::move(symbol));
    counts_.push_back(count);
  }

  std::string file_;
  std::vector<std::string> symbols_;
  std::vector<std::int64_t> counts_;
  std::unordered_map<std::string, int> ids_;
};

/// Whether two dictionaries hold the same symbols in the same order (a joined dictionary).
inline bool same_symbols(const fairseq_dictionary& a, const fairseq_dictionary& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a.symbol(static_cast<int>(i)) != b.symbol(static_cast<int>(i))) return false;
  return true;
}

}  // namespace hat
