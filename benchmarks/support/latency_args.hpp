// SPDX-License-Identifier: MIT
// latency_args: the command line the HAT-protocol latency tables share,
//   [--threads N] [--precision fp32|bf16|int8] [--iters N] [--rounds N] [FILE.yml ...]
// and their default configs: HAT's released WMT'14 En-De Xeon SubTransformers, then "max" (the
// space0 maximum).
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <hat/backend/precision.hpp>

namespace hat_bench {

struct latency_args {
  int threads = 1, rounds = 3;
  std::size_t iters = 10;
  hat::precision precision = hat::precision::fp32;  // the weights' (cpu::set_decode_precision)
  std::vector<std::string> files;
  bool ok = true;  // false: an unknown flag, or a count below its least (print the usage line)
};

/// Parses argv over `defaults`; threads below `min_threads` (or any count below 1) is not ok.
/// Without files: the Xeon configs of `config_dir` in name order, then "max".
inline latency_args parse_latency_args(int argc, char** argv, latency_args defaults, const std::filesystem::path& config_dir,
                                       int min_threads = 1) {
  latency_args a = std::move(defaults);
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    if (s == "--threads" && i + 1 < argc) a.threads = std::atoi(argv[++i]);
    else if (s == "--iters" && i + 1 < argc) a.iters = static_cast<std::size_t>(std::atoi(argv[++i]));
    else if (s == "--rounds" && i + 1 < argc) a.rounds = std::atoi(argv[++i]);
    else if (s == "--precision" && i + 1 < argc) a.precision = hat::parse_precision(argv[++i], "--precision");
    else if (!s.empty() && s[0] == '-') a.ok = false;
    else a.files.push_back(s);
  }
  a.ok = a.ok && a.threads >= min_threads && a.threads >= 1 && a.iters >= 1 && a.rounds >= 1;
  if (a.ok && a.files.empty()) {
    if (std::filesystem::is_directory(config_dir)) {
      for (const auto& e : std::filesystem::directory_iterator(config_dir))
        if (e.path().filename().string().find("xeon") != std::string::npos) a.files.push_back(e.path().string());
    } else {
      std::fprintf(stderr, "note: %s is not here: the space0 maximum only\n", config_dir.c_str());
    }
    std::sort(a.files.begin(), a.files.end());
    a.files.push_back("max");
  }
  return a;
}

/// A row's name: the config file's stem, or "space0 max".
inline std::string config_name(const std::string& file) {
  return file == "max" ? "space0 max" : std::filesystem::path(file).stem().string();
}

}  // namespace hat_bench
