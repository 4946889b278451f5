// SPDX-License-Identifier: MIT
// Compare HAT's SuperTransformer space files (`space0.yml`, latency-dataset configs) with a space type.
#pragma once

#include <algorithm>  // std::sort, std::find
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include <hat/io/read_file.hpp>
#include <hat/yaml/keys.hpp>
#include <hat/yaml/read.hpp>
#include <hat/space/transformer.hpp>

namespace hat {

namespace detail {
inline std::string list_text(const std::vector<int>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}
}  // namespace detail

/// Every difference between the `*-choice` lists (and, for a transformer space, the super
/// sizes `encoder-embed-dim`, `encoder-ffn-embed-dim`, `encoder-layers`,
/// `encoder-attention-heads`, their decoder twins and `qkv-dim`) of a HAT space file and the
/// space `S`, one readable line each; empty when they agree. A list with the same values in
/// another order is a difference too: the order fixes the gene choice lists. Throws
/// config_error for files that are not YAML mappings or hold non-integer values.
template <class S>
std::vector<std::string> space_yaml_differences(const std::string& text, const std::string& file) {
  const YAML::Node root = detail::load_yaml_mapping(text, file);
  std::vector<std::string> diffs;
  std::vector<std::string> expected_keys;
  for (const auto& d : S::dims) {
    if (d.fixed) continue;
    const std::string key = choice_key(d);
    expected_keys.push_back(key);
    const YAML::Node n = root[key];
    const std::vector<int> want(d.values.begin(), d.values.end());
    if (!n) {
      diffs.push_back("dimension '" + std::string(d.name) + "': the file has no key '" + key + "' (space: " +
                      detail::list_text(want) + ")");
      continue;
    }
    const auto got = detail::yaml_int_list(n, file, key);
    if (got == want) continue;
    auto gs = got, ws = want;
    std::sort(gs.begin(), gs.end());
    std::sort(ws.begin(), ws.end());
    diffs.push_back(detail::where(file, n.Mark()) + ": dimension '" + std::string(d.name) + "': file " +
                    detail::list_text(got) + ", space " + detail::list_text(want) +
                    (gs == ws ? " (same values, other order: gene choice lists differ)" : ""));
  }
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string k = it->first.Scalar();
    if (k.ends_with("-choice") && std::find(expected_keys.begin(), expected_keys.end(), k) == expected_keys.end())
      diffs.push_back(detail::where(file, it->first.Mark()) + ": key '" + k + "' has no dimension in the space");
  }
  if constexpr (transformer_space<S>) {
    const auto super = [&](const char* key, int want) {
      const YAML::Node n = root[key];
      if (!n) {
        diffs.push_back("super size: the file has no key '" + std::string(key) + "' (space: " +
                        std::to_string(want) + ")");
        return;
      }
      const int got = detail::yaml_int(n, file, key);
      if (got != want)
        diffs.push_back(detail::where(file, n.Mark()) + ": super size '" + key + "': file " + std::to_string(got) +
                        ", space " + std::to_string(want));
    };
    super("encoder-embed-dim", S::template max<"encoder_embed_dim">());
    super("decoder-embed-dim", S::template max<"decoder_embed_dim">());
    super("encoder-ffn-embed-dim", S::template max<"encoder_ffn_embed_dim">());
    super("decoder-ffn-embed-dim", S::template max<"decoder_ffn_embed_dim">());
    super("encoder-layers", S::template max<"encoder_layer_num">());
    super("decoder-layers", S::template max<"decoder_layer_num">());
    super("encoder-attention-heads", S::template max<"encoder_self_attention_heads">());
    super("decoder-attention-heads",
          std::max(S::template max<"decoder_self_attention_heads">(), S::template max<"decoder_ende_attention_heads">()));
    super("qkv-dim", S::template max<"qkv_dim">());
  }
  return diffs;
}

template <class S>
std::vector<std::string> space_yaml_differences(const std::filesystem::path& path) {
  return space_yaml_differences<S>(read_file(path), path.string());
}

}  // namespace hat
