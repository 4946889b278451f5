// SPDX-License-Identifier: MIT
// `hat`: the command-line face of the library (profile, sample, check-space, predictor, search,
// latency, latency-dataset, train, valid-loss, bleu, translate, test, pipeline, demo).
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/config.hpp>

#include "commands.hpp"

namespace hat_cli {
namespace {

void add_all_commands(CLI::App& app) {
  app.set_version_flag("--version", std::string("hat ") + hat::version_string);
  app.require_subcommand(1);
  add_profile_command(app);
  add_sample_command(app);
  add_check_space_command(app);
  add_predictor_command(app);
  add_search_command(app);
  add_latency_command(app);
  add_latency_dataset_command(app);
  add_train_command(app);
  add_bleu_command(app);
  add_translate_command(app);
  add_pipeline_command(app);
  add_interop_commands(app);
}

int run_app(int argc, char** argv) {
  CLI::App app{"hat: Hardware-Aware Transformers (search spaces, latency, training, search, BLEU, the whole pipeline)", "hat"};
  add_all_commands(app);
  // A word where the command goes that names none: say so (CLI11 would ask for a subcommand).
  if (argc > 1 && argv[1][0] != '-') {
    std::string names;
    bool known = false;
    for (const auto* c : app.get_subcommands([](const CLI::App*) { return true; })) {
      names += (names.empty() ? "" : ", ") + c->get_name();
      known = known || c->get_name() == argv[1];
    }
    if (!known) {
      std::cerr << "hat: unknown command '" << argv[1] << "' (commands: " << names << "); hat --help lists them\n";
      return 2;
    }
  }
  // Before any command runs: a product would stop the process with an illegal instruction.
  if (const std::string e = hat::cpu::blas_error(); !e.empty()) {
    std::cerr << "hat: error: " << e << "\n";
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error (unknown flag, bad value, missing option) exits 2.
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const exit_code& e) {
    return e.code;
  } catch (const std::exception& e) {
    std::cerr << "hat: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

}  // namespace hat_cli

int main(int argc, char** argv) { return hat_cli::run_app(argc, argv); }
