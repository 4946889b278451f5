// SPDX-License-Identifier: MIT
// HAT's SuperTransformer space files checked against the predeclared compile-time spaces.
#include <catch2/catch.hpp>

#include <hat/yaml/space.hpp>
#include <hat/space/hat_spaces.hpp>
#include "shared_data.hpp"
#include "test_spaces.hpp"

TEST_CASE("space yaml: HAT's space files match the predeclared spaces exactly", "[io][space][shared]") {
  const auto root = hat_test::hat_configs();
  for (const char* task : {"wmt14.en-de", "wmt14.en-fr", "wmt19.en-de"}) {
    INFO(task);
    CHECK(hat::space_yaml_differences<hat::hat_wmt_space>(root / task / "supertransformer" / "space0.yml").empty());
  }
  CHECK(hat::space_yaml_differences<hat::hat_iwslt_space>(root / "iwslt14.de-en/supertransformer/space1.yml").empty());
  // Every latency-dataset config samples the same broader space.
  for (const char* f : {"wmt14.en-de/latency_dataset/cpu_xeon.yml", "wmt14.en-fr/latency_dataset/cpu_raspberrypi.yml",
                        "iwslt14.de-en/latency_dataset/gpu_titanxp.yml", "wmt19.en-de/latency_dataset/gpu_titanxp.yml"}) {
    INFO(f);
    CHECK(hat::space_yaml_differences<hat::hat_latency_space>(root / f).empty());
  }
}

TEST_CASE("space yaml: every difference is listed", "[io][space][shared]") {
  const auto root = hat_test::hat_configs();
  const auto d = hat::space_yaml_differences<hat::hat_wmt_space>(root / "iwslt14.de-en/supertransformer/space1.yml");
  // FFN choices x2, heads x3, super FFN x2, super heads x2.
  CHECK(d.size() == 9);
  std::string all;
  for (const auto& s : d) all += s + "\n";
  CHECK_THAT(all, Catch::Contains("space1.yml:50: dimension 'encoder_ffn_embed_dim': file [2048, 1024, 512], "
                                  "space [3072, 2048, 1024]"));
  CHECK_THAT(all, Catch::Contains("super size 'encoder-ffn-embed-dim': file 2048, space 3072"));
  CHECK_THAT(all, Catch::Contains("super size 'decoder-attention-heads': file 4, space 8"));
}

TEST_CASE("space yaml: order, missing and extra keys are differences", "[io][space]") {
  const std::string text =
      "depth-choice: [2, 3, 4]\n"           // same values, other order
      "kernel-choice: [3, 5, 7]\n"
      "width-choice: [64, 32, 16]\n"
      "stem-choice: [1, 0]\n"
      "extra-choice: [1]\n";                 // resolution-choice is missing
  const auto d = hat::space_yaml_differences<hat_test::cnn_space>(text, "s.yml");
  REQUIRE(d.size() == 3);
  CHECK_THAT(d[0], Catch::Contains("no key 'resolution-choice'"));
  CHECK_THAT(d[1], Catch::Contains("s.yml:1: dimension 'depth'") && Catch::Contains("other order"));
  CHECK_THAT(d[2], Catch::Contains("s.yml:5: key 'extra-choice' has no dimension"));
  CHECK_THROWS_WITH(hat::space_yaml_differences<hat_test::cnn_space>("depth-choice: [a]\n", "t.yml"),
                    Catch::Contains("t.yml:1") && Catch::Contains("depth-choice"));
  // A key given twice is an error naming both lines (it used to keep the first).
  CHECK_THROWS_WITH(hat::space_yaml_differences<hat_test::cnn_space>("depth-choice: [2]\nwidth-choice: [1]\ndepth-choice: [3]\n", "t.yml"),
                    Catch::Contains("t.yml:3: key 'depth-choice' appears twice (first at t.yml:1)"));
}
