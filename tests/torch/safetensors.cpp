// SPDX-License-Identifier: MIT
// hat/io/safetensors.hpp and nn/safetensors_model.hpp: the format written and read back, its
// checks against damaged files, and a SuperTransformer through it unchanged.
#include <catch2/catch.hpp>

#include <string>

#include <hat/io/safetensors.hpp>
#include <hat/io/torch_file.hpp>
#include <hat/nn/from_fairseq.hpp>
#include <hat/nn/safetensors_model.hpp>

#include "parity_fixture.hpp"
#include "shared_data.hpp"

using namespace std::string_literals;

namespace {

std::string refusal(const std::string& bytes) {
  try {
    (void)hat::safetensors_file::from_bytes(bytes, "w.safetensors");
  } catch (const hat::config_error& e) {
    return e.what();
  }
  return "(accepted)";
}

/// A file with `header` (JSON) and `data`, the header length in front.
std::string file_of(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<char>(header.size() >> (8 * i));
  return out + header + data;
}

}  // namespace

TEST_CASE("safetensors: written and read back, metadata and tensors in order", "[torch][safetensors]") {
  const std::vector<hat::safetensor> tensors{{"b", {2, 3}, {1, 2, 3, 4, 5, 6}}, {"a", {1}, {-0.5f}}, {"empty", {0, 4}, {}}};
  const auto bytes = hat::safetensors_bytes(tensors, {{"space", "wmt"}, {"format", "hat"}});
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = n << 8 | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  CHECK((8 + n) % 8 == 0);  // the data starts aligned
  CHECK(bytes.substr(8, 60).find("\"__metadata__\":{\"format\":\"hat\",\"space\":\"wmt\"}") != std::string::npos);
  const auto f = hat::safetensors_file::from_bytes(bytes, "w.safetensors");
  CHECK(f.metadata.at("space") == "wmt");
  REQUIRE(f.tensors.size() == 3);
  CHECK(f.find("b")->values == tensors[0].values);
  CHECK(f.find("b")->shape == std::vector<std::int64_t>{2, 3});
  CHECK(f.find("a")->values == std::vector<float>{-0.5f});
  CHECK(f.find("empty")->values.empty());
  for (std::size_t k = 0; k < bytes.size(); ++k) CHECK_THAT(refusal(bytes.substr(0, k)), Catch::StartsWith("w.safetensors: "));
}

TEST_CASE("safetensors: other dtypes read as float; damaged headers refused by name", "[torch][safetensors]") {
  // F16 1.0 and -2.0, BF16 0.5, F64 0.25, back to back
  const auto ok = file_of(R"({"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[],"data_offsets":[4,6]},)"
                          R"("d":{"dtype":"F64","shape":[1],"data_offsets":[6,14]}})",
                          "\x00\x3c\x00\xc0\x00\x3f"s + "\x00\x00\x00\x00\x00\x00\xd0\x3f"s);
  const auto f = hat::safetensors_file::from_bytes(ok, "w.safetensors");
  CHECK(f.find("h")->values == std::vector<float>{1.0f, -2.0f});
  CHECK(f.find("b")->values == std::vector<float>{0.5f});
  CHECK(f.find("d")->values == std::vector<float>{0.25f});
  const std::string four(4, '\0');
  CHECK_THAT(refusal(file_of(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", four)),
             Catch::Contains("tensor 'x': 4 bytes for 2 F32 elements"));
  CHECK_THAT(refusal(file_of(R"({"x":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})", four + four)), Catch::Contains("dtype I64"));
  CHECK_THAT(refusal(file_of(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", four + four)),
             Catch::Contains("4 bytes after the last tensor"));
  CHECK_THAT(refusal(file_of(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", four + four)),
             Catch::Contains("tensor 'x' does not start where the previous one ends"));
  CHECK_THAT(refusal(file_of(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"y":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", four)),
             Catch::Contains("a gap or an overlap"));
  CHECK_THAT(refusal(file_of(R"({"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", four)), Catch::Contains("not a size"));
  CHECK_THAT(refusal(file_of(R"({"__metadata__":{"a":1}})", "")), Catch::Contains("__metadata__['a'] is not a string"));
  CHECK_THAT(refusal(file_of("[1, 2]", "")), Catch::Contains("the header is not a JSON object"));
  CHECK_THAT(refusal(file_of("{\"x\": ", "")), Catch::Contains("w.safetensors: not valid JSON"));
  CHECK_THAT(refusal("\xff\xff\xff\xff\xff\xff\xff\x7f{}"s), Catch::Contains("more than the file holds"));
}

TEST_CASE("safetensors: a SuperTransformer exported and imported keeps every weight", "[torch][safetensors]") {
  hat::cpu be;
  for (const char* pt : {"tiny_shared_zip.pt", "tiny_separate_legacy.pt"}) {
    INFO(pt);
    const auto file = hat::torch_file::read(hat_test::test_data() / "torch" / pt);
    const auto model = hat::model_from_fairseq<hat_test::maxima>(be, file);
    const auto tensors = hat::model_safetensors(be, model);
    CHECK(tensors.size() == model.parameters().size() + (model.vocabulary().sharing == hat::embedding_sharing::all ? 1 : 0));
    const auto back = hat::safetensors_file::from_bytes(hat::safetensors_bytes(tensors, {{"sharing", hat::sharing_name(model.vocabulary().sharing)}}), "m");
    hat::weights_import_report report;
    const auto again = hat::model_from_safetensors<hat_test::maxima>(be, back, "m", &report);
    CHECK(report.vocab.sharing == model.vocabulary().sharing);
    for (const auto& p : model.parameters()) CHECK(again.parameter_values(be, p.name) == model.parameter_values(be, p.name));
  }
  // a tensor of another shape is named with both shapes
  const auto bad = hat::safetensors_file::from_bytes(hat::safetensors_bytes({{"encoder.embed_tokens.weight", {24, 16}, std::vector<float>(384)},
                                                                              {"encoder.layers.0.self_attn.in_proj_weight", {24, 8}, std::vector<float>(192)}},
                                                                             {}),
                                                     "m");
  CHECK_THROWS_WITH(hat::model_from_safetensors<hat_test::maxima>(be, bad, "m.safetensors"),
                    Catch::Contains("m.safetensors: tensor 'encoder.layers.0.self_attn.in_proj_weight' has shape [24, 8], expected [24, 16]"));
}
