// SPDX-License-Identifier: MIT
// Text input: plain and gzip lines, SentencePiece with fairseq's ids, corpus loading and batching.
#include <catch2/catch.hpp>

#include <unistd.h>  // getpid
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <hat/data/load_corpus.hpp>
#include <hat/data/parallel_corpus.hpp>
#include <hat/data/subword_model.hpp>
#include <hat/data/text_reader.hpp>

#include "shared_data.hpp"

namespace fs = std::filesystem;

namespace {

fs::path scratch_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("hat_text_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void write_plain(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }

void write_gz(const fs::path& p, const std::string& s) {
  gzFile f = gzopen(p.c_str(), "wb");
  REQUIRE(f);
  REQUIRE(gzwrite(f, s.data(), static_cast<unsigned>(s.size())) == static_cast<int>(s.size()));
  gzclose(f);
}

// A small synthetic parallel text: numbers in two "languages".
std::vector<std::string> words(bool german) {
  const char* en[] = {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"};
  const char* de[] = {"eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun", "zehn"};
  std::vector<std::string> lines;
  for (int i = 0; i < 300; ++i) {
    std::string l;
    const char* const* w = german ? de : en;
    for (int j = 0; j <= i % 7; ++j) l += std::string(j ? " " : "") + w[(i * 7 + j * 3) % 10];
    lines.push_back(l);
  }
  return lines;
}

}  // namespace

TEST_CASE("read_lines: plain and gzip alike, CRLF, last line without newline", "[text]") {
  const fs::path d = scratch_dir("lines");
  write_plain(d / "a.txt", "first\r\nzweite Zeile ü\n\nlast");
  write_gz(d / "a.txt.gz", "first\r\nzweite Zeile ü\n\nlast");
  const std::vector<std::string> want{"first", "zweite Zeile ü", "", "last"};
  CHECK(hat::read_lines((d / "a.txt").string()) == want);
  CHECK(hat::read_lines((d / "a.txt.gz").string()) == want);
  // A line longer than the read chunk.
  const std::string long_line(40000, 'x');
  write_gz(d / "long.gz", long_line + "\nshort\n");
  CHECK(hat::read_lines((d / "long.gz").string()) == std::vector<std::string>{long_line, "short"});
  fs::remove_all(d);
}

TEST_CASE("read_lines: errors name the file and the line", "[text]") {
  const fs::path d = scratch_dir("bad");
  CHECK_THROWS_WITH(hat::read_lines((d / "missing.txt").string()), Catch::Contains("missing.txt") && Catch::Contains("cannot open"));
  write_plain(d / "latin1.txt", "ok\nbad \xFC byte\n");
  CHECK_THROWS_WITH(hat::read_lines((d / "latin1.txt").string()), Catch::Contains("latin1.txt:2") && Catch::Contains("UTF-8"));
  // A truncated gzip stream is a read error, not silently fewer lines.
  std::string gz;
  write_gz(d / "full.gz", std::string(100000, 'a') + "\n");
  {
    std::ifstream in(d / "full.gz", std::ios::binary);
    gz.assign(std::istreambuf_iterator<char>(in), {});
  }
  write_plain(d / "cut.gz", gz.substr(0, gz.size() / 2));
  CHECK_THROWS_WITH(hat::read_lines((d / "cut.gz").string()), Catch::Contains("cut.gz"));
  fs::remove_all(d);
}

TEST_CASE("subword_model: joint BPE with fairseq's special ids; round trip; reload; bad files", "[text]") {
  const fs::path d = scratch_dir("spm");
  const auto en = words(false), de = words(true);
  hat::subword_options o;
  o.vocab_size = 60;
  const auto m = hat::subword_model::train({&de, &en}, (d / "joint.model").string(), o);
  CHECK(m.size() <= 60);
  CHECK(m.size() > 20);
  for (const auto& line : {de[5], en[17], std::string("sieben acht neun")}) {
    const std::vector<int> ids = m.encode(line);
    REQUIRE(!ids.empty());
    for (int i : ids) CHECK(i > hat::special_tokens::eos);  // no <s>/<pad>/</s> inside a sentence
    std::vector<int> with_eos = ids;
    with_eos.push_back(hat::special_tokens::eos);
    CHECK(m.decode(with_eos) == line);
  }
  // Unknown characters map to <unk> (3).
  const std::vector<int> unk = m.encode("ж");
  CHECK(std::find(unk.begin(), unk.end(), hat::special_tokens::unk) != unk.end());
  // The written model reloads to the same segmentation; training is deterministic.
  const auto again = hat::subword_model::load((d / "joint.model").string());
  CHECK(again.encode(de[42]) == m.encode(de[42]));
  const auto twin = hat::subword_model::train({&de, &en}, (d / "twin.model").string(), o);
  CHECK(twin.encode(en[99]) == m.encode(en[99]));
  write_plain(d / "junk.model", "not a model");
  CHECK_THROWS_WITH(hat::subword_model::load((d / "junk.model").string()), Catch::Contains("junk.model"));
  CHECK_THROWS_WITH(hat::subword_model::load((d / "none.model").string()), Catch::Contains("none.model"));
  const std::vector<std::string> nothing;
  CHECK_THROWS_AS(hat::subword_model::train({&nothing}, (d / "x.model").string(), o), hat::config_error);
  fs::remove_all(d);
}

TEST_CASE("load_corpus: encodes with </s>, filters by length, rejects unequal files", "[text]") {
  const fs::path d = scratch_dir("corpus");
  const auto en = words(false), de = words(true);
  hat::subword_options o;
  o.vocab_size = 60;
  const auto m = hat::subword_model::train({&de, &en}, (d / "m.model").string(), o);
  std::string src, tgt;
  for (std::size_t i = 0; i < 20; ++i) {
    src += de[i] + "\n";
    tgt += en[i] + "\n";
  }
  src += "\n";  // an empty pair is dropped
  tgt += "\n";
  write_gz(d / "train.de.gz", src);
  write_plain(d / "train.en", tgt);
  const hat::corpus_location at{d.string(), "de", "en"};
  hat::corpus_stats st;
  const auto c = hat::load_corpus(at, "train", m, 1024, &st);
  CHECK(st.lines == 21);
  CHECK(st.empty == 1);
  CHECK(c.size() == 20);
  for (std::size_t i = 0; i < c.size(); ++i) {
    CHECK(c.source[i].back() == hat::special_tokens::eos);
    CHECK(m.decode(c.target[i]) == en[i]);
  }
  const std::size_t limit = 6;
  const auto short_only = hat::load_corpus(at, "train", m, limit, &st);
  CHECK(st.too_long > 0);
  CHECK(short_only.size() + st.too_long + st.empty == st.lines);
  for (const auto& s : short_only.source) CHECK(s.size() <= limit);
  write_plain(d / "uneven.de", "a\nb\n");
  write_plain(d / "uneven.en", "a\n");
  CHECK_THROWS_WITH(hat::load_corpus(at, "uneven", m, 1024), Catch::Contains("uneven.de") && Catch::Contains("2 lines"));
  CHECK_THROWS_WITH(hat::load_corpus(at, "absent", m, 1024), Catch::Contains("absent.de.gz"));
  // No pair left is an error, never an empty corpus (a validation loss over 0 tokens reads as perfect).
  write_plain(d / "blank.de", "\n\n");
  write_plain(d / "blank.en", "\n\n");
  CHECK_THROWS_WITH(hat::load_corpus(at, "blank", m, 1024),
                    Catch::Contains("blank.de") && Catch::Contains("no sentence pair left (2 lines: 2 with an empty side"));
  CHECK_THROWS_WITH(hat::load_corpus(at, "train", m, 1), Catch::Contains("20 longer than 1 subwords"));
  fs::remove_all(d);
}

TEST_CASE("epoch_batches: every pair once, within max tokens, by seed and epoch", "[text]") {
  hat::parallel_corpus c;
  hat::rng g(3);
  for (int i = 0; i < 500; ++i) {
    c.source.emplace_back(3 + g.below(40), 5);
    c.target.emplace_back(2 + g.below(45), 6);
  }
  hat::batching_options o;
  o.max_tokens = 200;
  const auto b1 = hat::epoch_batches(c, o, 1);
  std::vector<std::size_t> seen;
  for (const auto& b : b1) {
    std::size_t longest = 0;
    for (std::size_t i : b) longest = std::max({longest, c.source[i].size(), c.target[i].size()});
    CHECK(b.size() * longest <= o.max_tokens);
    seen.insert(seen.end(), b.begin(), b.end());
  }
  std::sort(seen.begin(), seen.end());
  std::vector<std::size_t> all(c.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  CHECK(seen == all);
  CHECK(hat::epoch_batches(c, o, 1) == b1);  // same seed and epoch: same batches
  CHECK(hat::epoch_batches(c, o, 2) != b1);  // another epoch: another order
  hat::batching_options other = o;
  other.seed = 2;
  CHECK(hat::epoch_batches(c, other, 1) != b1);
  // Without shuffling: length-sorted, reproducible.
  hat::batching_options valid = o;
  valid.shuffle = false;
  const auto v = hat::epoch_batches(c, valid, 1);
  for (std::size_t k = 1; k < v.size(); ++k) CHECK(c.source[v[k - 1].back()].size() <= c.source[v[k].front()].size());
  // A pair longer than max_tokens still gets a batch (of one).
  hat::parallel_corpus big;
  big.source = {std::vector<int>(300, 5), std::vector<int>(4, 5)};
  big.target = {std::vector<int>(3, 6), std::vector<int>(4, 6)};
  CHECK(hat::epoch_batches(big, o, 1).size() == 2);
  const auto mb = hat::make_batch(c, v.front());
  CHECK(mb.source.rows == v.front().size());
  CHECK(mb.target_tokens == [&] {
    std::size_t n = 0;
    for (std::size_t i : v.front()) n += c.target[i].size();
    return n;
  }());
}

TEST_CASE("Multi30k de-en: a joint BPE, the validation split loads whole", "[text][shared]") {
  const auto dir = hat_test::shared_dir() / "corpora" / "multi30k";
  const fs::path d = scratch_dir("multi30k");
  const auto en = hat::read_lines((dir / "train.en.gz").string()), de = hat::read_lines((dir / "train.de.gz").string());
  CHECK(en.size() == 29000);
  CHECK(de.size() == en.size());
  hat::subword_options o;
  o.vocab_size = 4000;
  const auto m = hat::subword_model::train({&de, &en}, (d / "m30k.model").string(), o);
  CHECK(m.size() == 4000);
  hat::corpus_stats st;
  const auto val = hat::load_corpus({dir.string(), "de", "en"}, "val", m, 256, &st);
  CHECK(st.lines == 1014);
  CHECK(val.size() == 1014);
  // Subwords per sentence stay short with a 4k joint vocabulary (Multi30k captions).
  CHECK(static_cast<double>(val.target_tokens()) / static_cast<double>(val.size()) < 25.0);
  fs::remove_all(d);
}
