// SPDX-License-Identifier: MIT
// model_from_fairseq: a checkpoint HAT's fairseq wrote (checkpoint_utils.save_checkpoint: a dict of
// `model`, the state dict by fairseq's names, `args`, an argparse.Namespace, and training state)
// as a hat SuperTransformer, read without Python (hat/io/torch_file.hpp). HAT's SubTransformer
// checkpoints hold super-size tensors too (they were trained inside the SuperTransformer), so
// both kinds load here; the SubTransformer is then chosen by its architecture.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <hat/io/torch_file.hpp>
#include <hat/nn/named_tensors.hpp>
#include <hat/nn/super_transformer.hpp>
#include <hat/space/differences.hpp>

namespace hat {

/// The parts of a fairseq checkpoint a reader needs: the state dict and the arguments (`args`,
/// or a `cfg` dict's `model`), which may be absent (then only the tensors speak).
struct fairseq_checkpoint {
  pickle_ref state;
  std::optional<pickle_ref> args;

  explicit fairseq_checkpoint(const torch_file& f) : state(checkpoint_part_(f, "model")), args(args_(f)) {
    if (!state.is(pickle_kind::dict)) state.fail("a state dict (fairseq's checkpoint['model'])");
  }

  /// An argument, or nullopt when there are no args or it is absent or None.
  std::optional<pickle_ref> arg(const std::string& name) const {
    if (!args) return std::nullopt;
    auto v = args->find(name);
    if (v && v->is(pickle_kind::none)) return std::nullopt;
    return v;
  }

 private:
  static pickle_ref checkpoint_part_(const torch_file& f, const char* key) {
    const auto root = f.root();
    if (!root.is(pickle_kind::dict)) root.fail("fairseq's checkpoint dict (model, args, ...)");
    return root.at(key);
  }
  static std::optional<pickle_ref> args_(const torch_file& f) {
    const auto root = f.root();
    if (auto a = root.find("args"); a && !a->is(pickle_kind::none)) return a;
    if (auto cfg = root.find("cfg"); cfg && cfg->is(pickle_kind::dict))
      if (auto m = cfg->find("model"); m && !m->is(pickle_kind::none)) return m;
    return std::nullopt;
  }
};

/// A checkpoint's args as a HAT space description: YAML key `encoder-embed-choice` is argument
/// `encoder_embed_choice`. For space_differences<S>: is the checkpoint's space S?
inline space_description fairseq_space_description(const fairseq_checkpoint& ck, const std::string& file) {
  const auto attr = [](const std::string& key) {
    std::string a = key;
    std::replace(a.begin(), a.end(), '-', '_');
    return a;
  };
  const auto as_int = [](const pickle_ref& v) {
    const auto i = v.as_int();
    if (i < -(1 << 30) || i > (1 << 30)) v.fail("an integer of a space");
    return static_cast<int>(i);
  };
  space_description d;
  d.list = [=](const std::string& key) -> std::optional<std::vector<int>> {
    const auto v = ck.arg(attr(key));
    if (!v) return std::nullopt;
    std::vector<int> out;
    for (std::size_t i = 0; i < v->size(); ++i) out.push_back(as_int((*v)[i]));
    return out;
  };
  d.integer = [=](const std::string& key) -> std::optional<int> {
    const auto v = ck.arg(attr(key));
    if (!v) return std::nullopt;
    return as_int(*v);
  };
  d.keys = [=] {
    std::vector<std::string> keys;
    if (!ck.args || !ck.args->is(pickle_kind::object) || ck.args->node().state == pickle_node::no_state) return keys;
    const pickle_ref attrs(ck.args->document(), ck.args->node().state, ck.args->path());
    if (!attrs.is(pickle_kind::dict)) return keys;
    for (const auto& [k, v] : attrs.entries()) {
      std::string key = k.as_string();
      std::replace(key.begin(), key.end(), '_', '-');
      keys.push_back(key);
    }
    return keys;
  };
  d.where = [=](const std::string& key) { return file + ": " + (ck.args ? ck.args->path() : "obj") + "." + attr(key); };
  return d;
}

/// The weights of a fairseq checkpoint by fairseq's names (reading `f`, which must outlive them)
/// and its `share_all_embeddings`, when recorded. A model fairseq built otherwise than HAT's
/// SuperTransformer (pre-norm layers, another activation) is an error naming the argument.
struct fairseq_weights {
  named_tensors tensors;
  std::optional<bool> share_all;
};

inline fairseq_weights fairseq_weights_of(const torch_file& f) {
  const fairseq_checkpoint ck(f);
  const auto& name = f.name();
  for (const char* pre_norm : {"encoder_normalize_before", "decoder_normalize_before"})
    if (const auto v = ck.arg(pre_norm); v && v->as_bool())
      throw config_error(name + ": " + v->path() + " is True: a pre-norm Transformer, which HAT's SuperTransformer is not");
  if (const auto v = ck.arg("activation_fn"); v && v->as_string() != "relu")
    throw config_error(name + ": " + v->path() + " is '" + v->as_string() + "': HAT's SuperTransformer uses relu");
  fairseq_weights out;
  named_tensors& w = out.tensors;
  w.file = name;
  w.container = "obj['model']";
  const auto tensor = [&f, state = ck.state](const std::string& key) -> std::optional<pickle_ref> {
    auto t = state.find(key);
    if (t && !f.is_tensor(*t)) t->fail("a tensor");
    return t;
  };
  w.shape = [&f, tensor](const std::string& key) -> std::optional<std::vector<std::int64_t>> {
    const auto t = tensor(key);
    if (!t) return std::nullopt;
    return f.shape(*t);
  };
  w.values = [&f, tensor](const std::string& key, const std::vector<std::int64_t>& shape) { return f.to_float(*tensor(key), shape); };
  w.names = [state = ck.state] {
    std::vector<std::string> names;
    for (const auto& [k, v] : state.entries()) names.push_back(k.as_string());
    return names;
  };
  if (const auto v = ck.arg("share_all_embeddings")) out.share_all = v->as_bool();
  return out;
}

/// The SuperTransformer whose weights a fairseq checkpoint holds (fairseq_weights_of). Its maxima
/// must be M's (every tensor's shape is checked and a mismatch names the tensor and both shapes);
/// the vocabulary and embedding sharing come from the tensors and `share_all_embeddings`.
template <class M, backend_policy Backend, class T = float>
super_transformer<M, Backend, T> model_from_fairseq(Backend& be, const torch_file& f, weights_import_report* report = nullptr) {
  const auto w = fairseq_weights_of(f);
  return model_from_tensors<M, Backend, T>(be, w.tensors, w.share_all, report);
}

}  // namespace hat
