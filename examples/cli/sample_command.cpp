// SPDX-License-Identifier: MIT
// `hat sample`: write uniformly sampled SubTransformer configs of a space, from a seed.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include <hat/yaml/subtransformer.hpp>

#include "commands.hpp"

namespace hat_cli {
namespace {

struct sample_options {
  std::string space = "wmt";
  int count = 10;
  std::uint64_t seed = 1;
  std::string out;
};

void run_sample(const sample_options& o) {
  std::error_code ec;
  std::filesystem::create_directories(o.out, ec);
  if (ec) {
    std::cerr << "hat sample: cannot create '" << o.out << "': " << ec.message() << "\n";
    throw exit_code{1};
  }
  with_space<space_role::hat>(o.space, "--space", [&]<class S>() {
    hat::rng g(o.seed);
    for (int i = 0; i < o.count; ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "arch_%04d.yml", i);
      const auto path = std::filesystem::path(o.out) / name;
      hat::write_subtransformer_yaml(hat::arch<S>::sample(g), path);
      std::cout << path.string() << "\n";
    }
  });
}

}  // namespace

void add_sample_command(CLI::App& app) {
  auto o = std::make_shared<sample_options>();
  auto* cmd = app.add_subcommand("sample", "write uniformly sampled SubTransformer YAML files (seeded)");
  cmd->add_option("--space", o->space, "search space")->check(CLI::IsMember(space_names(space_role::hat)))->capture_default_str();
  cmd->add_option("--count", o->count, "how many")->check(CLI::Range(1, 1000000))->capture_default_str();
  cmd->add_option("--seed", o->seed, "random seed: the same seed writes the same files")->capture_default_str();
  cmd->add_option("--out", o->out, "output folder (created if missing)")->required();
  cmd->callback([o] { run_sample(*o); });
}

}  // namespace hat_cli
