// SPDX-License-Identifier: MIT
// The demo's corpus: German and English number words by their rules, and the written corpus.
#include <catch2/catch.hpp>

#include <filesystem>
#include <set>
#include <string>

#include <hat/data/number_words.hpp>
#include <hat/data/text_reader.hpp>

TEST_CASE("number words: English and German by their rules", "[text][number_words]") {
  struct pair { unsigned n; const char *de, *en; };
  for (const auto& p : {pair{0, "null", "zero"}, {1, "eins", "one"}, {7, "sieben", "seven"}, {12, "zwölf", "twelve"},
                        {17, "siebzehn", "seventeen"}, {20, "zwanzig", "twenty"}, {21, "einundzwanzig", "twenty-one"},
                        {30, "dreißig", "thirty"}, {99, "neunundneunzig", "ninety-nine"}, {100, "einhundert", "one hundred"},
                        {101, "einhunderteins", "one hundred one"}, {111, "einhundertelf", "one hundred eleven"},
                        {1000, "eintausend", "one thousand"}, {1001, "eintausendeins", "one thousand one"},
                        {21345, "einundzwanzigtausenddreihundertfünfundvierzig", "twenty-one thousand three hundred forty-five"},
                        {100000, "einhunderttausend", "one hundred thousand"},
                        {201001, "zweihunderteintausendeins", "two hundred one thousand one"},
                        {999999, "neunhundertneunundneunzigtausendneunhundertneunundneunzig",
                         "nine hundred ninety-nine thousand nine hundred ninety-nine"}}) {
    INFO(p.n);
    CHECK(hat::german_number(p.n) == p.de);
    CHECK(hat::english_number(p.n) == p.en);
  }
  CHECK_THROWS_AS(hat::english_number(1000000), hat::config_error);
}

TEST_CASE("number words: the corpus is seeded, its splits disjoint", "[text][number_words]") {
  const auto dir = std::filesystem::temp_directory_path() / "hat_number_words_test";
  std::filesystem::remove_all(dir);
  hat::write_number_words_corpus(dir, {.train = 200, .valid = 20, .test = 30, .seed = 3});
  const auto train = hat::read_lines((dir / "train.en").string()), valid = hat::read_lines((dir / "valid.en").string()),
             test = hat::read_lines((dir / "test.de").string());
  CHECK(train.size() == 200);
  CHECK(valid.size() == 20);
  CHECK(test.size() == 30);
  std::set<std::string> all(train.begin(), train.end());
  all.insert(valid.begin(), valid.end());
  CHECK(all.size() == 220);  // distinct numbers, no sentence in two splits
  const auto again = dir / "again";
  hat::write_number_words_corpus(again, {.train = 200, .valid = 20, .test = 30, .seed = 3});
  CHECK(hat::read_lines((again / "train.en").string()) == train);
  CHECK_THROWS_AS(hat::write_number_words_corpus(dir / "x", {.train = 0, .valid = 0, .test = 0}), hat::config_error);
  std::filesystem::remove_all(dir);
}
