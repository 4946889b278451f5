// SPDX-License-Identifier: MIT
// fairseq's binarized data (preprocess.py's `<split>.<src>-<tgt>.<lang>.idx` / `.bin` pairs) read as
// id sequences, and a split of HAT's `data/binary/...` folders as a parallel corpus. Both index
// formats fairseq wrote: the mmap format (`MMIDIDX`, the default since 2019 and HAT's: sizes and
// byte pointers, with or without the newer document index) and the older `TNTIDX` format of the
// cached and lazy datasets (dimension, data offsets and sizes). Every count, size and pointer is
// checked against the files before a token is read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <hat/config.hpp>
#include <hat/data/fairseq_dictionary.hpp>
#include <hat/data/parallel_corpus.hpp>
#include <hat/io/read_file.hpp>

namespace hat {

namespace detail {

/// fairseq's dtype codes (indexed_dataset.py): the element size of an integer code, 0 for the
/// float codes (6, 7) and unknown ones.
inline std::size_t fairseq_int_size(std::uint64_t code, bool& is_signed) {
  is_signed = code == 2 || code == 3 || code == 4 || code == 5;
  switch (code) {
    case 1: case 2: return 1;
    case 3: case 8: return 2;
    case 4: case 9: return 4;
    case 5: case 10: return 8;
    default: return 0;
  }
}

inline std::uint64_t fairseq_le(std::string_view b, std::size_t at, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = n; i-- > 0;) v = v << 8 | static_cast<unsigned char>(b[at + i]);
  return v;
}

inline std::int64_t fairseq_token(std::string_view bin, std::uint64_t at, std::size_t size, bool is_signed) {
  std::uint64_t v = fairseq_le(bin, static_cast<std::size_t>(at), size);
  if (is_signed && size < 8 && (v >> (8 * size - 1) & 1)) v |= ~std::uint64_t{0} << (8 * size);
  return static_cast<std::int64_t>(v);
}

}  // namespace detail

/// The sequences of one binarized file pair, given the bytes of its `.idx` and `.bin`; `name`
/// (the path without extension) stands for them in errors. Each id is checked to be below
/// `vocabulary` (0: unchecked).
inline std::vector<std::vector<int>> parse_fairseq_indexed(std::string_view idx, std::string_view bin, const std::string& name,
                                                            std::size_t vocabulary = 0) {
  const auto fail = [&](const std::string& what) { return config_error(name + ".idx: " + what); };
  const auto need = [&](std::size_t end, const char* what) {
    if (end > idx.size()) throw fail(std::string("truncated: the file ends inside ") + what);
  };
  std::vector<std::vector<int>> out;
  std::vector<std::uint64_t> start, count;  // per sequence: first element, elements
  std::size_t elem = 0;
  bool is_signed = false;
  if (idx.starts_with(std::string_view("MMIDIDX\0\0", 9))) {
    need(26, "the header");
    if (detail::fairseq_le(idx, 9, 8) != 1) throw fail("mmap index version " + std::to_string(detail::fairseq_le(idx, 9, 8)) + ", this reader knows 1");
    const auto code = static_cast<unsigned char>(idx[17]);
    elem = detail::fairseq_int_size(code, is_signed);
    if (!elem) throw fail("dtype code " + std::to_string(code) + " is not an integer type (token ids are)");
    const std::uint64_t n = detail::fairseq_le(idx, 18, 8);
    // HAT's fairseq: sizes then pointers; newer fairseq adds a document count and index
    std::size_t at = 26;
    if (n > (idx.size() - at) / 12) throw fail(std::to_string(n) + " sequences claimed, more than the file holds");
    if (idx.size() != at + 12 * n) {
      need(34, "the document count");
      const std::uint64_t docs = detail::fairseq_le(idx, 26, 8);
      at = 34;
      if (n > (idx.size() - at) / 12 || docs > (idx.size() - at - 12 * n) / 8 || idx.size() != at + 12 * n + 8 * docs)
        throw fail("its size matches neither index layout for " + std::to_string(n) + " sequences (truncated or damaged)");
    }
    for (std::uint64_t i = 0; i < n; ++i) {
      const auto size = static_cast<std::int32_t>(detail::fairseq_le(idx, at + 4 * i, 4));
      const auto pointer = detail::fairseq_le(idx, at + 4 * n + 8 * i, 8);
      if (size < 0) throw fail("sequence " + std::to_string(i) + " has a negative size");
      if (pointer % elem) throw fail("sequence " + std::to_string(i) + " starts inside an element");
      start.push_back(pointer / elem);
      count.push_back(static_cast<std::uint64_t>(size));
    }
  } else if (idx.starts_with(std::string_view("TNTIDX\0\0", 8))) {
    need(48, "the header");
    if (detail::fairseq_le(idx, 8, 8) != 1) throw fail("index version " + std::to_string(detail::fairseq_le(idx, 8, 8)) + ", this reader knows 1");
    const auto code = detail::fairseq_le(idx, 16, 8);
    elem = detail::fairseq_int_size(code, is_signed);
    if (!elem) throw fail("dtype code " + std::to_string(code) + " is not an integer type (token ids are)");
    if (detail::fairseq_le(idx, 24, 8) != elem) throw fail("its element size disagrees with its dtype code");
    const std::uint64_t n = detail::fairseq_le(idx, 32, 8), s = detail::fairseq_le(idx, 40, 8);
    if (n >= (idx.size() - 48) / 16 || s > (idx.size() - 48) / 8 || idx.size() != 48 + 16 * (n + 1) + 8 * s)
      throw fail("its size does not match " + std::to_string(n) + " sequences and " + std::to_string(s) + " sizes (truncated or damaged)");
    const std::size_t dims = 48, data = dims + 8 * (n + 1), sizes = data + 8 * (n + 1);
    for (std::uint64_t i = 0; i < n; ++i) {
      const auto d0 = detail::fairseq_le(idx, dims + 8 * i, 8), d1 = detail::fairseq_le(idx, dims + 8 * (i + 1), 8);
      if (d1 != d0 + 1 || d1 > s) throw fail("sequence " + std::to_string(i) + " is not one-dimensional");
      const auto a = detail::fairseq_le(idx, data + 8 * i, 8), b = detail::fairseq_le(idx, data + 8 * (i + 1), 8);
      const auto size = detail::fairseq_le(idx, sizes + 8 * d0, 8);
      if (b < a || b - a != size) throw fail("sequence " + std::to_string(i) + "'s data offsets disagree with its size");
      start.push_back(a);
      count.push_back(size);
    }
  } else {
    throw fail("not a fairseq index (neither MMIDIDX nor TNTIDX)");
  }
  const std::uint64_t elements = bin.size() / elem;
  if (bin.size() % elem) throw config_error(name + ".bin: " + std::to_string(bin.size()) + " bytes are not whole elements");
  out.reserve(start.size());
  for (std::size_t i = 0; i < start.size(); ++i) {
    if (start[i] > elements || count[i] > elements - start[i])
      throw config_error(name + ".bin: sequence " + std::to_string(i) + " runs past the end of the file (truncated?)");
    std::vector<int> seq(static_cast<std::size_t>(count[i]));
    for (std::size_t k = 0; k < seq.size(); ++k) {
      const auto id = detail::fairseq_token(bin, (start[i] + k) * elem, elem, is_signed);
      if (id < 0 || (vocabulary && static_cast<std::uint64_t>(id) >= vocabulary) || id > (1LL << 30))
        throw config_error(name + ".bin: sequence " + std::to_string(i) + " holds id " + std::to_string(id) +
                           (vocabulary ? ", outside the dictionary of " + std::to_string(vocabulary) + " symbols" : std::string(", not a token id")));
      seq[k] = static_cast<int>(id);
    }
    out.push_back(std::move(seq));
  }
  return out;
}

/// The sequences of `<prefix>.idx` / `<prefix>.bin`.
inline std::vector<std::vector<int>> read_fairseq_indexed(const std::filesystem::path& prefix, std::size_t vocabulary = 0) {
  const std::filesystem::path idx = prefix.string() + ".idx", bin = prefix.string() + ".bin";
  return parse_fairseq_indexed(read_file(idx, model_file_limit), read_file(bin, model_file_limit), prefix.string(), vocabulary);
}

/// Whether `dir` holds fairseq's binarized data (any `.idx` file) rather than text.
inline bool is_fairseq_binarized(const std::filesystem::path& dir) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".idx") return true;
  return false;
}

/// A binarized translation split as fairseq's translation task finds it in `dir`:
/// `<split>.<src>-<tgt>.<lang>` (or `<split>.<tgt>-<src>.<lang>`) for both languages, with
/// `dict.<lang>.txt` beside them. Ids are checked against the dictionaries, the two sides against
/// each other (same count, every sequence ending in </s>).
struct fairseq_split {
  parallel_corpus corpus;
  fairseq_dictionary source_dict, target_dict;
};

inline fairseq_split read_fairseq_split(const std::filesystem::path& dir, const std::string& split, const std::string& src,
                                        const std::string& tgt) {
  const auto pair_prefix = [&](const std::string& lang) {
    for (const auto& pair : {src + "-" + tgt, tgt + "-" + src}) {
      const auto p = dir / (split + "." + pair + "." + lang);
      if (std::filesystem::exists(p.string() + ".idx")) return p;
    }
    throw config_error(dir.string() + ": no binarized " + split + " data for " + lang + " (" + split + "." + src + "-" + tgt + "." +
                       lang + ".idx)");
  };
  fairseq_split s{{}, fairseq_dictionary::read(dir / ("dict." + src + ".txt")), fairseq_dictionary::read(dir / ("dict." + tgt + ".txt"))};
  const auto sp = pair_prefix(src), tp = pair_prefix(tgt);
  s.corpus.source = read_fairseq_indexed(sp, s.source_dict.size());
  s.corpus.target = read_fairseq_indexed(tp, s.target_dict.size());
  if (s.corpus.source.size() != s.corpus.target.size())
    throw config_error(dir.string() + ": " + split + " has " + std::to_string(s.corpus.source.size()) + " " + src + " sentences and " +
                       std::to_string(s.corpus.target.size()) + " " + tgt + " sentences");
  for (std::size_t i = 0; i < s.corpus.size(); ++i)
    for (const auto* side : {&s.corpus.source[i], &s.corpus.target[i]})
      if (side->empty() || side->back() != special_tokens::eos)
        throw config_error((side == &s.corpus.source[i] ? sp : tp).string() + ".bin: sentence " + std::to_string(i) +
                           " does not end with </s> (id 2), as fairseq's binarizer writes every sentence");
  return s;
}

}  // namespace hat
