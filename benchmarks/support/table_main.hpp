// SPDX-License-Identifier: MIT
// table_main: a table's main, so that what it cannot read (a config file, a flag's value) ends
// with its message and exit code 1, not a crash.
#pragma once

#include <cstdio>
#include <exception>

namespace hat_bench {

inline int table_main(const char* name, int (*run)(int, char**), int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", name, e.what());
    return 1;
  }
}

}  // namespace hat_bench
