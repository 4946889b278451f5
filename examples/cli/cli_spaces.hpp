// SPDX-License-Identifier: MIT
// What `hat`'s commands share without CLI11 (so nvcc-compiled command code can use it too):
// the registry of named spaces and dispatch by name, exit codes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <tuple>
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

/// What a named space may be used for; a command dispatches over the spaces of one role only,
/// so it instantiates its templates for those alone.
enum class space_role {
  hat,         // HAT's spaces: profile, sample, check-space, predictor predict
  trainable,   // a SuperTransformer can be trained on it: train, valid-loss, test, pipeline
  measurable,  // a latency dataset can be measured on it: latency, latency-dataset, search
};

namespace detail {
template <hat::fixed_string Name, class S, space_role... Roles>
struct named_space {
  static constexpr std::string_view name = Name.view();
  using type = S;
  static constexpr bool has(space_role r) noexcept { return ((r == Roles) || ...); }
};
}  // namespace detail

/// Every space the command line knows by name, once, with the roles it serves.
using space_registry = std::tuple<
    detail::named_space<"wmt", hat::hat_wmt_space, space_role::hat, space_role::trainable, space_role::measurable>,
    detail::named_space<"iwslt", hat::hat_iwslt_space, space_role::hat, space_role::trainable, space_role::measurable>,
    detail::named_space<"latency", hat::hat_latency_space, space_role::hat, space_role::measurable>,
    detail::named_space<"multi30k", hat::multi30k_space, space_role::trainable, space_role::measurable>,
    detail::named_space<"multi30k-tiny", hat::multi30k_tiny_space, space_role::trainable, space_role::measurable>,
    detail::named_space<"number-words", hat::number_words_space, space_role::trainable, space_role::measurable>>;

/// The names of the spaces of role r, in registry order (CLI11 checks `--space` against them).
inline std::vector<std::string> space_names(space_role r) {
  std::vector<std::string> names;
  const auto add = [&](auto entry) {
    if (decltype(entry)::has(r)) names.emplace_back(decltype(entry)::name);
  };
  std::apply([&](auto... entries) { (add(entries), ...); }, space_registry{});
  return names;
}

namespace detail {
template <space_role R, std::size_t I = 0>
constexpr std::size_t first_of_role() {
  static_assert(I < std::tuple_size_v<space_registry>, "space_registry: no space has this role");
  if constexpr (std::tuple_element_t<I, space_registry>::has(R)) return I;
  else return first_of_role<R, I + 1>();
}
template <space_role R, class Result, std::size_t I, class F>
Result dispatch_space(std::string_view name, const std::string& where, F& f) {
  if constexpr (I == std::tuple_size_v<space_registry>) {
    std::string list;
    for (const auto& n : space_names(R)) list += (list.empty() ? "" : ", ") + n;
    throw hat::config_error(where + ": unknown space '" + std::string(name) + "' (" + list + ")");
  } else {
    using entry = std::tuple_element_t<I, space_registry>;
    if constexpr (entry::has(R))
      if (name == entry::name) return f.template operator()<typename entry::type>();
    return dispatch_space<R, Result, I + 1>(name, where, f);
  }
}
}  // namespace detail

/// Calls `f.template operator()<Space>()` for the space of role R called `name`; an unknown
/// name is a config_error naming `where` (the file or flag it came from) and the known names.
template <space_role R, class F>
decltype(auto) with_space(std::string_view name, const std::string& where, F&& f) {
  using first = typename std::tuple_element_t<detail::first_of_role<R>(), space_registry>::type;
  using result = decltype(f.template operator()<first>());
  return detail::dispatch_space<R, result, 0>(name, where, f);
}

/// The space a task searches: `iwslt` for IWSLT'14, `wmt` otherwise.
inline std::string space_of_task(std::string_view task) {
  const auto t = hat::find_task(task);
  return t && t->iwslt_space ? "iwslt" : "wmt";
}

}  // namespace hat_cli
