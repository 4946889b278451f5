// SPDX-License-Identifier: MIT
// `hat profile`: #params, FLOPs, embedding and cache sizes of SubTransformer configs, as HAT counts them.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <hat/yaml/subtransformer.hpp>
#include <hat/profile/flops.hpp>
#include <hat/profile/params.hpp>

#include "commands.hpp"
#include "validators.hpp"
#include "per_file.hpp"
#include "json_output.hpp"

namespace hat_cli {
namespace {

struct profile_options {
  std::string task;
  std::string space;  // empty: the task's own
  std::vector<std::string> files;
  bool json = false;
  std::int64_t vocab = 0;  // 0: unknown, embedding columns omitted
  std::int64_t beam = 5;
  std::int64_t steps = 0;  // 0: the task's source length
};

struct profile_row {
  std::string file;
  std::int64_t params, flops, macs, kv_bytes, embedding_params, weight_bytes;
  int enc_layers, dec_layers, enc_dim, dec_dim;
};

template <class S>
profile_row profile_file(const std::string& file, const hat::task_info& task, const profile_options& o) {
  const auto a = hat::read_subtransformer_yaml<S>(file);
  const std::int64_t len = task.source_length;
  const hat::vocabulary vocab{o.vocab, o.vocab, task.shared_embeddings};
  return {file,
          hat::params(a),
          hat::flops(a, len),
          hat::macs(a, len),
          hat::kv_cache_bytes(a, o.beam, o.steps > 0 ? o.steps : len, len).total(),
          o.vocab > 0 ? hat::embedding_params(a, vocab) : 0,
          o.vocab > 0 ? hat::weight_bytes(a, vocab) : 0,
          a.template get<"encoder_layer_num">(),
          a.template get<"decoder_layer_num">(),
          a.template get<"encoder_embed_dim">(),
          a.template get<"decoder_embed_dim">()};
}

void print_row_json(const profile_row& r, const profile_options& o) {
  json j = {{"file", r.file},
            {"task", o.task},
            {"params", r.params},
            {"flops", r.flops},
            {"macs", r.macs},
            {"encoder_layer_num", r.enc_layers},
            {"decoder_layer_num", r.dec_layers},
            {"encoder_embed_dim", r.enc_dim},
            {"decoder_embed_dim", r.dec_dim},
            {"kv_cache_bytes", r.kv_bytes}};
  if (o.vocab > 0) {
    j["embedding_params"] = r.embedding_params;
    j["weight_bytes"] = r.weight_bytes;
  }
  print_json(j);
}

void print_table(const std::vector<profile_row>& rows, const profile_options& o) {
  std::size_t w = 4;
  for (const auto& r : rows) w = std::max(w, std::filesystem::path(r.file).filename().string().size());
  const int width = static_cast<int>(w);
  std::printf("%-*s %9s %8s %4s %4s %5s %5s %9s", width, "file", "params(M)", "FLOPs(G)", "enc", "dec", "d_enc",
              "d_dec", "KV(MB)");
  if (o.vocab > 0) std::printf(" %10s %11s", "embed(M)", "weights(MB)");
  std::printf("\n");
  for (const auto& r : rows) {
    std::printf("%-*s %9.2f %8.2f %4d %4d %5d %5d %9.2f", width, std::filesystem::path(r.file).filename().c_str(),
                static_cast<double>(r.params) / 1e6, static_cast<double>(r.flops) / 1e9, r.enc_layers, r.dec_layers,
                r.enc_dim, r.dec_dim, static_cast<double>(r.kv_bytes) / (1 << 20));
    if (o.vocab > 0)
      std::printf(" %10.2f %11.2f", static_cast<double>(r.embedding_params) / 1e6,
                  static_cast<double>(r.weight_bytes) / (1 << 20));
    std::printf("\n");
  }
  std::fflush(stdout);
}

void run_profile(const profile_options& o) {
  const auto task = *hat::find_task(o.task);
  const std::string space = o.space.empty() ? space_of_task(o.task) : o.space;
  std::vector<profile_row> rows;
  const std::size_t failed = for_each_file("profile", o.files, [&](std::size_t, const std::string& f) {
    auto row = with_space<space_role::hat>(space, "--space", [&]<class S>() { return profile_file<S>(f, task, o); });
    if (o.json) print_row_json(row, o);
    rows.push_back(std::move(row));
  });
  if (!o.json && !rows.empty()) print_table(rows, o);
  if (failed) throw exit_code{1};
}

}  // namespace

void add_profile_command(CLI::App& app) {
  auto o = std::make_shared<profile_options>();
  auto* cmd = app.add_subcommand("profile", "#params and FLOPs (as HAT counts them) of SubTransformer YAML files");
  cmd->add_option("--task", o->task, "HAT task: fixes the space and the dummy sentence length (30 WMT, 23 IWSLT)")
      ->required()
      ->check(CLI::IsMember(task_names()));
  cmd->add_option("--space", o->space, "validate against this space instead of the task's")
      ->check(CLI::IsMember(space_names(space_role::hat)));
  cmd->add_flag("--json", o->json, "one JSON object per file and line (fields: file, params, flops, ...)");
  cmd->add_option("--vocab", o->vocab, "vocabulary size: adds embedding parameters and weight bytes")
      ->check(positive_count());
  cmd->add_option("--beam", o->beam, "beam size for the KV-cache size")->check(positive_count())->capture_default_str();
  cmd->add_option("--steps", o->steps, "decoder steps for the KV-cache size (default: the task's length)")
      ->check(positive_count());
  cmd->add_option("files", o->files, "SubTransformer YAML files")->required()->check(CLI::ExistingFile);
  cmd->callback([o] { run_profile(*o); });
}

}  // namespace hat_cli
