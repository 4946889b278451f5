// SPDX-License-Identifier: MIT
// latency stats: the settings of HAT's latency protocol and its trimmed statistics (light: no model code).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include <hat/config.hpp>

namespace hat {

/// How HAT's scripts trim the timed runs: `dataset` is latency_dataset.py's rule
/// (drop int(0.1 N) low and max(1, int(0.1 N)) high runs), `measure` is train.py's (int(0.1 N)
/// each side; nothing is dropped for N < 10 rather than HAT's empty mean).
enum class trim_rule { dataset, measure };

struct latency_options {
  std::size_t source_length = 30;  // 30 for WMT tasks, 23 for IWSLT (HAT's latency_dataset.py)
  std::size_t beam = 5;            // decoder rows (batch = beam)
  std::size_t warmup = 5;
  std::size_t iters = 20;          // timed runs of the encoder and of the decoder loop each
  trim_rule trim = trim_rule::dataset;
  /// Of a set of architectures (a latency dataset, the pipeline's results): how many times the
  /// whole set is measured, each pass in the opposite order to the one before, each architecture
  /// keeping its fastest pass. 1 is HAT's protocol. A slowdown that lasts a while (another
  /// process on a shared core, a frequency change) inflates a run of consecutive rows by a third
  /// or more on a 2-core machine; a second pass meets it at other rows (docs/pipeline.md).
  std::size_t passes = 1;
};

/// Mean and (population) standard deviation of the kept runs, in ms.
struct latency_stats {
  double mean_ms = 0, std_ms = 0;
  std::size_t kept = 0;
};

struct latency_result {
  latency_stats encoder, decoder;
  double total_ms() const noexcept { return encoder.mean_ms + decoder.mean_ms; }
};

/// Sorts the runs and keeps the middle ones by `rule`.
inline latency_stats trimmed_stats(const std::vector<double>& runs, trim_rule rule) {
  HAT_ASSERT(!runs.empty(), "trimmed_stats: no runs");
  std::vector<double> ms(runs);  // by reference, then copied: a by-value copy, inlined, made GCC 12 warn (-Wfree-nonheap-object)
  std::sort(ms.begin(), ms.end());
  const std::size_t n = ms.size(), low = n / 10;
  std::size_t high = rule == trim_rule::dataset ? std::max<std::size_t>(1, n / 10) : n / 10;
  if (low + high >= n) high = n - low - 1;  // keep at least one run
  latency_stats s;
  s.kept = n - low - high;
  for (std::size_t i = low; i < n - high; ++i) s.mean_ms += ms[i];
  s.mean_ms /= static_cast<double>(s.kept);
  for (std::size_t i = low; i < n - high; ++i) s.std_ms += (ms[i] - s.mean_ms) * (ms[i] - s.mean_ms);
  s.std_ms = std::sqrt(s.std_ms / static_cast<double>(s.kept));
  return s;
}

}  // namespace hat
