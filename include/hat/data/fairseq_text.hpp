// SPDX-License-Identifier: MIT
// fairseq_text: text in and out of a model HAT's fairseq trained, as fairseq-interactive reads and
// writes it with `--bpe subword_nmt`: the source line segmented by the BPE codes (apply_bpe.py's
// process_line), looked up in the source dictionary with </s> appended; the hypothesis written by
// the target dictionary with the BPE continuations removed. Tokenization (Moses, say) stays the
// caller's: the line must be tokenized as the training data was.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <hat/data/fairseq_dictionary.hpp>
#include <hat/data/subword_nmt.hpp>

namespace hat {

struct fairseq_text {
  fairseq_dictionary source, target;
  std::optional<subword_nmt_bpe> bpe;  // none: the input is segmented already
  std::string remove_bpe = "@@ ";      // fairseq's --remove-bpe (empty: kept)

  /// The ids of a source line ending in </s>; a line of only whitespace gives none (no sentence).
  std::vector<int> encode(std::string_view line) const {
    if (line.find_first_not_of(" \t\r\n") == std::string_view::npos) return {};
    return source.encode_line(bpe ? bpe->process_line(line) : std::string(line));
  }
  /// A hypothesis as text (</s> left out).
  std::string decode(std::span<const int> ids) const { return target.string(ids, remove_bpe); }
};

}  // namespace hat
