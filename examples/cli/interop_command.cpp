// SPDX-License-Identifier: MIT
// `hat import` / `hat export`: checkpoints HAT's fairseq wrote (torch.save .pt files, either format)
// and safetensors files as hat checkpoints, and hat checkpoints as safetensors for PyTorch users.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/io/safetensors.hpp>
#include <hat/io/same_file.hpp>
#include <hat/io/torch_file.hpp>
#include <hat/nn/checkpoint.hpp>
#include <hat/nn/dense_export.hpp>
#include <hat/nn/from_fairseq.hpp>
#include <hat/nn/safetensors_model.hpp>
#include <hat/yaml/subtransformer.hpp>

#include "commands.hpp"
#include "fairseq_inputs.hpp"
#include "json_output.hpp"

namespace hat_cli {
namespace {

struct import_options {
  std::string checkpoint, out, space = "auto";
  bool json = false;
};
struct export_options {
  std::string checkpoint, out, arch, format = "safetensors";
};

void report_import(const import_options& o, const std::string& space, const char* format, const hat::weights_import_report& r) {
  if (o.json) {
    print_json({{"out", o.out}, {"space", space}, {"format", format}, {"source_vocabulary", r.vocab.source},
                {"target_vocabulary", r.vocab.target}, {"sharing", hat::sharing_name(r.vocab.sharing)}, {"skipped", r.skipped}});
  } else {
    std::printf("imported %s (%s, space %s, vocabulary %zu/%zu, sharing %s) -> %s\n", o.checkpoint.c_str(), format, space.c_str(),
                r.vocab.source, r.vocab.target, hat::sharing_name(r.vocab.sharing), o.out.c_str());
  }
}

/// A safetensors file: hat's own export (its metadata names the space) or fairseq-named tensors
/// of the space --space names.
void import_safetensors(const import_options& o) {
  const auto f = hat::safetensors_file::read(o.checkpoint);
  std::string space = o.space;
  if (const auto it = f.metadata.find("space"); it != f.metadata.end()) {
    if (space != "auto" && space != it->second)
      throw hat::config_error(o.checkpoint + ": its metadata says space '" + it->second + "', not '" + space + "'");
    space = it->second;
  }
  if (space == "auto") throw hat::config_error(o.checkpoint + ": no space in its metadata; name one with --space");
  if (const auto it = f.metadata.find("storage"); it != f.metadata.end() && it->second != "super")
    throw hat::config_error(o.checkpoint + ": a dense SubTransformer export; hat import reads SuperTransformers");
  hat::cpu be;
  with_space<space_role::trainable>(space, o.checkpoint + ": space", [&]<class S>() {
    hat::weights_import_report report;
    const auto model = hat::model_from_safetensors<hat::maxima_of<S>>(be, f, o.checkpoint, &report);
    hat::checkpoint_extras x;
    x.values.emplace_back("space", space);
    x.values.emplace_back("imported_from", std::filesystem::path(o.checkpoint).filename().string());
    // what hat's export recorded about the text; a training run's own state (its position, its
    // optimiser) is not in the file, so none of it is restored
    for (const char* key : {"source_lang", "target_lang", "max_positions", "valid_split", "subwords", "subwords_size",
                            "subwords_fnv1a", "fairseq_arch", "dictionaries", "source_dict_fnv1a", "target_dict_fnv1a"})
      if (const auto it = f.metadata.find(std::string("state.") + key);
          it != f.metadata.end() && !it->second.empty() && it->second.find_first_of(" \n") == std::string::npos)
        x.values.emplace_back(key, it->second);
    hat::save_checkpoint(be, model, o.out, x);
    report_import(o, space, "safetensors", report);
  });
}

void run_import(const import_options& o) {
  hat::refuse_to_overwrite(o.out, "--out", {o.checkpoint});
  if (is_safetensors(o.checkpoint)) return import_safetensors(o);
  const auto file = hat::torch_file::read(o.checkpoint);
  const hat::fairseq_checkpoint ck(file);
  const std::string space = fairseq_space(ck, o.checkpoint, o.space);
  hat::cpu be;
  with_space<space_role::trainable>(space, "--space", [&]<class S>() {
    using M = hat::maxima_of<S>;
    hat::weights_import_report report;
    const auto x = fairseq_state(ck, o.checkpoint, space, M::positions);
    const auto model = hat::model_from_fairseq<M>(be, file, &report);
    hat::save_checkpoint(be, model, o.out, x);
    report_import(o, space, file.legacy() ? "legacy torch.save" : "zip torch.save", report);
  });
}

/// `model` of space S as safetensors: the SuperTransformer, or with --arch the dense
/// SubTransformer that architecture reads. The metadata records the space, the storage, the
/// architecture and the checkpoint's state (languages, positions, subword model), so `hat import`
/// restores them.
template <class S, class Model>
void export_model(hat::cpu& be, const export_options& o, const Model& model, const std::string& space,
                  const std::vector<std::pair<std::string, std::string>>& state) {
  std::map<std::string, std::string> meta{{"format", "hat"}, {"space", space}, {"sharing", hat::sharing_name(model.vocabulary().sharing)},
                                          {"storage", "super"}};
  for (const auto& [k, v] : state) meta["state." + k] = v;
  if (o.arch.empty()) {
    hat::write_safetensors(o.out, hat::model_safetensors(be, model), meta);
  } else {
    const auto a = hat::read_subtransformer_yaml<S>(o.arch);
    meta["storage"] = "dense";
    meta["architecture"] = hat::to_subtransformer_yaml(a);
    hat::write_safetensors(o.out, hat::model_safetensors(be, hat::export_dense(be, model, hat::config_of(a))), meta);
  }
  std::printf("exported %s (%s) -> %s\n", o.checkpoint.c_str(), o.arch.empty() ? "SuperTransformer" : o.arch.c_str(), o.out.c_str());
}

/// A hat checkpoint, or a .pt HAT's fairseq wrote (its space and languages from its args), as
/// safetensors.
void run_export(const export_options& o) {
  hat::refuse_to_overwrite(o.out, "--out", {o.checkpoint});
  if (is_torch_save(o.checkpoint))
    return with_fairseq_model(o.checkpoint, [&]<class S>(hat::cpu& be, const auto& model, const hat::checkpoint_extras& x) {
      export_model<S>(be, o, model, *x.value("space"), x.values);
    });
  const auto state = hat::read_checkpoint_state(o.checkpoint);
  const std::string* space = state.value("space");
  if (!space) throw hat::config_error(o.checkpoint + ": no space recorded (not written by hat train or hat import?)");
  hat::cpu be;
  with_space<space_role::trainable>(*space, o.checkpoint + ": space", [&]<class S>() {
    hat::checkpoint_extras x;
    const auto model = hat::load_checkpoint<hat::maxima_of<S>, hat::cpu>(be, o.checkpoint, &x);
    export_model<S>(be, o, model, *space, x.values);
  });
}

}  // namespace

void add_interop_commands(CLI::App& app) {
  auto o = std::make_shared<import_options>();
  auto* cmd = app.add_subcommand("import", "a checkpoint HAT's fairseq wrote (.pt, either torch.save format) or a safetensors "
                                           "file as a hat checkpoint");
  cmd->add_option("--checkpoint", o->checkpoint, "HAT's SuperTransformer or SubTransformer checkpoint (.pt), or .safetensors")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", o->out, "hat checkpoint to write")->required();
  std::vector<std::string> spaces = space_names(space_role::trainable);
  spaces.insert(spaces.begin(), "auto");
  cmd->add_option("--space", o->space, "the space its args must declare; auto: whichever they match")
      ->check(CLI::IsMember(spaces))
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "one JSON object: out, space, format, vocabularies, sharing, skipped tensors");
  cmd->callback([o] { run_import(*o); });

  auto e = std::make_shared<export_options>();
  auto* ex = app.add_subcommand("export", "a hat checkpoint or HAT's .pt as safetensors (fairseq's tensor names) for PyTorch");
  ex->add_option("--checkpoint", e->checkpoint, "hat checkpoint, or HAT's .pt")->required()->check(CLI::ExistingFile);
  ex->add_option("--format", e->format, "the file format")->check(CLI::IsMember({"safetensors"}))->capture_default_str();
  ex->add_option("--arch", e->arch, "SubTransformer YAML: export only the dense weights it reads")->check(CLI::ExistingFile);
  ex->add_option("--out", e->out, "file to write")->required();
  ex->callback([e] { run_export(*e); });
}

}  // namespace hat_cli
