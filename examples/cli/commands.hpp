// SPDX-License-Identifier: MIT
// The `hat` command line: one function per subcommand, plus what they share.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include <hat/config.hpp>

#include "cli_spaces.hpp"

namespace hat_cli {

void add_profile_command(CLI::App& app);
void add_sample_command(CLI::App& app);
void add_check_space_command(CLI::App& app);
void add_predictor_command(CLI::App& app);
void add_search_command(CLI::App& app);
void add_latency_command(CLI::App& app);
void add_train_command(CLI::App& app);  // train, valid-loss
void add_bleu_command(CLI::App& app);
void add_translate_command(CLI::App& app);  // translate, test
void add_latency_dataset_command(CLI::App& app);
void add_pipeline_command(CLI::App& app);  // pipeline, demo

/// Runs one `hat` command line in this process (`args` without the program name), as the
/// pipeline does for each of its steps; returns its exit code.
int run_hat(const std::vector<std::string>& args);

/// A value `hat train` recorded in a checkpoint (subwords, languages, splits), unless the
/// command line gives one; a config_error naming the checkpoint and key when neither does.
template <class Extras>
std::string recorded_value(const Extras& x, const std::string& checkpoint, const char* key, const std::string& given) {
  if (!given.empty()) return given;
  const std::string* v = x.value(key);
  if (!v) throw hat::config_error(checkpoint + ": no '" + key + "' recorded; pass it on the command line");
  return *v;
}

}  // namespace hat_cli
