// SPDX-License-Identifier: MIT
// Bad SubTransformer YAML: a table of broken files, each with the error it must produce.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <hat/yaml/subtransformer.hpp>
#include <hat/space/hat_spaces.hpp>

namespace {

using S = hat::hat_wmt_space;

const std::vector<std::string> good_lines = {
    "encoder-embed-dim-subtransformer: 512",                                     // line 1
    "decoder-embed-dim-subtransformer: 512",                                     // 2
    "",                                                                          // 3
    "encoder-ffn-embed-dim-all-subtransformer: [1024, 3072, 3072, 2048, 2048, 2048]",  // 4
    "decoder-ffn-embed-dim-all-subtransformer: [3072]",                          // 5
    "",                                                                          // 6
    "encoder-layer-num-subtransformer: 6",                                       // 7
    "decoder-layer-num-subtransformer: 1",                                       // 8
    "",                                                                          // 9
    "encoder-self-attention-heads-all-subtransformer: [4, 8, 4, 4, 4, 8]",       // 10
    "decoder-self-attention-heads-all-subtransformer: [8]",                      // 11
    "decoder-ende-attention-heads-all-subtransformer: [8]",                      // 12
    "",                                                                          // 13
    "decoder-arbitrary-ende-attn-all-subtransformer: [-1]",                      // 14
};

std::string join(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}
std::string with_line(std::size_t line, const std::string& text) {
  auto l = good_lines;
  l[line - 1] = text;
  return join(l);
}
std::string with_extra(const std::string& text) {
  auto l = good_lines;
  l.push_back(text);
  return join(l);
}

struct bad_case {
  const char* what;
  std::string text;
  std::vector<std::string> message_has;
};

}  // namespace

TEST_CASE("bad yaml: the good base text parses", "[io][yaml][bad]") {
  const auto a = hat::parse_subtransformer_yaml<S>(join(good_lines), "good.yml");
  CHECK(a.get<"decoder_layer_num">() == 1);
}

TEST_CASE("bad yaml: every broken file gives an error naming the file, line and key", "[io][yaml][bad]") {
  const std::string garbage_with_nul("\x7f" "ELF\x02\x01\x01\x00\x00\x00\x00\x03\x00>\x00", 16);
  const std::vector<bad_case> cases = {
      {"syntax error", with_line(4, "encoder-ffn-embed-dim-all-subtransformer: [1024, 3072"),
       {"bad.yml:", "YAML syntax error"}},
      {"unknown key", with_extra("encoder-embed-dimm-subtransformer: 512"),
       {"bad.yml:15:", "unknown key 'encoder-embed-dimm-subtransformer'"}},
      {"text for an integer", with_line(1, "encoder-embed-dim-subtransformer: big"),
       {"bad.yml:1:", "'encoder-embed-dim-subtransformer'", "expected an integer, got 'big'"}},
      {"float for an integer", with_line(2, "decoder-embed-dim-subtransformer: 512.0"),
       {"bad.yml:2:", "'decoder-embed-dim-subtransformer'", "got '512.0'"}},
      {"list for an integer", with_line(7, "encoder-layer-num-subtransformer: [6]"),
       {"bad.yml:7:", "'encoder-layer-num-subtransformer'", "got a list"}},
      {"mapping for an integer", with_line(7, "encoder-layer-num-subtransformer: {a: 1}"),
       {"bad.yml:7:", "got a mapping"}},
      {"missing value", with_line(1, "encoder-embed-dim-subtransformer:"),
       {"bad.yml:1:", "'encoder-embed-dim-subtransformer'", "got nothing"}},
      {"integer for a list", with_line(5, "decoder-ffn-embed-dim-all-subtransformer: 3072"),
       {"bad.yml:5:", "'decoder-ffn-embed-dim-all-subtransformer'", "expected a list"}},
      {"text in a list", with_line(11, "decoder-self-attention-heads-all-subtransformer: [eight]"),
       {"bad.yml:11:", "'decoder-self-attention-heads-all-subtransformer'", "got 'eight'"}},
      {"wrong list length", with_line(5, "decoder-ffn-embed-dim-all-subtransformer: [3072, 3072]"),
       {"bad.yml:5:", "has 2 entries, expected 1", "'decoder-layer-num-subtransformer'"}},
      {"short encoder list", with_line(10, "encoder-self-attention-heads-all-subtransformer: [4, 8]"),
       {"bad.yml:10:", "has 2 entries, expected 6"}},
      {"list value outside the space",
       with_line(4, "encoder-ffn-embed-dim-all-subtransformer: [1024, 3072, 4096, 2048, 2048, 2048]"),
       {"bad.yml:4:", "entry 3: value 4096 is not in the search space {3072, 2048, 1024}"}},
      {"global value outside the space", with_line(8, "decoder-layer-num-subtransformer: 7"),
       {"bad.yml:8:", "'decoder-layer-num-subtransformer'", "value 7 is not in the search space"}},
      {"negative embed dim", with_line(1, "encoder-embed-dim-subtransformer: -640"),
       {"bad.yml:1:", "value -640"}},
      {"integer overflow", with_line(1, "encoder-embed-dim-subtransformer: 99999999999999"),
       {"bad.yml:1:", "out of range"}},
      {"duplicate key", with_extra("encoder-embed-dim-subtransformer: 640"),
       {"bad.yml:15:", "'encoder-embed-dim-subtransformer' appears twice"}},
      {"missing key", [] { auto l = good_lines; l.pop_back(); return join(l); }(),
       {"bad.yml", "missing key 'decoder-arbitrary-ende-attn-all-subtransformer'"}},
      {"empty file", "", {"bad.yml", "empty"}},
      {"only comments", "# nothing here\n\n", {"bad.yml", "empty"}},
      {"a list at the top", "- 1\n- 2\n", {"bad.yml:1", "expected a mapping"}},
      {"a scalar at the top", "hello\n", {"bad.yml:1", "expected a mapping"}},
      {"a list as a key", with_extra("[a, b]: 1"), {"bad.yml:15:", "expected a plain key"}},
      {"binary garbage with NUL bytes", garbage_with_nul, {"bad.yml", "NUL bytes"}},
      {"binary garbage without NUL bytes", "\x89PNG\r\n\x1a\n\xff\xfe\xfd: [\x80", {"bad.yml"}},
      {"bad indentation", with_line(2, "  decoder-embed-dim-subtransformer: 512"), {"bad.yml:", "YAML syntax error"}},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    try {
      (void)hat::parse_subtransformer_yaml<S>(c.text, "bad.yml");
      FAIL_CHECK("no error for: " << c.what);
    } catch (const hat::config_error& e) {
      const std::string msg = e.what();
      INFO(msg);
      for (const auto& frag : c.message_has) CHECK_THAT(msg, Catch::Contains(frag));
    }
  }
}

TEST_CASE("bad yaml: a file that does not exist is named", "[io][yaml][bad]") {
  CHECK_THROWS_WITH(hat::read_subtransformer_yaml<S>("/no/such/config.yml"),
                    Catch::Contains("/no/such/config.yml") && Catch::Contains("cannot open"));
}
