// SPDX-License-Identifier: MIT
// test_binarized (HAT's test.sh on fairseq's binarized data): the split read with its dictionaries,
// translated by ids, hypotheses and references turned back into text with the BPE removed, scored.
#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/eval/fairseq_bleu.hpp>
#include <hat/pipeline/test_step.hpp>

#include "shared_data.hpp"
#include "test_spaces.hpp"

TEST_CASE("test_binarized: ids in, text out, references restored exactly, BLEU of what was written", "[train][fairseq]") {
  hat::cpu be;
  const auto dir = hat_test::test_data() / "fairseq";
  const auto split = hat::read_fairseq_split(dir, "test", "de", "en");
  using model_t = hat::super_transformer_for<hat_test::tiny_transformer, hat::cpu>;
  model_t model(be, {split.source_dict.size(), split.target_dict.size(), hat::embedding_sharing::decoder});
  model.init_hat(be, 3);
  hat::binarized_test_inputs in;
  in.data = dir.string();
  in.source_lang = "de";
  in.target_lang = "en";
  in.translate.generation.beam = 2;
  in.translate.generation.max_len_b = 8;
  const auto a = hat::represent_largest<hat_test::tiny_transformer>();
  const auto r = hat::test_binarized(be, model, a, in);
  REQUIRE(r.sentences == 40);
  // the references are the English lines before BPE (bpe.in lines 21-40 are test sentences 0-19)
  std::ifstream raw(dir / "bpe.in");
  std::vector<std::string> lines;
  for (std::string l; std::getline(raw, l);) lines.push_back(l);
  std::vector<std::string> refs;
  for (std::size_t i = 0; i < 40; ++i) refs.push_back(split.target_dict.string(split.corpus.target[i], "@@ "));
  for (std::size_t i = 0; i < 20; ++i) CHECK(refs[i] == lines[20 + i]);
  for (const auto& h : r.hypotheses) CHECK(h.find("@@") == std::string::npos);
  CHECK(r.tokenized.score == hat::fairseq_bleu(r.hypotheses, refs).score);

  // a dictionary that does not match the model's table is named
  model_t wrong(be, {split.source_dict.size() + 1, split.target_dict.size(), hat::embedding_sharing::decoder});
  CHECK_THROWS_WITH(hat::test_binarized(be, wrong, a, in), Catch::Contains("dict.de.txt: ") && Catch::Contains("the model's source table has"));
}
