// SPDX-License-Identifier: MIT
// space_differences: every way a HAT space description (a space YAML file, yaml/space.hpp; a
// checkpoint's args, nn/from_fairseq.hpp) differs from a space type, one readable line each.
#pragma once

#include <algorithm>  // std::sort, std::find
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <hat/space/hat_keys.hpp>
#include <hat/space/transformer.hpp>

namespace hat {

namespace detail {
inline std::string list_text(const std::vector<int>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}
}  // namespace detail

/// What a description of a HAT space offers for comparison with a space type: a HAT space YAML
/// file, or the `args` of a fairseq checkpoint (hat/nn/from_fairseq.hpp). Keys are HAT's YAML keys
/// (`encoder-embed-choice`, `encoder-embed-dim`, ...).
struct space_description {
  /// The integer list under `key`, or nullopt when absent (a value that is not one throws).
  std::function<std::optional<std::vector<int>>(const std::string& key)> list;
  /// The integer under `key`, or nullopt when absent.
  std::function<std::optional<int>(const std::string& key)> integer;
  /// Every key the description holds (in YAML form), to find `*-choice` lists the space lacks.
  std::function<std::vector<std::string>()> keys;
  /// Where `key` is, for messages: "space0.yml:4:1" or "HAT.pt: args.encoder_embed_choice".
  std::function<std::string(const std::string& key)> where;
};

/// Every difference between the `*-choice` lists (and, for a transformer space, the super
/// sizes `encoder-embed-dim`, `encoder-ffn-embed-dim`, `encoder-layers`,
/// `encoder-attention-heads`, their decoder twins and `qkv-dim`) of a HAT space description and
/// the space `S`, one readable line each; empty when they agree. A list with the same values in
/// another order is a difference too: the order fixes the gene choice lists.
template <class S>
std::vector<std::string> space_differences(const space_description& d) {
  std::vector<std::string> diffs;
  std::vector<std::string> expected_keys;
  for (const auto& dim : S::dims) {
    if (dim.fixed) continue;
    const std::string key = choice_key(dim);
    expected_keys.push_back(key);
    const std::vector<int> want(dim.values.begin(), dim.values.end());
    const auto got = d.list(key);
    if (!got) {
      diffs.push_back("dimension '" + std::string(dim.name) + "': the file has no key '" + key + "' (space: " +
                      detail::list_text(want) + ")");
      continue;
    }
    if (*got == want) continue;
    auto gs = *got, ws = want;
    std::sort(gs.begin(), gs.end());
    std::sort(ws.begin(), ws.end());
    diffs.push_back(d.where(key) + ": dimension '" + std::string(dim.name) + "': file " + detail::list_text(*got) +
                    ", space " + detail::list_text(want) +
                    (gs == ws ? " (same values, other order: gene choice lists differ)" : ""));
  }
  for (const auto& k : d.keys())
    if (k.ends_with("-choice") && std::find(expected_keys.begin(), expected_keys.end(), k) == expected_keys.end())
      diffs.push_back(d.where(k) + ": key '" + k + "' has no dimension in the space");
  if constexpr (transformer_space<S>) {
    const auto super = [&](const char* key, int want) {
      const auto got = d.integer(key);
      if (!got)
        diffs.push_back("super size: the file has no key '" + std::string(key) + "' (space: " + std::to_string(want) + ")");
      else if (*got != want)
        diffs.push_back(d.where(key) + ": super size '" + key + "': file " + std::to_string(*got) + ", space " +
                        std::to_string(want));
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

}  // namespace hat
