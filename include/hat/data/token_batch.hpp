// SPDX-License-Identifier: MIT
// token_batch: sentences of token ids padded into one row-major block, fairseq's way.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include <hat/config.hpp>

namespace hat {

/// fairseq's special symbols (its Dictionary): <s> = 0, <pad> = 1, </s> = 2, <unk> = 3.
struct special_tokens {
  static constexpr int bos = 0;
  static constexpr int pad = 1;
  static constexpr int eos = 2;
  static constexpr int unk = 3;
};

/// `rows` sentences of up to `cols` tokens, row-major [rows, cols], padded with <pad>.
struct token_batch {
  std::vector<int> tokens;  // [rows, cols]
  std::size_t rows = 0;
  std::size_t cols = 0;

  int at(std::size_t r, std::size_t c) const { return tokens[r * cols + c]; }
  std::span<const int> row(std::size_t r) const { return std::span<const int>(tokens).subspan(r * cols, cols); }
  bool has_padding() const noexcept {
    for (int t : tokens)
      if (t == special_tokens::pad) return true;
    return false;
  }
  /// Non-padding tokens in row r.
  std::size_t length(std::size_t r) const {
    std::size_t n = 0;
    for (int t : row(r)) n += t != special_tokens::pad;
    return n;
  }

  /// Pads sentences to the longest: sources on the left (fairseq's left_pad_source), targets
  /// on the right.
  static token_batch pad(const std::vector<std::vector<int>>& sentences, bool left) {
    token_batch b;
    b.rows = sentences.size();
    for (const auto& s : sentences) b.cols = s.size() > b.cols ? s.size() : b.cols;
    HAT_ASSERT(b.rows > 0 && b.cols > 0, "token_batch::pad: no tokens");
    b.tokens.assign(b.rows * b.cols, special_tokens::pad);
    for (std::size_t r = 0; r < b.rows; ++r) {
      const std::size_t off = left ? b.cols - sentences[r].size() : 0;
      for (std::size_t c = 0; c < sentences[r].size(); ++c) b.tokens[r * b.cols + off + c] = sentences[r][c];
    }
    return b;
  }

  /// fairseq's prev_output_tokens for teacher forcing: each right-padded target with its final
  /// </s> moved to the front ([a b c </s>] -> [</s> a b c]).
  token_batch shifted_right() const {
    token_batch p{std::vector<int>(tokens.size(), special_tokens::pad), rows, cols};
    for (std::size_t r = 0; r < rows; ++r) {
      const std::size_t n = length(r);
      if (n == 0) continue;
      p.tokens[r * cols] = tokens[r * cols + n - 1];
      for (std::size_t c = 1; c < n; ++c) p.tokens[r * cols + c] = tokens[r * cols + c - 1];
    }
    return p;
  }
};

}  // namespace hat
