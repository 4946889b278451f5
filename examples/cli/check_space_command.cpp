// SPDX-License-Identifier: MIT
// `hat check-space`: compare HAT SuperTransformer space files with a predeclared space type.
#include <iostream>
#include <string>
#include <vector>

#include <hat/yaml/space.hpp>

#include "commands.hpp"
#include "per_file.hpp"

namespace hat_cli {
namespace {

struct check_space_options {
  std::string space = "wmt";
  std::vector<std::string> files;
};

void run_check_space(const check_space_options& o) {
  int differing = 0;
  const std::size_t failed = for_each_file("check-space", o.files, [&](std::size_t, const std::string& f) {
    const auto diffs = with_space<space_role::hat>(o.space, "--space", [&]<class S>() { return hat::space_yaml_differences<S>(std::filesystem::path(f)); });
    std::cout << f << ": " << (diffs.empty() ? "matches" : std::to_string(diffs.size()) + " differences")
              << " the '" << o.space << "' space\n";
    for (const auto& d : diffs) std::cout << "  " << d << "\n";
    differing += !diffs.empty();
  });
  if (differing || failed) throw exit_code{failed ? 2 : 1};
}

}  // namespace

void add_check_space_command(CLI::App& app) {
  auto o = std::make_shared<check_space_options>();
  auto* cmd = app.add_subcommand("check-space",
                                 "list every difference between HAT space files (space0.yml, ...) and a space; "
                                 "exit 1 if any differ, 2 if a file cannot be read");
  cmd->add_option("--space", o->space, "predeclared space")->check(CLI::IsMember(space_names(space_role::hat)))->capture_default_str();
  cmd->add_option("files", o->files, "HAT SuperTransformer or latency-dataset YAML files")
      ->required();  // a file that cannot be read is reported by name, and exits 2 as the help says
  cmd->callback([o] { run_check_space(*o); });
}

}  // namespace hat_cli
