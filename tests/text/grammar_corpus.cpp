// SPDX-License-Identifier: MIT
// The grammar corpus: deterministic by seed, split without overlap, sentences of 10-40 tokens,
// and the German word order, agreement and compounds the grammar promises.
#include <catch2/catch.hpp>

#include <cstddef>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <hat/data/grammar_corpus.hpp>
#include <hat/data/text_reader.hpp>

namespace {
std::vector<std::string> tokens(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string t; in >> t;) out.push_back(t);
  return out;
}

hat::grammar_corpus_options small() {
  hat::grammar_corpus_options o;
  o.train = 2000, o.valid = 100, o.test = 100;
  o.nouns = 300, o.verbs = 60, o.adjectives = 60;
  return o;
}
}  // namespace

TEST_CASE("grammar corpus: the same seed gives the same pairs, another seed others", "[text][grammar_corpus]") {
  auto o = small();
  const auto a = hat::grammar_corpus_pairs(o), b = hat::grammar_corpus_pairs(o);
  o.seed = 2;
  const auto c = hat::grammar_corpus_pairs(o);
  REQUIRE(a.size() == 2200);
  std::size_t same = 0, other = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    same += a[i].german == b[i].german && a[i].english == b[i].english;
    other += a[i].german == c[i].german;
  }
  CHECK(same == a.size());
  CHECK(other < 10);
}

TEST_CASE("grammar corpus: lengths, no sentence in two splits, a vocabulary of thousands", "[text][grammar_corpus]") {
  const auto o = small();
  const auto pairs = hat::grammar_corpus_pairs(o);
  std::set<std::string> german, de_vocab, en_vocab;
  for (const auto& p : pairs) {
    const auto d = tokens(p.german), e = tokens(p.english);
    CHECK(d.size() <= hat::grammar_corpus_max_tokens);
    CHECK(e.size() <= hat::grammar_corpus_max_tokens);
    CHECK(e.size() >= 10);
    CHECK(german.insert(p.german).second);
    de_vocab.insert(d.begin(), d.end());
    en_vocab.insert(e.begin(), e.end());
  }
  CHECK(de_vocab.size() > 1000);  // inflected forms and compounds of 300 nouns, 60 verbs, 60 adjectives
  CHECK(en_vocab.size() > 400);

  const auto dir = std::filesystem::temp_directory_path() / ("hat_grammar_" + std::to_string(::getpid()));
  hat::write_grammar_corpus(dir, o);
  CHECK(hat::read_lines(dir / "train.de").size() == 2000);
  CHECK(hat::read_lines(dir / "valid.en").size() == 100);
  CHECK(hat::read_lines(dir / "test.de").front() == pairs[2100].german);
  std::filesystem::remove_all(dir);
}

TEST_CASE("grammar corpus: German puts the verb last after 'dass', English keeps it second", "[text][grammar_corpus]") {
  const auto pairs = hat::grammar_corpus_pairs(small());
  const std::set<std::string> finite_aux{"hat", "habe", "haben", "will", "wollen"};
  std::size_t clauses = 0;
  for (const auto& p : pairs) {
    const auto d = tokens(p.german);
    for (std::size_t i = 0; i < d.size(); ++i) {
      if (d[i] != "dass") continue;
      // The clause runs to the next top-level ',' or '.': relative clauses are fenced by commas
      // of their own, so take the word before the first ',' or '.' that follows a full clause.
      std::size_t end = i + 1;
      while (end < d.size() && d[end] != "." && !(d[end] == "," && end + 1 < d.size() && (d[end + 1] == "und" || d[end + 1] == "aber")))
        ++end;
      const std::string& last = d[end - 1];
      const bool finite = finite_aux.count(last) || last.ends_with("t") || last.ends_with("en") || last.ends_with("e");
      INFO(p.german);
      CHECK(finite);
      CHECK(last[0] >= 'a');  // a verb, never a (capitalised) noun
      ++clauses;
    }
  }
  CHECK(clauses > 100);
}

TEST_CASE("grammar corpus: compounds are one German word for two English ones; articles agree", "[text][grammar_corpus]") {
  const auto pairs = hat::grammar_corpus_pairs(small());
  std::size_t with_number = 0, dated = 0;
  for (const auto& p : pairs) {
    const auto d = tokens(p.german);
    for (std::size_t i = 0; i + 1 < d.size(); ++i) {
      // A masculine accusative article is never followed by a nominative-only adjective ending.
      if (d[i] == "einen" && d[i + 1][0] >= 'a' && d[i + 1][0] <= 'z') CHECK(d[i + 1].ends_with("en"));
      if (d[i] == "am") ++dated;
    }
    with_number += p.english.find("-") != std::string::npos || p.english.find(" hundred") != std::string::npos;
  }
  CHECK(dated > 50);
  CHECK(with_number > 50);
}
