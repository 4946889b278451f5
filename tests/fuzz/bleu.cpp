// SPDX-License-Identifier: MIT
// Fuzzes BLEU, chrF and the tokenizers on any text: hypotheses and references as the lines of the
// input, split where the first NUL byte (or the middle) falls.
#include <string>
#include <vector>

#include <hat/eval/bleu.hpp>
#include <hat/eval/chrf.hpp>
#include <hat/eval/fairseq_bleu.hpp>
#include <hat/eval/tokenize.hpp>

#include "harness.hpp"

namespace {
std::vector<std::string> lines(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i)
    if (i == text.size() || text[i] == '\n') out.emplace_back(text.substr(start, i - start)), start = i + 1;
  return out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view all = hat_fuzz::bytes(data, size);
  const std::size_t cut = all.find('\0') != std::string_view::npos ? all.find('\0') : all.size() / 2;
  auto hyps = lines(all.substr(0, cut)), refs = lines(all.substr(cut < all.size() ? cut + 1 : cut));
  hyps.resize(refs.size());
  hat_fuzz::expect_refusal_or_value([&] {
    (void)hat::corpus_bleu(hyps, {refs});
    (void)hat::corpus_chrf(hyps, {refs});
    (void)hat::fairseq_bleu(hyps, refs);
    for (const auto& h : hyps) (void)hat::tokenize_13a(h);
  });
  return 0;
}
