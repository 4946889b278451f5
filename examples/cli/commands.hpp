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
void add_interop_commands(CLI::App& app);  // import, export

}  // namespace hat_cli
