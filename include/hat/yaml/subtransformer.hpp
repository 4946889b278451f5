// SPDX-License-Identifier: MIT
// Read and write HAT's SubTransformer YAML (what HAT's evo_search.py writes, as in its
// configs/*/subtransformer/HAT_*.yml) for any space.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <hat/io/atomic_file.hpp>
#include <hat/io/read_file.hpp>
#include <hat/space/hat_keys.hpp>
#include <hat/yaml/read.hpp>
#include <hat/space/arch.hpp>
#include <hat/space/transformer.hpp>

namespace hat {

namespace detail {

inline std::string choices_text(const dim_info& d) {
  std::string s = "{";
  for (std::size_t i = 0; i < d.values.size(); ++i) s += (i ? ", " : "") + std::to_string(d.values[i]);
  return s + "}";
}

inline void check_choice(const dim_info& d, int v, const std::string& at, const std::string& key,
                         const std::string& entry) {
  for (int c : d.values)
    if (c == v) return;
  throw config_error(at + ": key '" + key + "'" + entry + ": value " + std::to_string(v) +
                     " is not in the search space " + choices_text(d));
}

// HAT's layout: related keys grouped, groups separated by blank lines.
template <class S>
std::vector<std::vector<std::size_t>> yaml_groups() {
  std::vector<std::vector<std::size_t>> groups;
  if constexpr (transformer_space<S>) {
    const char* layout[][3] = {
        {"encoder_embed_dim", "decoder_embed_dim", nullptr},
        {"encoder_ffn_embed_dim", "decoder_ffn_embed_dim", nullptr},
        {"encoder_layer_num", "decoder_layer_num", nullptr},
        {"encoder_self_attention_heads", "decoder_self_attention_heads", "decoder_ende_attention_heads"},
        {"decoder_arbitrary_ende_attn", nullptr, nullptr}};
    std::vector<bool> used(S::dim_count, false);
    for (const auto& g : layout) {
      groups.emplace_back();
      for (const char* n : g)
        if (n) {
          const auto i = static_cast<std::size_t>(S::find(n));
          groups.back().push_back(i);
          used[i] = true;
        }
    }
    groups.emplace_back();  // dimensions a user added to a transformer space
    for (std::size_t i = 0; i < S::dim_count; ++i)
      if (!used[i] && !S::dims[i].fixed) groups.back().push_back(i);
    if (groups.back().empty()) groups.pop_back();
  } else {
    groups.emplace_back();
    for (std::size_t i = 0; i < S::dim_count; ++i)
      if (!S::dims[i].fixed) groups.back().push_back(i);
  }
  return groups;
}

}  // namespace detail

/// Parses SubTransformer YAML text. Every searchable dimension must appear exactly once under
/// its HAT key; per-layer lists hold exactly the active layers; every value must lie in the
/// space. Genes of inactive layers are set to their dimension's largest value. Throws
/// config_error naming `file`, the line and the key.
template <class S>
arch<S> parse_subtransformer_yaml(const std::string& text, const std::string& file) {
  const YAML::Node root = detail::load_yaml_mapping(text, file);
  // optional: assigning to a yaml-cpp Node that already refers to a node rewrites that node
  std::vector<std::optional<YAML::Node>> found(S::dim_count);
  std::vector<YAML::Mark> key_marks(S::dim_count);
  std::vector<std::string> keys(S::dim_count);
  for (std::size_t i = 0; i < S::dim_count; ++i) keys[i] = subtransformer_key(S::dims[i]);

  for (auto it = root.begin(); it != root.end(); ++it) {
    if (!it->first.IsScalar())
      throw config_error(detail::where(file, it->first.Mark()) + ": expected a plain key");
    const std::string& k = it->first.Scalar();
    std::size_t i = 0;
    while (i < S::dim_count && (S::dims[i].fixed || keys[i] != k)) ++i;
    if (i == S::dim_count)
      throw config_error(detail::where(file, it->first.Mark()) + ": unknown key '" + k +
                         "' (not a dimension of this search space)");
    if (found[i]) throw config_error(detail::where(file, it->first.Mark()) + ": key '" + k + "' appears twice");
    found[i].emplace(it->second);
    key_marks[i] = it->first.Mark();
  }
  arch<S> a;
  for (int pass = 0; pass < 2; ++pass)  // global values first: they gate the list lengths
    for (std::size_t i = 0; i < S::dim_count; ++i) {
      const auto& d = S::dims[i];
      if (d.fixed || d.per_layer != (pass == 1)) continue;
      if (!found[i]) throw config_error(file + ": missing key '" + keys[i] + "'");
      const YAML::Node& node = *found[i];
      const std::string at = detail::where_value(file, node, key_marks[i]);
      if (!d.per_layer) {
        const int v = detail::yaml_int(node, file, keys[i], key_marks[i]);
        detail::check_choice(d, v, at, keys[i], "");
        a.set_value(i, 0, v);
        continue;
      }
      const auto list = detail::yaml_int_list(node, file, keys[i], key_marks[i]);
      const std::size_t want = a.active_layers(i);
      if (list.size() != want)
        throw config_error(at + ": key '" + keys[i] + "': has " + std::to_string(list.size()) +
                           " entries, expected " + std::to_string(want) +
                           (d.gate >= 0 ? " (the value of '" +
                                              subtransformer_key(S::dims[static_cast<std::size_t>(d.gate)]) + "')"
                                        : std::string(" (its layer count)")));
      for (std::size_t l = 0; l < list.size(); ++l) {
        detail::check_choice(d, list[l], at, keys[i], " entry " + std::to_string(l + 1));
        a.set_value(i, l, list[l]);
      }
    }
  if constexpr (transformer_space<S>) {
    try {
      validate_transformer(a);
    } catch (const invalid_arch& e) {
      throw config_error(file + ": " + e.what());
    }
  }
  return a;
}

/// Reads a SubTransformer YAML file (see parse_subtransformer_yaml).
template <class S>
arch<S> read_subtransformer_yaml(const std::filesystem::path& path) {
  return parse_subtransformer_yaml<S>(read_file(path), path.string());
}

/// The YAML text HAT's search writes: one key per searchable dimension, lists cut to the
/// active layers and printed as Python lists, groups separated by blank lines.
template <class S>
std::string to_subtransformer_yaml(const arch<S>& a) {
  std::string out;
  bool first_group = true;
  for (const auto& group : detail::yaml_groups<S>()) {
    if (!first_group) out += "\n";
    first_group = false;
    for (std::size_t i : group) {
      const auto& d = S::dims[i];
      out += subtransformer_key(d) + ": ";
      if (!d.per_layer) {
        out += std::to_string(a.value(i)) + "\n";
        continue;
      }
      out += "[";
      for (std::size_t l = 0, n = a.active_layers(i); l < n; ++l) out += (l ? ", " : "") + std::to_string(a.value(i, l));
      out += "]\n";
    }
  }
  return out;
}

/// Writes `to_subtransformer_yaml(a)` to `path` atomically.
template <class S>
void write_subtransformer_yaml(const arch<S>& a, const std::filesystem::path& path) {
  write_file_atomic(path, to_subtransformer_yaml(a));
}

}  // namespace hat
