// SPDX-License-Identifier: MIT
// What the commands share about HAT's fairseq inputs: whether a file is a torch.save checkpoint (or
// safetensors), which of hat's spaces a checkpoint's args declare, and the languages it names.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/data/fairseq_binarized.hpp>
#include <hat/io/torch_file.hpp>
#include <hat/nn/checkpoint.hpp>
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

/// A torch.save file (zip, or a legacy pickle: PROTO 2-5) rather than a hat checkpoint or a
/// safetensors file.
inline bool is_torch_save(const std::string& path) { return hat::is_torch_save_file(path); }

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

/// What a hat checkpoint imported from a fairseq checkpoint of `space` records (hat import, and the
/// commands run on a .pt read it the same way): its space, where it came from, fairseq's arch, the
/// languages, the position limit (the args' max_source/target_positions within the table of
/// `positions`), and that it reads text through fairseq's dictionaries.
inline hat::checkpoint_extras fairseq_state(const hat::fairseq_checkpoint& ck, const std::string& checkpoint, const std::string& space,
                                            std::size_t positions) {
  hat::checkpoint_extras x;
  x.values.emplace_back("space", space);
  x.values.emplace_back("imported_from", std::filesystem::path(checkpoint).filename().string());
  const auto text = [&](const char* arg, const char* key) {
    if (const auto v = fairseq_text_arg(ck, arg); !v.empty() && v.find_first_of(" \n") == std::string::npos) x.values.emplace_back(key, v);
  };
  text("arch", "fairseq_arch");
  text("source_lang", "source_lang");
  text("target_lang", "target_lang");
  auto limit = static_cast<std::int64_t>(positions);
  if (const auto v = ck.arg("max_source_positions")) limit = std::min(limit, v->as_int());
  if (const auto v = ck.arg("max_target_positions")) limit = std::min(limit, v->as_int());
  if (limit < 2) throw hat::config_error(checkpoint + ": max_source/target_positions below 2");
  x.values.emplace_back("max_positions", std::to_string(limit));
  x.values.emplace_back("dictionaries", "fairseq");
  return x;
}

/// The position limit a checkpoint's state records (hat train, hat import), else 1024.
inline std::size_t recorded_positions(const hat::checkpoint_extras& x) {
  const std::string* mp = x.value("max_positions");
  return mp ? std::stoul(*mp) : 1024;
}

/// For a command run straight on a checkpoint HAT's fairseq wrote: the space comes from the
/// checkpoint's args. Calls f.template operator()<S>(backend, model, state) with the state hat
/// import would record (fairseq_state): `model` may be moved from.
template <class F>
void with_fairseq_model(const std::string& checkpoint, F&& f) {
  const auto file = hat::torch_file::read(checkpoint);
  const hat::fairseq_checkpoint ck(file);
  const std::string space = fairseq_space(ck, checkpoint, "auto");
  hat::cpu be;
  with_space<space_role::trainable>(space, checkpoint, [&]<class S>() {
    using M = hat::maxima_of<S>;
    const auto state = fairseq_state(ck, checkpoint, space, M::positions);
    auto model = hat::model_from_fairseq<M>(be, file);
    f.template operator()<S>(be, model, state);
  });
}

}  // namespace hat_cli
