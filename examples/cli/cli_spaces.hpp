// SPDX-License-Identifier: MIT
// What `hat`'s commands share without CLI11 (so nvcc-compiled command code can use it too):
// space dispatch by name, exit codes, JSON escaping.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <hat/config.hpp>
#include <hat/space/hat_spaces.hpp>
#include <hat/space/small_spaces.hpp>

namespace hat_cli {

/// A failure a command already reported on stderr: main exits with its code, printing nothing more.
struct exit_code {
  int code;
};

/// Task names for `--task`, checked by CLI11 with the list in the error message.
inline std::vector<std::string> task_names() {
  std::vector<std::string> v;
  for (const auto& t : hat::hat_tasks) v.emplace_back(t.name);
  return v;
}

/// Calls `f.template operator()<Space>()` for `wmt` (space0), `iwslt` (space1) or `latency`.
template <class F>
decltype(auto) with_named_space(std::string_view name, F&& f) {
  if (name == "iwslt") return f.template operator()<hat::hat_iwslt_space>();
  if (name == "latency") return f.template operator()<hat::hat_latency_space>();
  return f.template operator()<hat::hat_wmt_space>();
}
inline const std::vector<std::string> space_names{"wmt", "iwslt", "latency"};

/// The space a task searches: `iwslt` for IWSLT'14, `wmt` otherwise.
inline std::string space_of_task(std::string_view task) {
  const auto t = hat::find_task(task);
  return t && t->iwslt_space ? "iwslt" : "wmt";
}

/// Calls `f.template operator()<Space>()` for a training space name.
template <class F>
decltype(auto) with_training_space(const std::string& name, const std::string& where, F&& f) {
  if (name == "wmt") return f.template operator()<hat::hat_wmt_space>();
  if (name == "iwslt") return f.template operator()<hat::hat_iwslt_space>();
  if (name == "multi30k") return f.template operator()<hat::multi30k_space>();
  if (name == "multi30k-tiny") return f.template operator()<hat::multi30k_tiny_space>();
  if (name == "number-words") return f.template operator()<hat::number_words_space>();
  throw hat::config_error(where + ": unknown space '" + name + "' (wmt, iwslt, multi30k, multi30k-tiny, number-words)");
}

/// with_training_space, and HAT's latency-dataset space (`latency`).
template <class F>
decltype(auto) with_latency_space(const std::string& name, const std::string& where, F&& f) {
  if (name == "latency") return f.template operator()<hat::hat_latency_space>();
  return with_training_space(name, where, std::forward<F>(f));
}

}  // namespace hat_cli
