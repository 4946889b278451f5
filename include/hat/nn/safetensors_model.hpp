// SPDX-License-Identifier: MIT
// A SuperTransformer's (or an exported dense SubTransformer's) weights as safetensors, by fairseq's
// names in PyTorch's layout, so a PyTorch user loads them with `safetensors.torch.load_file` and
// `load_state_dict`; and a SuperTransformer read back from such a file.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <hat/io/safetensors.hpp>
#include <hat/nn/named_tensors.hpp>
#include <hat/nn/super_transformer.hpp>

namespace hat {

/// Every parameter of `model` as a float32 tensor named as fairseq names it. With one shared
/// table (embedding_sharing::all) it is written under both `encoder.embed_tokens.weight` and
/// `decoder.embed_tokens.weight`, as fairseq's state dict lists it (safetensors holds no aliases).
template <class M, backend_policy Backend, class T>
std::vector<safetensor> model_safetensors(Backend& be, const super_transformer<M, Backend, T>& model) {
  std::vector<safetensor> out;
  for (const auto& p : model.parameters()) {
    const auto v = model.parameter_values(be, p.name);
    out.push_back({p.name, std::vector<std::int64_t>(p.shape.begin(), p.shape.end()), std::vector<float>(v.begin(), v.end())});
    if (p.name == "encoder.embed_tokens.weight" && model.vocabulary().sharing == embedding_sharing::all) {
      out.push_back(out.back());
      out.back().name = "decoder.embed_tokens.weight";
    }
  }
  return out;
}

/// A SuperTransformer of maxima M from a safetensors file of fairseq-named tensors (hat's export,
/// or a state dict a PyTorch user saved); the `sharing` metadata, when present, says how the
/// tables are shared.
template <class M, backend_policy Backend, class T = float>
super_transformer<M, Backend, T> model_from_safetensors(Backend& be, const safetensors_file& f, const std::string& file,
                                                        weights_import_report* report = nullptr) {
  named_tensors w;
  w.file = file;
  w.container = "the file";
  w.subscript = false;
  w.shape = [&f](const std::string& key) -> std::optional<std::vector<std::int64_t>> {
    const auto* t = f.find(key);
    if (!t) return std::nullopt;
    return t->shape;
  };
  w.values = [&f, file](const std::string& key, const std::vector<std::int64_t>& shape) {
    const auto* t = f.find(key);
    if (t->shape != shape) {
      const auto text = [](const std::vector<std::int64_t>& s) {
        std::string r = "[";
        for (std::size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
        return r + "]";
      };
      throw config_error(file + ": tensor '" + key + "' has shape " + text(t->shape) + ", expected " + text(shape));
    }
    return t->values;
  };
  w.names = [&f] {
    std::vector<std::string> n;
    for (const auto& t : f.tensors) n.push_back(t.name);
    return n;
  };
  std::optional<bool> share_all;
  if (const auto it = f.metadata.find("sharing"); it != f.metadata.end()) share_all = it->second == "all";
  return model_from_tensors<M, Backend, T>(be, w, share_all, report);
}

}  // namespace hat
