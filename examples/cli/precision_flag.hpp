// SPDX-License-Identifier: MIT
// precision_flag: `--precision` as the commands read it: parsed (errors name the flag), and a
// precision this CPU runs only on its slow portable kernels said so once per process.
#pragma once

#include <iostream>
#include <string>
#include <utility>

#include <CLI/CLI.hpp>

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

/// `--precision` and `--int8-scales` of a command that converts a model's weights.
struct precision_options {
  std::string precision = "fp32";
  std::string int8_scales = "panel";
  CLI::Option* scales_given = nullptr;

  /// Adds both flags to `cmd`; `what` says when the weights are converted.
  void add_to(CLI::App* cmd, const std::string& what) {
    cmd->add_option("--precision", precision, "the model's weights: fp32, bf16 or int8 (" + what + ")")
        ->check(CLI::IsMember({"fp32", "bf16", "int8"}))
        ->capture_default_str();
    scales_given = cmd->add_option("--int8-scales", int8_scales,
                                   "with --precision int8: each weight row's scale over its column panel (the columns a "
                                   "narrower SubTransformer reads) or over the whole super row")
                       ->check(CLI::IsMember({"panel", "row"}))
                       ->capture_default_str();
  }
  /// Both, parsed (precision_flag); --int8-scales without --precision int8 is refused: it would
  /// change nothing.
  std::pair<hat::precision, hat::int8_scales> parse() const {
    if (scales_given && scales_given->count() > 0 && precision != "int8")
      throw CLI::ValidationError("--int8-scales", "applies to --precision int8 only (the precision is " + precision + ")");
    return {precision_flag(precision), hat::parse_int8_scales(int8_scales, "--int8-scales")};
  }
};

}  // namespace hat_cli
