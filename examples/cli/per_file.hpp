// SPDX-License-Identifier: MIT
// for_each_file: how every subcommand that takes several files reports a bad one and goes on.
#pragma once

#include <cstddef>
#include <iostream>
#include <string>
#include <utility>  // std::forward
#include <vector>

#include <hat/config.hpp>

namespace hat_cli {

/// Runs f(i, files[i]) for each file in order. A file that fails with config_error (whose
/// message names the file already) or invalid_arch (which does not: the file is prefixed) is
/// reported on stderr as `hat <command>: ...`, and the other files still run; after(i + 1) runs
/// after each file, failed or not (progress lines). Returns how many failed; anything else a
/// file throws stops the command.
template <class F, class After>
std::size_t for_each_file(const std::string& command, const std::vector<std::string>& files, F&& f, After&& after) {
  std::size_t failed = 0;
  for (std::size_t i = 0; i < files.size(); ++i) {
    try {
      f(i, files[i]);
    } catch (const hat::config_error& e) {
      std::cerr << "hat " << command << ": " << e.what() << "\n";
      ++failed;
    } catch (const hat::invalid_arch& e) {
      std::cerr << "hat " << command << ": " << files[i] << ": " << e.what() << "\n";
      ++failed;
    }
    after(i + 1);
  }
  if (failed && files.size() > 1)
    std::cerr << "hat " << command << ": " << failed << " of " << files.size() << " files failed\n";
  return failed;
}

template <class F>
std::size_t for_each_file(const std::string& command, const std::vector<std::string>& files, F&& f) {
  return for_each_file(command, files, std::forward<F>(f), [](std::size_t) {});
}

}  // namespace hat_cli
