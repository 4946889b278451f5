// SPDX-License-Identifier: MIT
// BLEU and chrF as sacreBLEU 2.6.0 computes them: the tokenizers' rules, the statistics, sentence
// scores, and real WMT21 system outputs (../shared/reference/bleu/expected_wmt21.json: every
// number of every BLEU and chrF entry).
#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <hat/eval/bleu.hpp>
#include <hat/eval/chrf.hpp>
#include <hat/eval/fairseq_bleu.hpp>

#include "shared_data.hpp"

namespace {

using strings = std::vector<std::string>;

strings lines_rstripped(const std::filesystem::path& p) {  // as `sacrebleu -i` reads them
  std::ifstream in(p);
  REQUIRE(in);
  strings out;
  for (std::string l; std::getline(in, l);) {
    while (!l.empty() && std::isspace(static_cast<unsigned char>(l.back()))) l.pop_back();
    out.push_back(l);
  }
  return out;
}

}  // namespace

TEST_CASE("tokenize_13a: mteval's rules", "[eval][bleu]") {
  using v = strings;
  CHECK(hat::tokenize_13a("Hello, world.") == v{"Hello", ",", "world", "."});
  CHECK(hat::tokenize_13a("It costs $3.50, or 3,000 units.") == v{"It", "costs", "$", "3.50", ",", "or", "3,000", "units", "."});
  CHECK(hat::tokenize_13a("a 1990-2000 (b) \"c\"") == v{"a", "1990", "-", "2000", "(", "b", ")", "\"", "c", "\""});
  CHECK(hat::tokenize_13a("&quot;x&quot; &amp; y") == v{"\"", "x", "\"", "&", "y"});
  CHECK(hat::tokenize_13a("don't e-mail") == v{"don't", "e-mail"});
  CHECK(hat::tokenize_13a("Zürich.") == v{"Zürich", "."});
  CHECK(hat::tokenize_13a("  ") == v{});
  CHECK(hat::tokenize_13a("am 15.\u00a0Juni") == v{"am", "15", ".", "Juni"});  // a no-break space splits, as Python's split()
  CHECK(hat::tokenize_13a("Covid-19.") == v{"Covid-19", "."});  // the line's final period
}

TEST_CASE("tokenize_intl, tokenize_char: sacreBLEU's outputs", "[eval][bleu]") {
  using v = strings;
  // Expected token lists printed by sacreBLEU 2.6.0's TokenizerV14International.
  CHECK(hat::tokenize_intl("Hello, world. 1,000.5 $3 «quoted» — dash") ==
        v{"Hello", ",", "world", ".", "1,000.5", "$", "3", "«", "quoted", "»", "—", "dash"});
  CHECK(hat::tokenize_intl("Preis: 3,50 €; ab 1.1.2021.") == v{"Preis", ":", "3,50", "€", ";", "ab", "1.1.2021."});
  CHECK(hat::tokenize_intl("a+b=c ©2021 ½ x² 你好，世界。") ==
        v{"a", "+", "b", "=", "c", "©", "2021", "½", "x²", "你好", "，", "世界", "。"});
  CHECK(hat::tokenize_intl("end 2021.") == v{"end", "2021."});
  CHECK(hat::tokenize_char("ab c\u00a0ü") == v{"a", "b", "c", "ü"});
  CHECK(hat::tokenize("none", "a  b ") == v{"a", "b"});
  CHECK_THROWS_WITH(hat::tokenize("moses", "a"), Catch::Contains("unknown tokenizer 'moses'"));
  CHECK_THROWS_WITH(hat::tokenize_intl("ok \xC3("), Catch::Contains("not valid UTF-8 at byte 4"));
  CHECK_THROWS_AS(hat::tokenize_char("\xED\xA0\x80"), hat::config_error);  // a surrogate
  CHECK_THROWS_AS(hat::tokenize_char("\xC0\xAF"), hat::config_error);      // overlong
}

TEST_CASE("unicode::lower is Python's str.lower()", "[eval][bleu]") {
  const auto low = [](const char* s) { return hat::unicode::lower_utf8(s); };
  CHECK(low("ÄÖÜ ẞ Straße") == "äöü ß straße");
  CHECK(low("İstanbul") == "i\u0307stanbul");  // one code point becomes two
  CHECK(low("\u01C5") == "\u01C6");
  // The final sigma, by context: ΑΣ -> ας, ΑΣ'Α -> ασ'α, Σ alone -> σ.
  CHECK(low("ΑΣ") == "ας");
  CHECK(low("ΑΣ.") == "ας.");
  CHECK(low("ΑΣ'") == "ας'");
  CHECK(low("ΑΣ'Α") == "ασ'α");
  CHECK(low("ΣΑ") == "σα");
  CHECK(low("Σ") == "σ");
  CHECK(hat::unicode::is_punctuation(U'«'));
  CHECK(hat::unicode::is_symbol(U'€'));
  CHECK(hat::unicode::is_number(U'½'));
  CHECK_FALSE(hat::unicode::is_number(U'x'));
}

TEST_CASE("corpus_bleu: statistics by hand; identical text scores 100", "[eval][bleu]") {
  const auto r = hat::corpus_bleu({"the cat sat on the mat"}, {{"the cat sat on a mat"}});
  CHECK(r.counts == std::vector<std::size_t>{5, 3, 2, 1});
  CHECK(r.totals == std::vector<std::size_t>{6, 5, 4, 3});
  CHECK(r.score == Approx(std::exp((std::log(500.0 / 6) + std::log(60.0) + std::log(50.0) + std::log(100.0 / 3)) / 4)));
  const auto z = hat::corpus_bleu({"the cat sat on the mat"}, {{"the cat sat in a mat"}});
  CHECK(z.counts == std::vector<std::size_t>{4, 2, 1, 0});
  CHECK(z.precisions[3] == Approx(100.0 / (2 * 3)));  // exp smoothing of a zero count
  CHECK(hat::corpus_bleu({"a b c d e"}, {{"a b c d e"}}).score == Approx(100.0));
  const auto short_hyp = hat::corpus_bleu({"a b c d"}, {{"a b c d e f"}});
  CHECK(short_hyp.bp == Approx(std::exp(1.0 - 6.0 / 4.0)));
  // Several references: clipping by the most generous, length of the closest.
  const auto multi = hat::corpus_bleu({"a b c d"}, {{"a b x y z w"}, {"a b c q"}});
  CHECK(multi.ref_len == 4);
  CHECK(multi.counts[0] == 3);
  // No match at all: 0 and zero precisions, whatever the smoothing (sacreBLEU's early stop).
  const auto none = hat::corpus_bleu({"x y"}, {{"a b"}});
  CHECK(none.score == 0.0);
  CHECK(none.precisions == std::vector<double>{0, 0, 0, 0});
  CHECK_THROWS_AS(hat::corpus_bleu({"a"}, {{"a", "b"}}), hat::config_error);
  CHECK_THROWS_WITH(hat::corpus_bleu({"a"}, {{"a"}}, {.tokenize = "moses"}), Catch::Contains("unknown tokenizer"));
  CHECK_THROWS_AS(hat::corpus_bleu({"a"}, {}), hat::config_error);
}

TEST_CASE("corpus_bleu: smoothing methods as sacreBLEU's", "[eval][bleu]") {
  // 4-gram count 0: none scores 0, floor puts 0.1 in the count, add-k adds k to 2..4-grams.
  const strings h{"the cat sat on the mat"};
  const std::vector<strings> ref{{"the cat sat in a mat"}};
  CHECK(hat::corpus_bleu(h, ref, {.smooth = "none"}).score == 0.0);
  const auto floor = hat::corpus_bleu(h, ref, {.smooth = "floor"});
  CHECK(floor.precisions[3] == Approx(100.0 * 0.1 / 3));
  const auto addk = hat::corpus_bleu(h, ref, {.smooth = "add-k", .smooth_value = 1});
  CHECK(addk.precisions[0] == Approx(100.0 * 4 / 6));
  CHECK(addk.precisions[3] == Approx(100.0 * 1 / 4));
  CHECK_THROWS_AS(hat::corpus_bleu(h, ref, {.smooth = "laplace"}), hat::config_error);
  CHECK(hat::bleu_signature(1, {}) == "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0");
  CHECK(hat::bleu_signature(2, {.tokenize = "intl", .lowercase = true, .smooth = "add-k", .smooth_value = 0.5}) ==
        "nrefs:2|case:lc|eff:no|tok:intl|smooth:add-k[0.50]|version:2.6.0");
  CHECK(hat::bleu_signature(1, {.smooth = "floor", .effective_order = true}) ==
        "nrefs:1|case:mixed|eff:yes|tok:13a|smooth:floor[0.10]|version:2.6.0");
}

TEST_CASE("sentence_bleu, sentence_chrf: sacreBLEU 2.6.0's scores", "[eval][bleu]") {
  // Scores printed by sacreBLEU 2.6.0's sentence_bleu (effective order) for each smoothing.
  struct expected { const char *hyp, *ref, *smooth; double score; };
  for (const auto& e : {expected{"the cat sat on the mat", "the cat sat on a mat", "exp", 53.7284965911771},
                        {"the cat sat on the mat", "the cat sat on a mat", "add-k", 63.894310424627285},
                        {"a b", "a b c", "none", 60.653065971263366},
                        {"Hello there!", "Hello there, General Kenobi!", "exp", 23.174952587773145},
                        {"Hello there!", "Hello there, General Kenobi!", "floor", 13.55279448977817},
                        {"Hello there!", "Hello there, General Kenobi!", "add-k", 27.95279274196279},
                        {"Hello there!", "Hello there, General Kenobi!", "none", 0.0},
                        {"x", "y", "exp", 0.0},
                        {"", "nothing", "exp", 0.0}}) {
    INFO(e.hyp << " | " << e.ref << " | " << e.smooth);
    CHECK(hat::sentence_bleu(e.hyp, {e.ref}, {.smooth = e.smooth, .effective_order = true}).score ==
          Approx(e.score).epsilon(1e-12));
  }
  CHECK(hat::sentence_bleu("The Cat Sat", {"the cat sat"}, {.lowercase = true, .effective_order = true}).score == Approx(100.0));
  CHECK(hat::corpus_bleu({"abc def"}, {{"abd def"}}, {.tokenize = "char"}).score == Approx(37.99178428257963).epsilon(1e-12));
  CHECK(hat::sentence_chrf("the cat sat on the mat", {"the cat sat on a mat"}).score == Approx(72.0848317308462).epsilon(1e-12));
  const strings h{"the cat, sat on the mat.", "Hello there!"};
  const std::vector<strings> r{{"the cat sat on a mat.", "Hello there, General Kenobi!"}};
  const auto pp = hat::corpus_chrf(h, r, {.word_order = 2});
  CHECK(pp.score == Approx(46.518341628967526).epsilon(1e-12));
  CHECK(pp.name == "chrF2++");
  CHECK(pp.signature == "nrefs:1|case:mixed|eff:yes|nc:6|nw:2|space:no|version:2.6.0");
  const auto eps = hat::corpus_chrf(h, r, {.eps_smoothing = true});
  CHECK(eps.score == Approx(43.769060046312426).epsilon(1e-12));
  CHECK(eps.signature == "nrefs:1|case:mixed|eff:no|nc:6|nw:0|space:no|version:2.6.0");
  CHECK_THROWS_AS(hat::corpus_chrf(h, {{"one line"}}), hat::config_error);
}

TEST_CASE("fairseq_bleu: HAT's tokenized BLEU and its quirks", "[eval][bleu]") {
  CHECK(hat::split_compounds("a well-known x-ray") == "a well ##AT##-##AT## known x ##AT##-##AT## ray");
  CHECK(hat::split_compounds("a-b-c -x y- --") == "a ##AT##-##AT## b-c -x y- --");  // matches do not overlap
  const auto r = hat::fairseq_bleu({"the cat sat on the mat"}, {"the cat sat on a mat"});
  CHECK(r.matches == std::array<std::size_t, 4>{5, 3, 2, 1});
  CHECK(r.counts == std::array<std::size_t, 4>{6, 5, 4, 3});
  CHECK(r.score == Approx(hat::corpus_bleu({"the cat sat on the mat"}, {{"the cat sat on a mat"}}, {.tokenize = "none"}).score));
  CHECK(r.formatted() == "BLEU4 = 53.73, 83.3/60.0/50.0/33.3 (BP=1.000, ratio=1.000, syslen=6, reflen=6)");
  // Compound splitting changes the tokens: "well-known" vs "well known" then shares 2 unigrams.
  const auto split = hat::fairseq_bleu({"well-known"}, {"well known"});
  CHECK(split.counts[0] == 3);
  CHECK(split.matches[0] == 2);
  CHECK(hat::fairseq_bleu({"well-known"}, {"well known"}, false).matches[0] == 0);
  // A literal <unk> never matches; an empty hypothesis still counts one token.
  CHECK(hat::fairseq_bleu({"a <unk> b"}, {"a <unk> b"}).matches[0] == 2);
  const auto empty = hat::fairseq_bleu({"", "a b c d"}, {"x y", "a b c d"});
  CHECK(empty.sys_len == 5);
  CHECK(empty.ref_len == 6);
  CHECK_THROWS_AS(hat::fairseq_bleu({"a"}, {}), hat::config_error);
}

TEST_CASE("BLEU, chrF: WMT21 systems match sacreBLEU 2.6.0 in every reported number", "[eval][bleu][shared]") {
  const auto bleu_dir = hat_test::shared_dir() / "reference" / "bleu";
  const auto corpus = hat_test::shared_dir() / "corpora" / "wmt21-newstest2021";
  const auto json = nlohmann::json::parse(std::ifstream(bleu_dir / "expected_wmt21.json"));
  std::size_t bleu_checked = 0, chrf_checked = 0, fairseq_checked = 0;
  for (const auto& system : json["systems"]) {
    const auto name = system["hyp_file"].get<std::string>();
    const auto pair = system["pair"].get<std::string>();
    const auto lang = pair.substr(3);
    const auto h = lines_rstripped(bleu_dir / name);
    REQUIRE(h.size() == system["lines"].get<std::size_t>());
    std::vector<std::string> ref_names;
    for (const auto& entry : system["results"].items()) {
      const auto key = entry.key();
      if (key.rfind("chrF2_ref-", 0) == 0 && key != "chrF2_ref-all") ref_names.push_back(key.substr(10));
    }
    REQUIRE(ref_names.size() >= 2);
    std::vector<strings> all;
    for (const auto& r : ref_names) all.push_back(lines_rstripped(corpus / ("newstest2021." + pair + ".ref." + r + "." + lang)));
    for (const auto& entry : system["results"].items()) {
      const auto key = entry.key();
      const auto& expected = entry.value();
      const auto ref = key.substr(key.rfind("ref-") + 4);
      std::vector<strings> used;
      for (std::size_t k = 0; k < ref_names.size(); ++k)
        if (ref == "all" || ref == ref_names[k]) used.push_back(all[k]);
      REQUIRE(!used.empty());
      INFO(name << " " << key);
      if (key.rfind("chrF2_", 0) == 0) {
        const auto c = hat::corpus_chrf(h, used);
        CHECK(c.score == Approx(expected["score"].get<double>()).epsilon(1e-12));
        CHECK(c.signature == expected["signature"].get<std::string>());
        ++chrf_checked;
        continue;
      }
      REQUIRE(key.rfind("bleu_", 0) == 0);
      hat::bleu_options o;
      o.tokenize = key.substr(5, key.find('_', 5) - 5);
      if (key.find("smoothnone") != std::string::npos) o.smooth = "none";
      const auto r = hat::corpus_bleu(h, used, o);
      CHECK(r.score == Approx(expected["score"].get<double>()).epsilon(1e-12));
      CHECK(r.signature == expected["signature"].get<std::string>());
      CHECK(r.formatted() == expected["formatted"].get<std::string>());
      CHECK(r.counts == expected["counts"].get<std::vector<std::size_t>>());
      CHECK(r.totals == expected["totals"].get<std::vector<std::size_t>>());
      const auto precisions = expected["precisions"].get<std::vector<double>>();
      REQUIRE(r.precisions.size() == precisions.size());
      for (std::size_t n = 0; n < precisions.size(); ++n) CHECK(r.precisions[n] == Approx(precisions[n]).epsilon(1e-12));
      CHECK(r.bp == Approx(expected["bp"].get<double>()).epsilon(1e-12));
      CHECK(r.ratio() == Approx(expected["ratio"].get<double>()).epsilon(1e-12));
      CHECK(r.sys_len == expected["sys_len"].get<std::size_t>());
      CHECK(r.ref_len == expected["ref_len"].get<std::size_t>());
      ++bleu_checked;
      // fairseq's tokenized BLEU on whitespace tokens, one reference, no smoothing, is the same
      // number where no line is empty (its one quirk that these files could show).
      if (o.tokenize == "none" && o.smooth == "none" && used.size() == 1) {
        const auto f = hat::fairseq_bleu(h, used[0], false);
        const bool has_empty = std::any_of(h.begin(), h.end(), [](const std::string& s) { return s.empty(); });
        if (!has_empty) {
          CHECK(f.score == Approx(expected["score"].get<double>()).epsilon(1e-12));
          CHECK(f.sys_len == r.sys_len);
          ++fairseq_checked;
        }
      }
    }
  }
  CHECK(bleu_checked == 4 * (3 + 3 + 4 + 4));
  CHECK(chrf_checked == 3 + 3 + 4 + 4);
  CHECK(fairseq_checked >= 4);
}
