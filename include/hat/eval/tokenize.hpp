// SPDX-License-Identifier: MIT
// sacreBLEU's tokenizers: 13a (mteval-v13a, the default), intl (mteval-v14's Unicode rules),
// none (whitespace) and char (every character), with Python's optional lowercasing first.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <hat/config.hpp>
#include <hat/eval/unicode.hpp>

namespace hat {

namespace detail {
/// One left-to-right pass of non-overlapping two-character matches, as Python's re.sub with a
/// two-group pattern: where `matches(x, y)`, `emit(out, x, y)` writes the replacement.
template <class Str, class Matches, class Emit>
Str rewrite_pairs(const Str& in, Matches matches, Emit emit) {
  Str out;
  out.reserve(in.size() + in.size() / 4);
  for (std::size_t i = 0; i < in.size();) {
    if (i + 1 < in.size() && matches(in[i], in[i + 1])) {
      emit(out, in[i], in[i + 1]);
      i += 2;
    } else {
      out.push_back(in[i++]);
    }
  }
  return out;
}
}  // namespace detail

/// sacreBLEU's `13a` tokenizer (mteval-v13a): unescapes &quot; &amp; &lt; &gt;, splits off
/// punctuation and symbols, periods and commas except between digits, and dashes after digits.
/// Works on UTF-8 bytes: every rule looks at ASCII characters only, so bytes of other characters
/// behave as the "anything else" the rules' patterns allow.
inline std::vector<std::string> tokenize_13a(std::string_view text) {
  std::string s;
  s.reserve(text.size() + 8);
  for (std::size_t i = 0; i < text.size();) {  // <skipped> removed, -\n joined, \n a space
    if (text.compare(i, 9, "<skipped>") == 0) { i += 9; continue; }
    if (text.compare(i, 2, "-\n") == 0) { i += 2; continue; }
    s.push_back(text[i] == '\n' ? ' ' : text[i]);
    ++i;
  }
  if (s.find('&') != std::string::npos) {
    const std::pair<const char*, const char*> entities[] = {{"&quot;", "\""}, {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}};
    for (const auto& [from, to] : entities)
      for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + std::string_view(to).size()))
        s.replace(at, std::string_view(from).size(), to);
  }
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  const auto symbol = [](char c) {  // [\{-\~\[-\` -\&\(-\+\:-\@\/]
    const auto u = static_cast<unsigned char>(c);
    return (u >= 0x7B && u <= 0x7E) || (u >= 0x5B && u <= 0x60) || (u >= 0x20 && u <= 0x26) || (u >= 0x28 && u <= 0x2B) ||
           (u >= 0x3A && u <= 0x40) || u == '/';
  };
  std::string a = " ";  // sacreBLEU pads the line: a final period still has a "next" character
  for (char c : s + " ") {
    if (symbol(c)) a.append(" ").push_back(c), a.push_back(' ');
    else a.push_back(c);
  }
  const auto period = [](char c) { return c == '.' || c == ','; };
  a = detail::rewrite_pairs(a, [&](char x, char p) { return !digit(x) && period(p); },
           [](std::string& o, char x, char p) { o.push_back(x), o.push_back(' '), o.push_back(p), o.push_back(' '); });
  a = detail::rewrite_pairs(a, [&](char p, char x) { return period(p) && !digit(x); },
           [](std::string& o, char p, char x) { o.push_back(' '), o.push_back(p), o.push_back(' '), o.push_back(x); });
  a = detail::rewrite_pairs(a, [&](char d, char m) { return digit(d) && m == '-'; },
           [](std::string& o, char d, char m) { o.push_back(d), o.push_back(' '), o.push_back(m), o.push_back(' '); });
  return unicode::split_utf8(a);
}

/// Whitespace tokens (sacreBLEU's `none`, for text that is tokenized already).
inline std::vector<std::string> tokenize_none(std::string_view text) { return unicode::split_utf8(text); }

/// sacreBLEU's `intl` tokenizer (mteval-v14 --international-tokenization): splits punctuation
/// off unless a digit is on the side it would split from, and every symbol off, by Unicode
/// category. As in mteval-v14, a period after a number at the very end of the line stays.
inline std::vector<std::string> tokenize_intl(std::string_view text) {
  using unicode::is_number, unicode::is_punctuation, unicode::is_symbol;
  const std::u32string s = unicode::decode_utf8(text);
  std::u32string a = detail::rewrite_pairs(s, [](char32_t x, char32_t p) { return !is_number(x) && is_punctuation(p); },
                          [](std::u32string& o, char32_t x, char32_t p) { o += x, o += U' ', o += p, o += U' '; });
  a = detail::rewrite_pairs(a, [](char32_t p, char32_t x) { return is_punctuation(p) && !is_number(x); },
           [](std::u32string& o, char32_t p, char32_t x) { o += U' ', o += p, o += U' ', o += x; });
  std::u32string b;
  b.reserve(a.size() + a.size() / 4);
  for (char32_t c : a) {
    if (is_symbol(c)) b += U' ', b += c, b += U' ';
    else b += c;
  }
  std::vector<std::string> out;
  for (const auto& t : unicode::split(b)) out.push_back(unicode::encode_utf8(t));
  return out;
}

/// sacreBLEU's `char` tokenizer: every character that is not whitespace is a token.
inline std::vector<std::string> tokenize_char(std::string_view text) {
  std::vector<std::string> out;
  for (char32_t c : unicode::decode_utf8(text))
    if (!unicode::is_space(c)) out.push_back(unicode::encode_utf8(std::u32string_view(&c, 1)));
  return out;
}

/// The tokenizer sacreBLEU names `name` (13a, intl, none, char); a config_error otherwise.
inline std::vector<std::string> tokenize(std::string_view name, std::string_view text) {
  if (name == "13a") return tokenize_13a(text);
  if (name == "intl") return tokenize_intl(text);
  if (name == "none") return tokenize_none(text);
  if (name == "char") return tokenize_char(text);
  throw config_error("unknown tokenizer '" + std::string(name) + "' (13a, intl, none, char)");
}

inline bool is_tokenizer(std::string_view name) noexcept {
  return name == "13a" || name == "intl" || name == "none" || name == "char";
}

}  // namespace hat
