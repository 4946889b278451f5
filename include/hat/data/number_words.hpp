// SPDX-License-Identifier: MIT
// The demo's built-in corpus: numbers from 0 to 999,999 written as German words (one compound,
// "einundzwanzigtausenddreihundertfünfundvierzig") and as English words ("twenty-one thousand
// three hundred forty-five"). Translating German to English needs the subwords of one long
// word found and reordered (fünfundvierzig: five-and-forty), and the English side has enough
// words for BLEU's 4-grams to mean something (German output would be one token).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <unordered_set>
#include <vector>

#include <hat/config.hpp>
#include <hat/io/atomic_file.hpp>
#include <hat/space/random.hpp>

namespace hat {

namespace detail {
inline constexpr std::array<const char*, 20> english_units{
    "zero",    "one",     "two",       "three",    "four",     "five",    "six",       "seven",     "eight",    "nine",
    "ten",     "eleven",  "twelve",    "thirteen", "fourteen", "fifteen", "sixteen",   "seventeen", "eighteen", "nineteen"};
inline constexpr std::array<const char*, 10> english_tens{"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"};
inline constexpr std::array<const char*, 20> german_units{
    "null",  "eins", "zwei",  "drei",     "vier",     "fünf",     "sechs",    "sieben",    "acht",     "neun",
    "zehn",  "elf",  "zwölf", "dreizehn", "vierzehn", "fünfzehn", "sechzehn", "siebzehn",  "achtzehn", "neunzehn"};
inline constexpr std::array<const char*, 10> german_tens{"", "", "zwanzig", "dreißig", "vierzig", "fünfzig", "sechzig", "siebzig", "achtzig", "neunzig"};

inline std::string english_below_1000(unsigned n) {
  std::string s;
  if (n >= 100) s = std::string(english_units[n / 100]) + " hundred";
  const unsigned r = n % 100;
  if (r == 0) return s;
  if (!s.empty()) s += ' ';
  if (r < 20) return s + english_units[r];
  s += english_tens[r / 10];
  if (r % 10) s = s + "-" + english_units[r % 10];
  return s;
}

// `last`: the number ends here, so 1 is "eins"; inside a compound it is "ein" (einhundert, einundzwanzig).
inline std::string german_below_1000(unsigned n, bool last) {
  const auto unit = [](unsigned u) { return u == 1 ? std::string("ein") : std::string(german_units[u]); };
  std::string s;
  if (n >= 100) s = unit(n / 100) + "hundert";
  const unsigned r = n % 100;
  if (r == 0) return s;
  if (r == 1) return s + (last ? "eins" : "ein");
  if (r < 20) return s + german_units[r];
  if (r % 10) s += unit(r % 10) + "und";
  return s + german_tens[r / 10];
}
}  // namespace detail

/// `n` in English words, American style without "and": 1001 is "one thousand one".
inline std::string english_number(unsigned n) {
  if (n >= 1000000) throw config_error("number words: " + std::to_string(n) + " is above 999,999");
  if (n == 0) return "zero";
  std::string s;
  if (n >= 1000) s = detail::english_below_1000(n / 1000) + " thousand";
  if (n % 1000) {
    if (!s.empty()) s += ' ';
    s += detail::english_below_1000(n % 1000);
  }
  return s;
}

/// `n` in German words, one compound: 1001 is "eintausendeins", 21 "einundzwanzig".
inline std::string german_number(unsigned n) {
  if (n >= 1000000) throw config_error("number words: " + std::to_string(n) + " is above 999,999");
  if (n == 0) return "null";
  std::string s;
  if (n >= 1000) s = detail::german_below_1000(n / 1000, false) + "tausend";
  if (n % 1000) s += detail::german_below_1000(n % 1000, true);
  return s;
}

struct number_words_options {
  std::size_t train = 30000, valid = 500, test = 1000;  // distinct numbers, no number in two splits
  std::uint64_t seed = 1;
};

/// Writes <dir>/{train,valid,test}.{de,en} (each file atomically), numbers drawn without
/// repetition from [0, 999,999] by a seeded generator: the same seed, the same corpus.
inline void write_number_words_corpus(const std::filesystem::path& dir, const number_words_options& o = {}) {
  const std::size_t total = o.train + o.valid + o.test;
  if (total == 0 || total > 500000) throw config_error("number words: between 1 and 500,000 sentences in all");
  std::filesystem::create_directories(dir);
  rng g(o.seed);
  std::unordered_set<unsigned> seen;
  std::vector<unsigned> numbers;
  while (numbers.size() < total) {
    const auto n = static_cast<unsigned>(g.below(1000000));
    if (seen.insert(n).second) numbers.push_back(n);
  }
  std::size_t at = 0;
  for (const auto& [split, count] : {std::pair<const char*, std::size_t>{"train", o.train}, {"valid", o.valid}, {"test", o.test}}) {
    std::string de, en;
    for (std::size_t i = 0; i < count; ++i, ++at) {
      de += german_number(numbers[at]) + "\n";
      en += english_number(numbers[at]) + "\n";
    }
    write_file_atomic(dir / (std::string(split) + ".de"), de);
    write_file_atomic(dir / (std::string(split) + ".en"), en);
  }
}

}  // namespace hat
