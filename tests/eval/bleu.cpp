// SPDX-License-Identifier: MIT
// Corpus BLEU: the 13a tokenizer's rules, the statistics, and real WMT21 system outputs scored
// by sacreBLEU 2.6.0 (../shared/reference/bleu/expected_wmt21.json).
#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <vector>

#include <hat/eval/bleu.hpp>

#include "shared_data.hpp"

namespace {

std::vector<std::string> lines_rstripped(const std::filesystem::path& p) {  // as `sacrebleu -i` reads them
  std::ifstream in(p);
  REQUIRE(in);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) {
    while (!l.empty() && std::isspace(static_cast<unsigned char>(l.back()))) l.pop_back();
    out.push_back(l);
  }
  return out;
}

}  // namespace

TEST_CASE("tokenize_13a: mteval's rules", "[eval][bleu]") {
  using v = std::vector<std::string>;
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
  CHECK_THROWS_AS(hat::corpus_bleu({"a"}, {{"a", "b"}}), hat::config_error);
  CHECK_THROWS_AS(hat::corpus_bleu({"a"}, {{"a"}}, {"intl", false}), hat::config_error);
}

TEST_CASE("corpus_bleu: smoothing methods as sacreBLEU's", "[eval][bleu]") {
  // 4-gram count 0: none scores 0, floor puts 0.1 in the count, add-k adds k to 2..4-grams.
  const std::vector<std::string> h{"the cat sat on the mat"};
  const std::vector<std::vector<std::string>> ref{{"the cat sat in a mat"}};
  CHECK(hat::corpus_bleu(h, ref, {"13a", false, "none", -1}).score == 0.0);
  const auto floor = hat::corpus_bleu(h, ref, {"13a", false, "floor", -1});
  CHECK(floor.precisions[3] == Approx(100.0 * 0.1 / 3));
  const auto addk = hat::corpus_bleu(h, ref, {"13a", false, "add-k", 1});
  CHECK(addk.precisions[0] == Approx(100.0 * 4 / 6));
  CHECK(addk.precisions[3] == Approx(100.0 * 1 / 4));
  CHECK_THROWS_AS(hat::corpus_bleu(h, ref, {"13a", false, "laplace", -1}), hat::config_error);
}

TEST_CASE("corpus_bleu: WMT21 systems match sacreBLEU 2.6.0 (13a and none; each reference and all)", "[eval][bleu][shared]") {
  const auto bleu_dir = hat_test::shared_dir() / "reference" / "bleu";
  const auto corpus = hat_test::shared_dir() / "corpora" / "wmt21-newstest2021";
  std::ifstream json(bleu_dir / "expected_wmt21.json");
  const std::string text((std::istreambuf_iterator<char>(json)), {});
  const auto number_after = [&](std::size_t from, const std::string& key) {
    const auto at = text.find("\"" + key + "\": ", from);
    REQUIRE(at != std::string::npos);
    return std::stod(text.substr(at + key.size() + 4, 32));
  };
  std::size_t checked = 0;
  for (const char* hyp : {"newstest2021.de-en.hyp.Watermelon.en", "newstest2021.de-en.hyp.Manifold.en",
                          "newstest2021.en-de.hyp.Facebook-AI.de", "newstest2021.en-de.hyp.happypoet.de"}) {
    const std::string name(hyp);
    const std::string pair = name.substr(13, 5), lang = name.substr(name.size() - 2);
    const std::vector<std::string> refs = pair == "de-en" ? std::vector<std::string>{"A", "B"} : std::vector<std::string>{"A", "C", "D"};
    const auto h = lines_rstripped(bleu_dir / hyp);
    std::vector<std::vector<std::string>> all;
    for (const auto& r : refs) all.push_back(lines_rstripped(corpus / ("newstest2021." + pair + ".ref." + r + "." + lang)));
    const auto system = text.find("\"hyp_file\": \"" + name + "\"");
    REQUIRE(system != std::string::npos);
    for (std::size_t k = 0; k <= refs.size(); ++k) {
      const std::string suffix = k < refs.size() ? "ref-" + refs[k] : "ref-all";
      const std::vector<std::vector<std::string>> used = k < refs.size() ? std::vector<std::vector<std::string>>{all[k]} : all;
      for (const auto& [key, opts] : {std::pair<std::string, hat::bleu_options>{"bleu_13a_", {"13a", false, "exp", -1}},
                                      {"bleu_none_", {"none", false, "exp", -1}},
                                      {"bleu_none_smoothnone_", {"none", false, "none", -1}}}) {
        INFO(name << " " << key << suffix);
        const auto block = text.find("\"" + key + suffix + "\"", system);
        REQUIRE(block != std::string::npos);
        const auto r = hat::corpus_bleu(h, used, opts);
        CHECK(r.score == Approx(number_after(block, "score")).epsilon(1e-9));
        CHECK(static_cast<double>(r.sys_len) == number_after(block, "sys_len"));
        CHECK(static_cast<double>(r.ref_len) == number_after(block, "ref_len"));
        CHECK(r.bp == Approx(number_after(block, "bp")).epsilon(1e-12));
        ++checked;
      }
    }
  }
  CHECK(checked == 3 * (3 + 3 + 4 + 4));
}
