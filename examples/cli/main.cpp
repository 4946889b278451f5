// SPDX-License-Identifier: MIT
// `hat`: the command-line face of the library (profile, sample, check-space, predictor, search, latency, train, valid-loss, bleu, translate, test, latency-dataset).
#include <exception>
#include <iostream>

#include <hat/config.hpp>

#include "commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"hat: Hardware-Aware Transformers (search spaces, profiling, search, latency, training, BLEU)", "hat"};
  app.set_version_flag("--version", std::string("hat ") + hat::version_string);
  app.require_subcommand(1);
  hat_cli::add_profile_command(app);
  hat_cli::add_sample_command(app);
  hat_cli::add_check_space_command(app);
  hat_cli::add_predictor_command(app);
  hat_cli::add_search_command(app);
  hat_cli::add_latency_command(app);
  hat_cli::add_train_command(app);
  hat_cli::add_bleu_command(app);
  hat_cli::add_translate_command(app);
  hat_cli::add_latency_dataset_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const hat_cli::exit_code& e) {
    return e.code;
  } catch (const std::exception& e) {
    std::cerr << "hat: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
