// SPDX-License-Identifier: MIT
// HAT's latency CSV: the six shipped files round-trip byte for byte; bad files are named by line and column.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include <hat/io/latency_csv.hpp>
#include <hat/io/read_file.hpp>
#include "shared_data.hpp"

namespace {
const std::string header =
    "encoder_embed_dim,encoder_layer_num,encoder_ffn_embed_dim_avg,encoder_self_attention_heads_avg,"
    "decoder_embed_dim,decoder_layer_num,decoder_ffn_embed_dim_avg,decoder_self_attention_heads_avg,"
    "decoder_ende_attention_heads_avg,decoder_arbitrary_ende_attn_avg,latency_mean_encoder,latency_mean_decoder,"
    "latency_std_encoder,latency_std_decoder\n";
const std::string good_row = "640,6,1194.6666666666667,4.666666666666667,640,3,1877.3333333333333,4.0,"
                             "5.333333333333333,2.0,9.922519326210022,236.7689162492752,0.13167024810744782,12.7322462760344\n";
}  // namespace

TEST_CASE("latency csv: HAT's six datasets parse and are rewritten byte for byte", "[predictor][csv][shared]") {
  const auto dir = hat_test::shared_dir() / "reference" / "latency-datasets";
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".csv") continue;
    INFO(e.path().string());
    const auto t = hat::read_latency_csv(e.path());
    CHECK(t.rows.size() == 2000);
    CHECK(t.extra_columns.empty());
    CHECK(hat::to_latency_csv(t) == hat::read_file(e.path()));
    ++files;
  }
  CHECK(files == 6);
}

TEST_CASE("latency csv: values, totals and extra columns", "[predictor][csv]") {
  const auto t = hat::parse_latency_csv(header + good_row, "ok.csv");
  REQUIRE(t.rows.size() == 1);
  CHECK(t.rows[0].features[2] == 1194.6666666666667);
  CHECK(t.rows[0].total_ms() == 9.922519326210022 + 236.7689162492752);
  CHECK(hat::to_latency_csv(t) == header + good_row);

  std::string h2 = header;
  h2.insert(h2.size() - 1, ",encoder_ffn_layer0");
  std::string r2 = good_row;
  r2.insert(r2.size() - 1, ",3072.0");
  const auto t2 = hat::parse_latency_csv(h2 + r2, "extra.csv");
  REQUIRE(t2.extra_columns == std::vector<std::string>{"encoder_ffn_layer0"});
  CHECK(t2.rows[0].extra == std::vector<double>{3072.0});
  CHECK(hat::to_latency_csv(t2) == h2 + r2);
}

TEST_CASE("latency csv: another precision than fp32 is a last text column; fp32 writes HAT's format", "[predictor][csv]") {
  auto t = hat::parse_latency_csv(header + good_row, "ok.csv");
  CHECK(t.weights == hat::precision::fp32);
  t.weights = hat::precision::int8;
  std::string h8 = header, r8 = good_row;
  h8.insert(h8.size() - 1, ",precision");
  r8.insert(r8.size() - 1, ",int8");
  CHECK(hat::to_latency_csv(t) == h8 + r8);
  const auto back = hat::parse_latency_csv(h8 + r8 + r8, "int8.csv");
  CHECK(back.weights == hat::precision::int8);
  CHECK(back.extra_columns.empty());
  CHECK(back.rows.size() == 2);
  CHECK(back.rows[1].total_ms() == t.rows[0].total_ms());

  // The column among extras, and written as fp32 by another tool: read, and written back as HAT's.
  std::string hx = header, rx = good_row;
  hx.insert(hx.size() - 1, ",precision,gene.x");
  rx.insert(rx.size() - 1, ",fp32,7.0");
  const auto x = hat::parse_latency_csv(hx + rx, "x.csv");
  CHECK(x.weights == hat::precision::fp32);
  CHECK(x.extra_columns == std::vector<std::string>{"gene.x"});
  CHECK(x.rows[0].extra == std::vector<double>{7.0});
  std::string hg = header, rg = good_row;
  hg.insert(hg.size() - 1, ",gene.x");
  rg.insert(rg.size() - 1, ",7.0");
  CHECK(hat::to_latency_csv(x) == hg + rg);

  std::string rb = good_row;
  rb.insert(rb.size() - 1, ",bf16");
  CHECK_THROWS_WITH(hat::parse_latency_csv(h8 + r8 + rb, "mixed.csv"),
                    Catch::Contains("mixed.csv:3: column 'precision': bf16, but line 2 says int8"));
  std::string rf = good_row;
  rf.insert(rf.size() - 1, ",fp16");
  CHECK_THROWS_WITH(hat::parse_latency_csv(h8 + rf, "f.csv"),
                    Catch::Contains("f.csv:2: column 'precision'") && Catch::Contains("unknown precision 'fp16'"));
  std::string h2 = header;
  h2.insert(h2.size() - 1, ",precision,precision");
  CHECK_THROWS_WITH(hat::parse_latency_csv(h2 + r8, "two.csv"), Catch::Contains("two.csv:1: column 'precision' appears twice"));
}

TEST_CASE("latency csv: every bad file names the file, the line and the column", "[predictor][csv][bad]") {
  struct bad {
    const char* what;
    std::string text;
    std::vector<std::string> has;
  };
  std::string wrong_header = header;
  wrong_header.replace(0, 17, "encoder_embed_dimm");
  std::string text_value = good_row;
  text_value.replace(text_value.find("4.0"), 3, "four");
  std::string control = header;
  control.insert(control.size() - 1, ",g\x01");
  std::string negative = good_row;
  negative.replace(negative.find("9.922519326210022"), 17, "-9.922519326210022");
  const std::vector<bad> cases = {
      {"empty", "", {"bad.csv", "empty"}},
      {"header only", header, {"bad.csv", "no data rows"}},
      {"wrong header", wrong_header + good_row, {"bad.csv:1:", "column 1 must be 'encoder_embed_dim'"}},
      {"short header", "encoder_embed_dim,encoder_layer_num\n1,2\n", {"bad.csv:1:", "column 3"}},
      {"missing value", header + good_row + "640,6\n", {"bad.csv:3:", "expected 14 values, found 2"}},
      {"text for a number", header + text_value, {"bad.csv:2:", "'decoder_self_attention_heads_avg'", "'four'"}},
      {"empty field", header + "640,,1,1,1,1,1,1,1,1,1,1,1,1\n", {"bad.csv:2:", "'encoder_layer_num'"}},
      {"nan", header + "640,6,1,1,1,1,1,1,1,1,nan,1,1,1\n", {"bad.csv:2:", "'latency_mean_encoder'", "'nan'"}},
      {"negative latency", header + negative, {"bad.csv:2:", "cannot be negative"}},
      {"huge latency", header + "640,6,1,1,1,1,1,1,1,1,1e308,1,1,1\n", {"bad.csv:2:", "'latency_mean_encoder'", "1e308 ms is not a latency"}},
      {"huge std", header + "640,6,1,1,1,1,1,1,1,1,1,1,1,2e7\n", {"bad.csv:2:", "'latency_std_decoder'"}},
      {"huge feature", header + "6e9,6,1,1,1,1,1,1,1,1,1,1,1,1\n", {"bad.csv:2:", "'encoder_embed_dim'", "not an architecture's value"}},
      {"zero total", header + "640,6,1,1,1,1,1,1,1,1,0,0,1,1\n", {"bad.csv:2:", "add up to 0 ms"}},
      {"binary", std::string("\x89PNG\0\0\x01", 7), {"bad.csv", "NUL"}},
      {"control character in a name", control + good_row, {"bad.csv:1:", "column 15: a control character in its name"}},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    try {
      (void)hat::parse_latency_csv(c.text, "bad.csv");
      FAIL_CHECK("accepted: " << c.what);
    } catch (const hat::config_error& e) {
      for (const auto& h : c.has) CHECK_THAT(e.what(), Catch::Contains(h));
    }
  }
  CHECK_THROWS_WITH(hat::read_latency_csv("/no/such.csv"), Catch::Contains("/no/such.csv"));
}

TEST_CASE("latency csv: python_repr prints floats as Python does", "[predictor][csv]") {
  CHECK(hat::python_repr(6.0) == "6.0");
  CHECK(hat::python_repr(1962.6666666666667) == "1962.6666666666667");
  CHECK(hat::python_repr(1e-5) == "1e-05");
  CHECK(hat::python_repr(1e16) == "1e+16");
  CHECK(hat::python_repr(100000.0) == "100000.0");
  CHECK(hat::python_repr(0.0001) == "0.0001");
  CHECK(hat::python_repr(-3.25) == "-3.25");
  CHECK(hat::python_repr(2.0 / 3) == "0.6666666666666666");
  CHECK(hat::python_repr(1.2345678901234568e+17) == "1.2345678901234568e+17");
}
