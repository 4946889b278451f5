// SPDX-License-Identifier: MIT
// model_from_tensors: a SuperTransformer from any file of tensors named as fairseq names them (a
// fairseq checkpoint's state dict, nn/from_fairseq.hpp; a safetensors file, nn/safetensors_model.hpp):
// the vocabulary and embedding sharing found, every tensor's name and shape checked.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <hat/config.hpp>
#include <hat/nn/super_transformer.hpp>

namespace hat {

/// What a weights file offers, by fairseq's tensor names.
struct named_tensors {
  std::string file;       // for errors
  std::string container;  // how errors name the mapping: "obj['model']", "the file"
  bool subscript = true;  // a tensor is named container['x'] (a pickled dict) or tensor 'x' (safetensors)
  /// The shape of `name`, or nullopt when the file has no such tensor.
  std::function<std::optional<std::vector<std::int64_t>>(const std::string& name)> shape;
  /// The values of `name` (row-major float), which must have `shape` (an error names both otherwise).
  std::function<std::vector<float>(const std::string& name, const std::vector<std::int64_t>& shape)> values;
  /// Every name, in the file's order.
  std::function<std::vector<std::string>()> names;
};

/// What an import found besides the weights.
struct weights_import_report {
  vocabulary_sizes vocab;
  std::vector<std::string> skipped;  // buffers with no weights (positions, versions) and shared duplicates
};

/// The SuperTransformer of maxima M whose weights `w` holds. The tables decide the vocabulary:
/// `decoder.embed_out` means three (HAT's IWSLT); else `share_all` (when known) says whether
/// `decoder.embed_tokens.weight` is the source table again, and without it equal tables are one.
template <class M, backend_policy Backend, class T = float>
super_transformer<M, Backend, T> model_from_tensors(Backend& be, const named_tensors& w, std::optional<bool> share_all,
                                                    weights_import_report* report = nullptr) {
  const auto& name = w.file;
  const auto at = [&](const std::string& key) { return w.subscript ? w.container + "['" + key + "']" : "tensor '" + key + "'"; };
  const auto rows = [&](const std::string& key) {
    const auto s = w.shape(key);
    if (!s || s->size() != 2 || (*s)[0] <= 0)
      throw config_error(name + ": " + at(key) + " is not a [vocabulary, width] table");
    return static_cast<std::size_t>((*s)[0]);
  };
  const auto whole = [&](const std::string& key) { return w.values(key, *w.shape(key)); };
  const std::string src = "encoder.embed_tokens.weight", tgt = "decoder.embed_tokens.weight", out = "decoder.embed_out";
  if (!w.shape(src)) throw config_error(name + ": " + w.container + " has no '" + src + "': not a fairseq Transformer's weights");
  const bool has_tgt = w.shape(tgt).has_value(), has_out = w.shape(out).has_value();
  std::optional<bool> equal_tables;  // read and compared once: the tables are the biggest tensors
  const auto tables_equal = [&] {
    if (!equal_tables) equal_tables = whole(tgt) == whole(src);
    return *equal_tables;
  };
  vocabulary_sizes v{rows(src), rows(src), embedding_sharing::all};
  if (has_out) {
    v.sharing = embedding_sharing::none;
    v.target = rows(out);
    if (!has_tgt) throw config_error(name + ": " + w.container + " has '" + out + "' but no '" + tgt + "'");
    if (rows(tgt) != v.target)
      throw config_error(name + ": the target table has " + std::to_string(rows(tgt)) + " rows and embed_out " + std::to_string(v.target));
  } else if (has_tgt) {
    if (share_all ? !*share_all : !tables_equal()) {
      v.sharing = embedding_sharing::decoder;
      v.target = rows(tgt);
    }
  } else if (share_all && !*share_all) {
    throw config_error(name + ": the embeddings are not shared, but " + w.container + " has no '" + tgt + "'");
  }

  super_transformer<M, Backend, T> model(be, v);
  std::vector<std::string> used;
  for (const auto& p : model.parameters()) {
    if (!w.shape(p.name))
      throw config_error(name + ": " + w.container + " has no '" + p.name + "' (this model's " + std::to_string(p.shape.size()) + "-d tensor)");
    const auto values = w.values(p.name, std::vector<std::int64_t>(p.shape.begin(), p.shape.end()));
    for (float x : values)
      if (!std::isfinite(x)) throw config_error(name + ": " + at(p.name) + " holds a value that is not a finite number");
    model.set_parameter(be, p.name, values);
    used.push_back(p.name);
  }
  weights_import_report r{v, {}};
  for (const auto& key : w.names()) {
    if (std::find(used.begin(), used.end(), key) != used.end()) continue;
    const bool buffer = key.ends_with(".embed_positions._float_tensor") || key == "encoder.version" || key == "decoder.version";
    const bool shared_copy = key == tgt && v.sharing == embedding_sharing::all;
    if (shared_copy && !tables_equal())
      throw config_error(name + ": the embeddings are shared, yet '" + tgt + "' differs from '" + src + "'");
    if (!buffer && !shared_copy)
      throw config_error(name + ": " + w.container + " holds '" + key + "', which HAT's SuperTransformer does not have (" +
                         (key.find("layer_norm.") != std::string::npos && key.find("layers.") == std::string::npos
                              ? "a final LayerNorm: a pre-norm model?"
                              : "another architecture?") +
                         ")");
    r.skipped.push_back(key);
  }
  if (report) *report = std::move(r);
  return model;
}

}  // namespace hat
