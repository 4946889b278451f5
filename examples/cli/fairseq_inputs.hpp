// SPDX-License-Identifier: MIT
// What the commands share about HAT's fairseq inputs: whether a file is a torch.save checkpoint (or
// safetensors), which of hat's spaces a checkpoint's args declare, and the languages it names.
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/data/fairseq_binarized.hpp>
#include <hat/io/torch_file.hpp>
#include <hat/nn/from_fairseq.hpp>

#include "cli_spaces.hpp"

namespace hat_cli {

/// The argument `name` of a checkpoint when it is a string ("de"), else "".
inline std::string fairseq_text_arg(const hat::fairseq_checkpoint& ck, const char* name) {
  const auto v = ck.arg(name);
  return v && (v->is(hat::pickle_kind::string) || v->is(hat::pickle_kind::bytes)) ? v->as_string() : std::string();
}

/// The language a command uses: the flag's, else the one recorded (checkpoint or args), else an
/// error saying which flag to pass.
inline std::string language_of(const std::string& flag_value, const std::string* recorded, const std::string& checkpoint,
                               const char* flag) {
  if (!flag_value.empty()) return flag_value;
  if (recorded && !recorded->empty()) return *recorded;
  throw hat::config_error(checkpoint + ": no language recorded; pass " + flag);
}

/// A torch.save file (zip or legacy pickle) rather than a hat checkpoint or safetensors file.
inline bool is_torch_save(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[4] = {};
  if (!in.read(head, sizeof head)) return false;
  return std::string(head, 4) == "PK\x03\x04" || static_cast<unsigned char>(head[0]) == 0x80;
}

/// A safetensors file: its header's length (8 bytes), then the JSON header's '{'.
inline bool is_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[9] = {};
  return in.read(head, sizeof head) && head[8] == '{';
}

/// The trainable space the checkpoint's args declare: `wanted` itself (checked), or with "auto"
/// the one every list and size of the args agrees with. Differences are printed when none does.
inline std::string fairseq_space(const hat::fairseq_checkpoint& ck, const std::string& checkpoint, const std::string& wanted) {
  if (!ck.args) {
    if (wanted == "auto")
      throw hat::config_error(checkpoint + ": the checkpoint has no args to find its space from; name one with --space");
    return wanted;
  }
  const auto d = hat::fairseq_space_description(ck, checkpoint);
  std::vector<std::string> names = wanted == "auto" ? space_names(space_role::trainable) : std::vector<std::string>{wanted};
  std::vector<std::pair<std::string, std::vector<std::string>>> tried;
  for (const auto& n : names) {
    auto diffs = with_space<space_role::trainable>(n, "--space", [&]<class S>() { return hat::space_differences<S>(d); });
    if (diffs.empty()) return n;
    tried.emplace_back(n, std::move(diffs));
  }
  std::sort(tried.begin(), tried.end(), [](const auto& a, const auto& b) { return a.second.size() < b.second.size(); });
  if (wanted == "auto")
    std::cerr << "hat: error: " << checkpoint << ": its args match no space hat knows; the closest, '" << tried[0].first
              << "', differs in " << tried[0].second.size() << ":\n";
  else
    std::cerr << "hat: error: " << checkpoint << ": its args differ from space '" << wanted << "' in "
              << tried[0].second.size() << ":\n";
  for (const auto& line : tried[0].second) std::cerr << "  " << line << "\n";
  throw exit_code{1};
}

/// `data` must be fairseq's binarized data for a command `what` on a checkpoint HAT's fairseq
/// wrote (a .pt carries no subword model).
inline void require_binarized(const std::string& data, const char* what) {
  if (!hat::is_fairseq_binarized(data))
    throw hat::config_error(data + ": a fairseq checkpoint is " + what + " on fairseq's binarized data (a folder of .idx/.bin "
                            "files and dict.<lang>.txt, as fairseq-preprocess writes it)");
}

/// For a command run straight on a checkpoint HAT's fairseq wrote: the space comes from the
/// checkpoint's args. Calls f.template operator()<S>(backend, model, space, source language,
/// target language) (languages "" when the args name none).
template <class F>
void with_fairseq_model(const std::string& checkpoint, F&& f) {
  const auto file = hat::torch_file::read(checkpoint);
  const hat::fairseq_checkpoint ck(file);
  const std::string space = fairseq_space(ck, checkpoint, "auto");
  const std::string src = fairseq_text_arg(ck, "source_lang"), tgt = fairseq_text_arg(ck, "target_lang");
  hat::cpu be;
  with_space<space_role::trainable>(space, checkpoint, [&]<class S>() {
    const auto model = hat::model_from_fairseq<hat::maxima_of<S>>(be, file);
    f.template operator()<S>(be, model, space, src, tgt);
  });
}

}  // namespace hat_cli
