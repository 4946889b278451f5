// SPDX-License-Identifier: MIT
// `hat import`: a SuperTransformer (or SubTransformer) checkpoint HAT's fairseq wrote, a torch.save
// .pt in either format, as a hat checkpoint, with its space found from the checkpoint's args.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/io/same_file.hpp>
#include <hat/io/torch_file.hpp>
#include <hat/nn/checkpoint.hpp>
#include <hat/nn/from_fairseq.hpp>
#include <hat/yaml/space.hpp>

#include "commands.hpp"
#include "json_output.hpp"

namespace hat_cli {
namespace {

struct import_options {
  std::string checkpoint, out, space = "auto";
  bool json = false;
};

/// The trainable space the checkpoint's args declare: `wanted` itself (checked), or with "auto"
/// the one every list and size of the args agrees with. Differences are printed when none does.
std::string space_of(const hat::fairseq_checkpoint& ck, const import_options& o) {
  if (!ck.args) {
    if (o.space == "auto")
      throw hat::config_error(o.checkpoint + ": the checkpoint has no args to find its space from; name one with --space");
    return o.space;
  }
  const auto d = hat::fairseq_space_description(ck, o.checkpoint);
  std::vector<std::string> names = o.space == "auto" ? space_names(space_role::trainable) : std::vector<std::string>{o.space};
  std::vector<std::pair<std::string, std::vector<std::string>>> tried;
  for (const auto& n : names) {
    auto diffs = with_space<space_role::trainable>(n, "--space", [&]<class S>() { return hat::space_differences<S>(d); });
    if (diffs.empty()) return n;
    tried.emplace_back(n, std::move(diffs));
  }
  std::sort(tried.begin(), tried.end(), [](const auto& a, const auto& b) { return a.second.size() < b.second.size(); });
  if (o.space == "auto")
    std::cerr << "hat: error: " << o.checkpoint << ": its args match no space hat knows; the closest, '" << tried[0].first
              << "', differs in " << tried[0].second.size() << ":\n";
  else
    std::cerr << "hat: error: " << o.checkpoint << ": its args differ from space '" << o.space << "' in "
              << tried[0].second.size() << ":\n";
  for (const auto& line : tried[0].second) std::cerr << "  " << line << "\n";
  throw exit_code{1};
}

void run_import(const import_options& o) {
  hat::refuse_to_overwrite(o.out, "--out", {o.checkpoint});
  const auto file = hat::torch_file::read(o.checkpoint);
  const hat::fairseq_checkpoint ck(file);
  const std::string space = space_of(ck, o);
  hat::cpu be;
  with_space<space_role::trainable>(space, "--space", [&]<class S>() {
    using M = hat::maxima_of<S>;
    hat::fairseq_import_report report;
    const auto model = hat::model_from_fairseq<M>(be, file, &report);
    hat::checkpoint_extras x;
    x.values.emplace_back("space", space);
    x.values.emplace_back("imported_from", std::filesystem::path(o.checkpoint).filename().string());
    const auto text = [&](const char* arg, const char* key) {
      if (const auto v = ck.arg(arg); v && (v->is(hat::pickle_kind::string) || v->is(hat::pickle_kind::bytes)) &&
                                      v->as_string().find_first_of(" \n") == std::string::npos && !v->as_string().empty())
        x.values.emplace_back(key, v->as_string());
    };
    text("arch", "fairseq_arch");
    text("source_lang", "source_lang");
    text("target_lang", "target_lang");
    std::int64_t positions = static_cast<std::int64_t>(M::positions);
    if (const auto v = ck.arg("max_source_positions")) positions = std::min(positions, v->as_int());
    if (const auto v = ck.arg("max_target_positions")) positions = std::min(positions, v->as_int());
    if (positions < 2) throw hat::config_error(o.checkpoint + ": max_source/target_positions below 2");
    x.values.emplace_back("max_positions", std::to_string(positions));
    hat::save_checkpoint(be, model, o.out, x);
    const char* sharing = report.vocab.sharing == hat::embedding_sharing::all ? "all" :
                          report.vocab.sharing == hat::embedding_sharing::decoder ? "decoder" : "none";
    if (o.json) {
      print_json({{"out", o.out}, {"space", space}, {"format", file.legacy() ? "legacy" : "zip"},
                  {"source_vocabulary", report.vocab.source}, {"target_vocabulary", report.vocab.target},
                  {"sharing", sharing}, {"skipped", report.skipped}});
    } else {
      std::printf("imported %s (%s torch.save, space %s, vocabulary %zu/%zu, sharing %s) -> %s\n", o.checkpoint.c_str(),
                  file.legacy() ? "legacy" : "zip", space.c_str(), report.vocab.source, report.vocab.target, sharing,
                  o.out.c_str());
    }
  });
}

}  // namespace

void add_import_command(CLI::App& app) {
  auto o = std::make_shared<import_options>();
  auto* cmd = app.add_subcommand("import", "a checkpoint HAT's fairseq wrote (.pt, either torch.save format) as a hat checkpoint");
  cmd->add_option("--checkpoint", o->checkpoint, "HAT's SuperTransformer or SubTransformer checkpoint (.pt)")
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
}

}  // namespace hat_cli
