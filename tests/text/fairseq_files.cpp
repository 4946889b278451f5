// SPDX-License-Identifier: MIT
// fairseq's dictionaries, subword-nmt's BPE and fairseq's binarized data against files those tools'
// formats produce (tests/reference/make_fairseq_fixtures.py: subword-nmt 0.3.8 from PyPI learned
// and applied the BPE; the binarized files read back identically with fairseq's own
// indexed_dataset.py), and against damaged variants.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <hat/data/fairseq_binarized.hpp>
#include <hat/data/fairseq_dictionary.hpp>
#include <hat/data/fairseq_text.hpp>
#include <hat/data/subword_nmt.hpp>
#include <hat/io/read_file.hpp>

#include "shared_data.hpp"

using namespace std::string_literals;

namespace {

std::filesystem::path fixture(const std::string& name) { return hat_test::test_data() / "fairseq" / name; }

std::vector<std::string> lines_of(const std::string& name) {
  std::ifstream in(fixture(name));
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

/// "<lang> id id ..." lines of test.ids / valid.ids for one language.
std::vector<std::vector<int>> ids_of(const std::string& name, const std::string& lang) {
  std::vector<std::vector<int>> out;
  for (const auto& l : lines_of(name)) {
    std::istringstream in(l);
    std::string who;
    in >> who;
    if (who != lang) continue;
    out.emplace_back();
    for (int v; in >> v;) out.back().push_back(v);
  }
  return out;
}

std::string refusal(auto&& f) {
  try {
    f();
  } catch (const hat::config_error& e) {
    return e.what();
  }
  return "(accepted)";
}

}  // namespace

TEST_CASE("fairseq_dictionary: specials first, counts, #fairseq:overwrite, encode and string", "[text][fairseq]") {
  const auto d = hat::fairseq_dictionary::read(fixture("dict.de.txt"));
  const auto lines = lines_of("dict.de.txt");
  CHECK(d.size() == 4 + lines.size());
  CHECK(d.symbol(0) == "<s>");
  CHECK(d.symbol(1) == "<pad>");
  CHECK(d.symbol(2) == "</s>");
  CHECK(d.symbol(3) == "<unk>");
  CHECK(d.symbol(4) == "e");
  CHECK(d.count(4) == 34);
  CHECK(d.index("e") == static_cast<int>(d.size()) - 1);  // the overwrite line gave it a new id
  CHECK(d.index("no-such-word") == hat::special_tokens::unk);
  CHECK(d.encode_line("  e \t t\xc2\xa0zz ") == std::vector<int>{d.index("e"), d.index("t"), 3, 2});  // U+00A0 splits, as in Python
  const std::vector<int> ids{d.index("d@@"), d.index("e"), 2};
  CHECK(d.string(ids) == "d@@ e");
  CHECK(d.string(ids, "@@ ") == "de");
  CHECK_THROWS_WITH(d.symbol(999), Catch::Contains("dict.de.txt: id 999 is outside the dictionary of"));

  CHECK_THAT(refusal([] { hat::fairseq_dictionary::parse("a 1\nb\n", "d.txt"); }),
             Catch::Contains("d.txt:2: expected '<symbol> <count> [#fairseq:overwrite]', found 'b'"));
  CHECK_THAT(refusal([] { hat::fairseq_dictionary::parse("a 1\na 2\n", "d.txt"); }), Catch::Contains("d.txt:2: the symbol 'a' is listed twice"));
  CHECK_THAT(refusal([] { hat::fairseq_dictionary::parse("a x\n", "d.txt"); }), Catch::Contains("d.txt:1: the count 'x' is not a whole number"));
  CHECK_THAT(refusal([] { hat::fairseq_dictionary::parse("a -1\n", "d.txt"); }), Catch::Contains("the count '-1'"));
  CHECK_THAT(refusal([] { hat::fairseq_dictionary::parse("a 1\n\n", "d.txt"); }), Catch::Contains("d.txt:2: expected"));
  CHECK_THAT(refusal([] { hat::fairseq_dictionary::parse("\xff 1\n", "d.txt"); }), Catch::Contains("UTF-8"));
  CHECK(hat::fairseq_dictionary::parse("a b 5\r\n", "d.txt").index("a b") == 4);  // the last space splits
}

TEST_CASE("subword_nmt_bpe: subword-nmt's segmentation of every probe line", "[text][fairseq]") {
  const auto bpe = hat::subword_nmt_bpe::read(fixture("bpe.codes"));
  CHECK(bpe.merges() + 1 == lines_of("bpe.codes").size());
  const auto in = lines_of("bpe.in"), out = lines_of("bpe.out");
  REQUIRE(in.size() == out.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    INFO("line " << i + 1 << ": '" << in[i] << "'");
    CHECK(bpe.process_line(in[i]) == out[i]);
  }
  CHECK(bpe.process_line("   ") == "   ");

  // version 0.1 (no header): the end-of-word marker is a symbol of its own
  const auto v1 = hat::subword_nmt_bpe::parse("a b\nab </w>\n", "v1.codes");
  CHECK(v1.segment("ab abc") == "ab ab@@ c");  // both checked against subword-nmt
  const auto v2 = hat::subword_nmt_bpe::parse("#version: 0.2\na b</w>\nb c</w>\n", "v2.codes");
  CHECK(v2.segment("ab abc xb") == "ab a@@ bc x@@ b");
  CHECK_THAT(refusal([] { hat::subword_nmt_bpe::parse("#version: 0.3\na b\n", "c.codes"); }),
             Catch::Contains("c.codes:1: BPE codes version '0.3'; this reader knows subword-nmt's 0.1 and 0.2"));
  CHECK_THAT(refusal([] { hat::subword_nmt_bpe::parse("#version: 0.2\na b\nabc\n", "c.codes"); }),
             Catch::Contains("c.codes:3: expected a merge of two symbols 'a b', found 'abc'"));
  CHECK_THAT(refusal([] { hat::subword_nmt_bpe::parse("a  b\n", "c.codes"); }), Catch::Contains("c.codes:1: expected a merge"));
  CHECK(hat::subword_nmt_bpe::parse("#version: 0.2.0\na b\n\n\n", "ok.codes").merges() == 1);
}

TEST_CASE("fairseq binarized data: both index formats, a split with its dictionaries", "[text][fairseq]") {
  for (const char* split : {"test", "valid"}) {  // mmap (uint16) and TNTIDX (int32)
    INFO(split);
    const auto s = hat::read_fairseq_split(hat_test::test_data() / "fairseq", split, "de", "en");
    CHECK(s.corpus.source == ids_of(std::string(split) + ".ids", "de"));
    CHECK(s.corpus.target == ids_of(std::string(split) + ".ids", "en"));
    CHECK(s.source_dict.size() == 4 + lines_of("dict.de.txt").size());
  }
  // the pair named the other way round is found too, as fairseq's translation task does
  const auto reversed = hat::read_fairseq_split(hat_test::test_data() / "fairseq", "test", "en", "de");
  CHECK(reversed.corpus.source == ids_of("test.ids", "en"));
  CHECK_THAT(refusal([] { hat::read_fairseq_split(hat_test::test_data() / "fairseq", "train", "de", "en"); }),
             Catch::Contains("no binarized train data for de (train.de-en.de.idx)"));
}

TEST_CASE("fairseq_text: raw lines read as fairseq-preprocess binarized them, hypotheses written back", "[text][fairseq]") {
  // bpe.in's first 20 lines are the German side of the test split, whose ids the fixture's
  // binarizer wrote: the BPE codes then the dictionary give the same ids.
  const hat::fairseq_text text{hat::fairseq_dictionary::read(fixture("dict.de.txt")), hat::fairseq_dictionary::read(fixture("dict.en.txt")),
                               hat::subword_nmt_bpe::read(fixture("bpe.codes")), "@@ "};
  const auto raw = lines_of("bpe.in"), segmented = lines_of("bpe.out");
  const auto ids = ids_of("test.ids", "de");
  for (std::size_t i = 0; i < 20; ++i) {
    INFO("line " << i + 1);
    CHECK(text.encode(raw[i]) == ids[i]);
  }
  CHECK(text.encode("  \t ").empty());  // no sentence, as an empty line
  // without codes the input is taken as segmented already
  hat::fairseq_text presegmented = text;
  presegmented.bpe.reset();
  CHECK(presegmented.encode(segmented[3]) == ids[3]);
  // the English side written back: the segmented sentence with the continuations removed
  const auto en = ids_of("test.ids", "en");
  for (std::size_t i = 0; i < 20; ++i) CHECK(text.decode(en[i]) == raw[20 + i]);  // bpe.in's lines 21-40: the English side
  // a joined dictionary: the same symbols in the same order
  CHECK(hat::same_symbols(text.source, hat::fairseq_dictionary::read(fixture("dict.de.txt"))));
  CHECK_FALSE(hat::same_symbols(text.source, text.target));
  auto dict = hat::read_file(fixture("dict.de.txt"));
  std::swap(dict[0], dict[dict.find('\n') + 1]);  // two symbols' first letters exchanged: same size, other symbols
  CHECK_FALSE(hat::same_symbols(text.source, hat::fairseq_dictionary::parse(dict, "swapped.txt")));
}

TEST_CASE("fairseq binarized data: damaged indexes and data are refused by name", "[text][fairseq]") {
  const auto idx = hat::read_file(fixture("test.de-en.de.idx")), bin = hat::read_file(fixture("test.de-en.de.bin"));
  const auto tidx = hat::read_file(fixture("valid.de-en.de.idx")), tbin = hat::read_file(fixture("valid.de-en.de.bin"));
  const auto parse = [](const std::string& i, const std::string& b, std::size_t vocab = 0) {
    return refusal([&] { (void)hat::parse_fairseq_indexed(i, b, "x", vocab); });
  };
  CHECK(parse(idx, bin) == "(accepted)");
  CHECK(parse(tidx, tbin) == "(accepted)");
  for (std::size_t n = 0; n < idx.size(); ++n) CHECK_THAT(parse(idx.substr(0, n), bin), Catch::StartsWith("x.idx: "));
  for (std::size_t n = 0; n < tidx.size(); ++n) CHECK_THAT(parse(tidx.substr(0, n), tbin), Catch::StartsWith("x.idx: "));
  CHECK_THAT(parse(idx, bin.substr(0, bin.size() - 2)), Catch::Contains("x.bin: sequence 39 runs past the end of the file"));
  CHECK_THAT(parse(idx, bin.substr(0, bin.size() - 1)), Catch::Contains("x.bin: 975 bytes are not whole elements"));
  CHECK_THAT(parse(tidx, tbin.substr(0, 100)), Catch::Contains("runs past the end"));
  CHECK_THAT(parse(idx, bin, 10), Catch::Contains("outside the dictionary of 10 symbols"));
  auto float_code = idx;
  float_code[17] = 7;
  CHECK_THAT(parse(float_code, bin), Catch::Contains("x.idx: dtype code 7 is not an integer type"));
  auto version = idx;
  version[9] = 2;
  CHECK_THAT(parse(version, bin), Catch::Contains("mmap index version 2"));
  CHECK_THAT(parse("not an index at all", bin), Catch::Contains("x.idx: not a fairseq index"));
  auto bad_size = tidx;
  bad_size[48 + 8] = 5;  // the second dimension offset: not one-dimensional
  CHECK_THAT(parse(bad_size, tbin), Catch::Contains("x.idx: sequence 0 is not one-dimensional"));
  // with the newer fairseq's document index after the pointers (count, then offsets)
  std::string with_docs = idx.substr(0, 26) + "\x02\0\0\0\0\0\0\0"s + idx.substr(26) + std::string(8, '\0') + "\x28\0\0\0\0\0\0\0"s;
  CHECK(parse(with_docs, bin) == "(accepted)");
}
