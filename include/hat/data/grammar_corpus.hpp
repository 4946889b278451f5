// SPDX-License-Identifier: MIT
// A built-in German-English corpus where translation needs capacity: sentences from a small
// grammar over a generated lexicon, with the phenomena that make
// German-to-English hard: verb-second and verb-final order (subordinate and relative clauses,
// perfect tense, modal verbs), article and adjective agreement by gender, case and number,
// noun compounds, and numbers and dates inside sentences. Deterministic by seed, no download.
// The lexicon's words are made of syllables (German-like on one side, English-like on the
// other), so a model has to learn every word pair: the larger the lexicon, the more a
// SubTransformer's capacity shows in its BLEU. The default lexicon (300 nouns, 60 verbs, 60
// adjectives: about 1,000 English and, with inflection and compounds, over 30,000 German word
// forms in the 40,000 training pairs) is the one `hat demo` was calibrated on (docs/pipeline.md).
#pragma once

#include <array>
#include <initializer_list>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <hat/config.hpp>
#include <hat/data/number_words.hpp>
#include <hat/io/atomic_file.hpp>
#include <hat/space/random.hpp>

namespace hat {

struct grammar_corpus_options {
  std::size_t train = 40000, valid = 500, test = 1000;  // sentence pairs
  std::size_t nouns = 300, verbs = 60, adjectives = 60;  // lexicon entries (pairs of words)
  std::uint64_t seed = 1;
};

/// One sentence pair: German source, English target, each a line of space-separated tokens.
struct sentence_pair {
  std::string german, english;
};

namespace detail {

inline std::size_t token_count(const std::string& s) {
  std::size_t n = s.empty() ? 0 : 1;
  for (char c : s) n += c == ' ';
  return n;
}

enum class gender : std::uint8_t { m, f, n };
enum class grammatical_case : std::uint8_t { nom, acc, dat };

struct noun_entry {
  std::string de, de_plural, en, en_plural;
  gender g;
};
struct verb_entry {
  std::string de_stem, de_participle, en, en_third, en_participle;
};
struct adjective_entry {
  std::string de, en;
};

/// Pseudo-words from syllables: distinct within each language and from every closed-class word.
class word_maker {
 public:
  /// `reserved`: the grammar's own words, never made again.
  word_maker(rng& g, std::initializer_list<const char*> reserved) : g_(&g) {
    for (const char* w : reserved) de_seen_.insert(w), en_seen_.insert(w);
  }

  std::string german(std::size_t syllables) {
    static constexpr std::array<const char*, 16> onset{"b", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "w", "sch", "st"};
    static constexpr std::array<const char*, 8> vowel{"a", "e", "i", "o", "u", "ei", "au", "ie"};
    static constexpr std::array<const char*, 8> coda{"", "n", "r", "l", "ck", "nd", "st", "ng"};
    return unique_(de_seen_, [&] { return make_(onset, vowel, coda, syllables); });
  }
  std::string english(std::size_t syllables) {
    static constexpr std::array<const char*, 16> onset{"b", "c", "d", "f", "g", "h", "j", "l", "m", "n", "p", "r", "s", "t", "v", "th"};
    static constexpr std::array<const char*, 8> vowel{"a", "e", "i", "o", "u", "oo", "ea", "ai"};
    static constexpr std::array<const char*, 8> coda{"", "n", "r", "l", "ck", "nt", "st", "ll"};
    return unique_(en_seen_, [&] { return make_(onset, vowel, coda, syllables); });
  }

 private:
  template <std::size_t A, std::size_t B, std::size_t C>
  std::string make_(const std::array<const char*, A>& onset, const std::array<const char*, B>& vowel,
                    const std::array<const char*, C>& coda, std::size_t syllables) {
    std::string w;
    for (std::size_t s = 0; s < syllables; ++s) {
      w += onset[g_->below(A)];
      w += vowel[g_->below(B)];
      if (s + 1 == syllables) w += coda[g_->below(C)];
    }
    return w;
  }
  template <class Make>
  std::string unique_(std::set<std::string>& seen, Make make) {
    for (;;) {
      std::string w = make();
      if (w.size() >= 3 && seen.insert(w).second) return w;
    }
  }
  rng* g_;
  std::set<std::string> de_seen_, en_seen_;
};

struct lexicon {
  std::vector<noun_entry> nouns;
  std::vector<verb_entry> verbs;
  std::vector<adjective_entry> adjectives;
};

inline lexicon make_lexicon(const grammar_corpus_options& o, rng& g) {
  word_maker words(g, {"der", "die", "das", "den", "dem", "ein", "eine", "einen", "einem", "einer", "und", "aber", "dass",
                       "mit", "von", "neben", "ich", "er", "sie", "wir", "hat", "habe", "haben", "will", "wollen", "heute",
                       "morgen", "oft", "am", "the", "and", "but", "that", "with", "from", "next", "to", "she", "he", "we",
                       "has", "have", "want", "wants", "on", "of", "today", "tomorrow", "often", "think", "says", "know"});
  lexicon lex;
  static constexpr std::array<const char*, 4> plural_suffix{"e", "en", "er", "s"};
  for (std::size_t i = 0; i < o.nouns; ++i) {
    noun_entry n;
    std::string stem = words.german(1 + g.below(2));
    stem[0] = static_cast<char>(stem[0] - 'a' + 'A');  // German nouns are capitalised
    n.g = static_cast<gender>(g.below(3));
    n.de = stem;
    n.de_plural = stem + plural_suffix[g.below(plural_suffix.size())];
    n.en = words.english(1 + g.below(2));
    n.en_plural = n.en + (n.en.back() == 's' ? "es" : "s");
    lex.nouns.push_back(std::move(n));
  }
  for (std::size_t i = 0; i < o.verbs; ++i) {
    verb_entry v;
    v.de_stem = words.german(1 + g.below(2));
    v.de_participle = "ge" + v.de_stem + "t";
    v.en = words.english(1 + g.below(2));
    v.en_third = v.en + (v.en.back() == 's' ? "es" : "s");
    v.en_participle = v.en + "ed";
    lex.verbs.push_back(std::move(v));
  }
  for (std::size_t i = 0; i < o.adjectives; ++i) lex.adjectives.push_back({words.german(1 + g.below(2)), words.english(1 + g.below(2))});
  return lex;
}

/// A noun phrase in both languages, and what the verb agrees with.
struct noun_phrase {
  std::string de, en;
  bool plural = false;
  int person = 3;  // a subject pronoun's (ich, wir: 1)
};

class sentence_maker {
 public:
  sentence_maker(const lexicon& lex, rng& g) : lex_(&lex), g_(&g) {}

  sentence_pair sentence() {
    std::string de, en;
    const auto clause = [&] {
      clause_(de, en);
      if (de.ends_with(" ,")) de.resize(de.size() - 2);  // a relative clause's closing comma at the clause's end
    };
    clause();
    while (count_(en) < 10 || (count_(en) < 25 && g_->below(3) == 0)) {  // 10 tokens or more: coordinate clauses
      const bool but = g_->below(2) == 0;
      de += std::string(" , ") + (but ? "aber " : "und ");
      en += std::string(" , ") + (but ? "but " : "and ");
      clause();
    }
    return {de + " .", en + " ."};
  }

 private:
  static std::size_t count_(const std::string& s) { return token_count(s); }
  std::size_t pick_(std::size_t n) { return static_cast<std::size_t>(g_->below(n)); }

  // A clause after a conjunction: main order (verb second), or a subordinate one (verb last).
  void clause_(std::string& de, std::string& en) {
    switch (pick_(6)) {
      case 0: {  // "ich glaube , dass ..." / "i think that ...": verb-final
        static constexpr std::array<std::pair<const char*, const char*>, 3> say{
            {{"ich glaube", "I think"}, {"sie sagt", "she says"}, {"wir wissen", "we know"}}};
        const auto& s = say[pick_(say.size())];
        std::string d, e;
        predicate_(d, e, true);
        de += std::string(s.first) + " , dass " + d;
        en += std::string(s.second) + " that " + e;
        return;
      }
      case 1: {  // a fronted date or adverb: the verb comes before the subject in German
        std::string d, e;
        if (g_->below(2) == 0) {
          const unsigned day = 1 + static_cast<unsigned>(pick_(28)), month = static_cast<unsigned>(pick_(12));
          d = "am " + german_ordinal_(day) + " " + german_months[month];
          e = "on the " + english_ordinal_(day) + " of " + english_months[month];
        } else {
          static constexpr std::array<std::pair<const char*, const char*>, 4> adverb{
              {{"heute", "today"}, {"morgen", "tomorrow"}, {"oft", "often"}, {"manchmal", "sometimes"}}};
          const auto& a = adverb[pick_(adverb.size())];
          d = a.first;
          e = a.second;
        }
        const noun_phrase subj = np_(grammatical_case::nom);
        const noun_phrase obj = np_(grammatical_case::acc);
        const verb_entry& v = lex_->verbs[pick_(lex_->verbs.size())];
        de += d + " " + german_finite_(v, subj.plural) + " " + subj.de + " " + obj.de;
        en += e + " " + subj.en + " " + (subj.plural ? v.en : v.en_third) + " " + obj.en;
        return;
      }
      default: {
        std::string d, e;
        predicate_(d, e, false);
        de += d;
        en += e;
      }
    }
  }

  // Subject, verb, object (and sometimes a dative phrase): present, perfect or modal; in German
  // the finite verb is second (main clause) or last (`verb_last`), the participle or infinitive last.
  void predicate_(std::string& de, std::string& en, bool verb_last) {
    const noun_phrase subj = subject_();
    const noun_phrase obj = np_(grammatical_case::acc);
    std::string pp_de, pp_en;
    if (g_->below(3) == 0) {
      static constexpr std::array<std::pair<const char*, const char*>, 3> prep{{{"mit", "with"}, {"von", "from"}, {"neben", "next to"}}};
      const auto& p = prep[pick_(prep.size())];
      const noun_phrase pp = np_(grammatical_case::dat);
      pp_de = std::string(" ") + p.first + " " + pp.de;
      pp_en = std::string(" ") + p.second + " " + pp.en;
    }
    const verb_entry& v = lex_->verbs[pick_(lex_->verbs.size())];
    std::string finite, rest, en_verb;
    switch (pick_(3)) {
      case 0:  // present
        finite = german_finite_(v, subj.plural, subj.person);
        en_verb = subj.plural || subj.person != 3 ? v.en : v.en_third;
        break;
      case 1:  // perfect: haben + participle
        finite = subj.plural ? "haben" : subj.person == 1 ? "habe" : "hat";
        rest = v.de_participle;
        en_verb = (subj.plural || subj.person != 3 ? "have " : "has ") + v.en_participle;
        break;
      default:  // modal: wollen + infinitive
        finite = subj.plural ? "wollen" : "will";
        rest = v.de_stem + "en";
        en_verb = (subj.plural || subj.person != 3 ? "want to " : "wants to ") + v.en;
    }
    if (verb_last)
      de = subj.de + " " + obj.de + pp_de + (rest.empty() ? "" : " " + rest) + " " + finite;
    else
      de = subj.de + " " + finite + " " + obj.de + pp_de + (rest.empty() ? "" : " " + rest);
    en = subj.en + " " + en_verb + " " + obj.en + pp_en;
  }

  noun_phrase subject_() {
    if (g_->below(4) == 0) {  // a pronoun
      static constexpr std::array<const char*, 4> de{"ich", "er", "sie", "wir"};
      static constexpr std::array<const char*, 4> en{"I", "he", "she", "we"};
      const std::size_t k = pick_(4);
      noun_phrase s;
      s.de = de[k];
      s.en = en[k];
      s.plural = k == 3;
      s.person = k == 0 || k == 3 ? 1 : 3;
      return s;
    }
    return np_(grammatical_case::nom);
  }

  static std::string german_finite_(const verb_entry& v, bool plural, int person = 3) {
    if (plural) return v.de_stem + "en";
    return v.de_stem + (person == 1 ? "e" : "t");
  }

  // Article (definite, indefinite or a number), an optional adjective, a noun or a compound,
  // sometimes a relative clause; German inflects all of them by gender, case and number.
  noun_phrase np_(grammatical_case c) {
    const noun_entry& head = lex_->nouns[pick_(lex_->nouns.size())];
    std::string de_noun = head.de, de_plural = head.de_plural, en_noun = head.en, en_plural = head.en_plural;
    if (g_->below(5) == 0) {  // a compound: the first noun's stem, then the head (its gender and plural)
      const noun_entry& first = lex_->nouns[pick_(lex_->nouns.size())];
      std::string tail = head.de;
      tail[0] = static_cast<char>(tail[0] - 'A' + 'a');
      de_noun = first.de + tail;
      std::string tail_plural = head.de_plural;
      tail_plural[0] = tail[0];
      de_plural = first.de + tail_plural;
      en_noun = first.en + " " + head.en;
      en_plural = first.en + " " + head.en_plural;
    }
    const adjective_entry* adj = g_->below(3) == 0 ? &lex_->adjectives[pick_(lex_->adjectives.size())] : nullptr;
    noun_phrase np;
    const std::size_t kind = pick_(6);  // 0-2 definite, 3-4 indefinite, 5 a number
    const std::size_t g = static_cast<std::size_t>(head.g), k = static_cast<std::size_t>(c);
    if (kind == 5) {
      const unsigned n = 2 + static_cast<unsigned>(pick_(98));
      np.plural = true;
      np.de = german_number(n) + (adj ? " " + adj->de + (c == grammatical_case::dat ? "en" : "e") : "") + " " + de_plural +
              (c == grammatical_case::dat && de_plural.back() != 'n' && de_plural.back() != 's' ? "n" : "");
      np.en = english_number(n) + (adj ? " " + adj->en : "") + " " + en_plural;
    } else if (kind < 3) {
      np.plural = g_->below(3) == 0;
      static constexpr std::array<std::array<const char*, 4>, 3> art{
          {{"der", "die", "das", "die"}, {"den", "die", "das", "die"}, {"dem", "der", "dem", "den"}}};
      const std::size_t col = np.plural ? 3 : g;
      const bool weak_e = !np.plural && (c == grammatical_case::nom || (c == grammatical_case::acc && head.g != gender::m));
      np.de = std::string(art[k][col]) + (adj ? " " + adj->de + (weak_e ? "e" : "en") : "") + " " +
              (np.plural ? de_plural + (c == grammatical_case::dat && de_plural.back() != 'n' && de_plural.back() != 's' ? "n" : "")
                         : de_noun);
      np.en = "the" + (adj ? " " + adj->en : "") + " " + (np.plural ? en_plural : en_noun);
    } else {
      static constexpr std::array<std::array<const char*, 3>, 3> art{{{"ein", "eine", "ein"}, {"einen", "eine", "ein"}, {"einem", "einer", "einem"}}};
      static constexpr std::array<std::array<const char*, 3>, 3> ending{{{"er", "e", "es"}, {"en", "e", "es"}, {"en", "en", "en"}}};
      np.de = std::string(art[k][g]) + (adj ? " " + adj->de + ending[k][g] : "") + " " + de_noun;
      const std::string next = adj ? adj->en : en_noun;
      np.en = std::string(std::string("aeiou").find(next[0]) != std::string::npos ? "an" : "a") + (adj ? " " + adj->en : "") +
              " " + en_noun;
    }
    if (c != grammatical_case::dat && g_->below(8) == 0) {  // a relative clause: verb last in German
      const verb_entry& v = lex_->verbs[pick_(lex_->verbs.size())];
      const noun_phrase obj = np_(grammatical_case::acc);
      static constexpr std::array<const char*, 4> rel{"der", "die", "das", "die"};
      np.de += std::string(" , ") + rel[np.plural ? 3 : g] + " " + obj.de + " " + german_finite_(v, np.plural) + " ,";
      np.en += " that " + (np.plural ? v.en : v.en_third) + " " + obj.en;
    }
    return np;
  }

  static std::string german_ordinal_(unsigned day) {
    static constexpr std::array<const char*, 8> special{"", "ersten", "zweiten", "dritten", "vierten", "fünften", "sechsten", "siebten"};
    if (day < special.size()) return special[day];
    if (day == 8) return "achten";
    return german_number(day) + (day < 20 ? "ten" : "sten");
  }
  static std::string english_ordinal_(unsigned day) {
    static constexpr std::array<const char*, 13> special{"",      "first", "second", "third", "fourth", "fifth", "sixth",
                                                         "seventh", "eighth", "ninth", "tenth", "eleventh", "twelfth"};
    if (day < special.size()) return special[day];
    if (day == 20) return "twentieth";
    if (day > 20) return english_number(day - day % 10) + "-" + english_ordinal_(day % 10);
    return english_number(day) + "th";
  }
  static constexpr std::array<const char*, 12> german_months{"Januar", "Februar", "März", "April", "Mai", "Juni",
                                                             "Juli", "August", "September", "Oktober", "November", "Dezember"};
  static constexpr std::array<const char*, 12> english_months{"January", "February", "March", "April", "May", "June",
                                                              "July", "August", "September", "October", "November", "December"};

  const lexicon* lex_;
  rng* g_;
};

}  // namespace detail

/// The corpus's sentence pairs for options `o`: train, then valid, then test, with no German
/// sentence in two splits; each side has at most grammar_corpus_max_tokens tokens, English 10 or more.
inline constexpr std::size_t grammar_corpus_max_tokens = 40;

inline std::vector<sentence_pair> grammar_corpus_pairs(const grammar_corpus_options& o) {
  rng g(o.seed);
  const auto lex = detail::make_lexicon(o, g);
  detail::sentence_maker make(lex, g);
  std::set<std::string> seen;
  std::vector<sentence_pair> out;
  const std::size_t total = o.train + o.valid + o.test;
  while (out.size() < total) {
    auto p = make.sentence();
    if (detail::token_count(p.german) <= grammar_corpus_max_tokens && detail::token_count(p.english) <= grammar_corpus_max_tokens && seen.insert(p.german).second)
      out.push_back(std::move(p));
  }
  return out;
}

/// Writes train/valid/test .de and .en into `dir` (each atomically).
inline void write_grammar_corpus(const std::filesystem::path& dir, const grammar_corpus_options& o = {}) {
  const auto pairs = grammar_corpus_pairs(o);
  std::filesystem::create_directories(dir);
  const std::array<std::pair<const char*, std::size_t>, 3> splits{{{"train", o.train}, {"valid", o.valid}, {"test", o.test}}};
  std::size_t at = 0;
  for (const auto& [name, count] : splits) {
    std::string de, en;
    for (std::size_t i = 0; i < count; ++i, ++at) {
      de += pairs[at].german + "\n";
      en += pairs[at].english + "\n";
    }
    write_file_atomic(dir / (std::string(name) + ".de"), de);
    write_file_atomic(dir / (std::string(name) + ".en"), en);
  }
}

}  // namespace hat
