// SPDX-License-Identifier: MIT
// precision_flag: `--precision` as the commands read it: parsed (errors name the flag), and a
// precision this CPU runs only on its slow portable kernels said so once per process.
#pragma once

#include <iostream>
#include <string>

#include <hat/backend/cpu.hpp>
#include <hat/backend/precision.hpp>

namespace hat_cli {

inline hat::precision precision_flag(const std::string& value) {
  const hat::precision p = hat::parse_precision(value, "--precision");
  static bool said = false;
  if (const auto w = hat::cpu::precision_warning(p); !said && !w.empty()) {
    said = true;
    std::cerr << "hat: warning: " << w << "\n";
  }
  return p;
}

}  // namespace hat_cli
