// SPDX-License-Identifier: MIT
// hat/nn/from_fairseq.hpp: fairseq checkpoints of the parity fixtures' tiny SuperTransformers
// (tests/reference/make_torch_fixtures.py, both torch.save formats) give PyTorch's logits
// (tests/data/parity_*.txt, the same weights); their args are checked against space types.
#include <catch2/catch.hpp>

#include <string>

#include <hat/io/torch_file.hpp>
#include <hat/nn/from_fairseq.hpp>
#include <hat/space/hat_spaces.hpp>

#include "parity_fixture.hpp"
#include "shared_data.hpp"

namespace {

hat::torch_file fixture_file(const std::string& name) { return hat::torch_file::read(hat_test::test_data() / "torch" / name); }

/// The space the tiny fixtures' args declare.
using tiny_args_space = hat::space<
    hat::choice<"encoder_embed_dim", 16, 12, 8>, hat::choice<"encoder_layer_num", 3>,
    hat::per_layer<3, hat::choice<"encoder_ffn_embed_dim", 32, 16, 8>>,
    hat::per_layer<3, hat::choice<"encoder_self_attention_heads", 4, 2>>, hat::choice<"decoder_embed_dim", 16, 12, 8>,
    hat::choice<"decoder_layer_num", 3, 2, 1>, hat::per_layer<3, hat::choice<"decoder_ffn_embed_dim", 24, 16, 12, 8>>,
    hat::per_layer<3, hat::choice<"decoder_self_attention_heads", 4, 2>>,
    hat::per_layer<3, hat::choice<"decoder_ende_attention_heads", 4, 2>>,
    hat::per_layer<3, hat::choice<"decoder_arbitrary_ende_attn", -1, 1, 2>>, hat::fixed<"qkv_dim", 8>>;

void check_logits(const std::string& pt, const std::string& parity, hat::embedding_sharing sharing) {
  hat::cpu be;
  const auto f = fixture_file(pt);
  hat::weights_import_report report;
  const auto model = hat::model_from_fairseq<hat_test::maxima>(be, f, &report);
  CHECK(report.vocab.sharing == sharing);
  const auto fx = hat_test::load(parity);
  CHECK(report.vocab.source == fx.vocab.source);
  CHECK(report.vocab.target == fx.vocab.target);
  for (const auto& c : fx.cases) {
    INFO(pt << ": " << c.name);
    CHECK(hat_test::worst_logit_error(be, model, fx, c) <= 1e-4);
  }
}

}  // namespace

TEST_CASE("model_from_fairseq: imported weights give PyTorch's logits, both formats and sharings", "[torch][fairseq]") {
  check_logits("tiny_shared_zip.pt", "parity_shared.txt", hat::embedding_sharing::all);
  check_logits("tiny_shared_legacy.pt", "parity_shared.txt", hat::embedding_sharing::all);
  check_logits("tiny_separate_legacy.pt", "parity_separate.txt", hat::embedding_sharing::none);
}

TEST_CASE("model_from_fairseq: the checkpoint's space, matched or reported precisely", "[torch][fairseq]") {
  const auto f = fixture_file("tiny_shared_legacy.pt");
  const hat::fairseq_checkpoint ck(f);
  const auto d = hat::fairseq_space_description(ck, "tiny.pt");
  CHECK(hat::space_differences<tiny_args_space>(d).empty());
  const auto diffs = hat::space_differences<hat::hat_wmt_space>(d);
  REQUIRE(diffs.size() == 18);  // 9 of the 10 choice lists (arbitrary attention agrees) + 9 super sizes
  CHECK_THAT(diffs[0], Catch::Contains("tiny.pt: obj['args'].encoder_embed_choice: dimension 'encoder_embed_dim': file [16, 12, 8], space [640, 512]"));
  CHECK_THAT(diffs.back(), Catch::Contains("obj['args'].qkv_dim: super size 'qkv-dim': file 8, space 512"));
}

TEST_CASE("model_from_fairseq: a checkpoint of other sizes or another model is refused by name", "[torch][fairseq]") {
  hat::cpu be;
  const auto f = fixture_file("tiny_shared_zip.pt");
  using wider = hat::transformer_maxima<16, 64, 24, 8, 3, 3>;
  CHECK_THROWS_WITH(hat::model_from_fairseq<wider>(be, f),
                    Catch::Contains("obj['model']['encoder.layers.0.fc1.weight'] is a tensor of shape [32, 16] float32, expected [64, 16]"));
  using deeper = hat::transformer_maxima<16, 32, 24, 8, 4, 3>;
  CHECK_THROWS_WITH(hat::model_from_fairseq<deeper>(be, f), Catch::Contains("obj['model'] has no 'encoder.layers.3.self_attn.in_proj_weight'"));
  using shallower = hat::transformer_maxima<16, 32, 24, 8, 2, 3>;
  CHECK_THROWS_WITH(hat::model_from_fairseq<shallower>(be, f),
                    Catch::Contains("holds 'encoder.layers.2.self_attn.in_proj_weight', which HAT's SuperTransformer does not have"));
  const auto tensors = fixture_file("tensors_zip.pt");
  CHECK_THROWS_WITH(hat::model_from_fairseq<hat_test::maxima>(be, tensors), Catch::Contains("obj has no 'model'"));
}
