// SPDX-License-Identifier: MIT
// How HAT spells a dimension in its YAML files and checkpoint args: `-subtransformer`,
// `-all-subtransformer`, `-choice` keys (args: the same with underscores).
#pragma once

#include <string>

#include <hat/space/space.hpp>

namespace hat {

namespace detail {
inline std::string dashed(std::string_view name) {
  std::string s(name);
  for (auto& c : s) c = c == '_' ? '-' : c;
  return s;
}
}  // namespace detail

/// Key of a SubTransformer config: `encoder-embed-dim-subtransformer`,
/// `encoder-ffn-embed-dim-all-subtransformer` (per layer).
inline std::string subtransformer_key(const dim_info& d) {
  return detail::dashed(d.name) + (d.per_layer ? "-all-subtransformer" : "-subtransformer");
}

/// Key of a SuperTransformer space file: `encoder-ffn-embed-dim-choice`; HAT drops the
/// `-dim` of the global embedding widths (`encoder-embed-choice`).
inline std::string choice_key(const dim_info& d) {
  std::string s = detail::dashed(d.name);
  constexpr std::string_view suffix = "-embed-dim";
  if (!d.per_layer && s.size() > suffix.size() && s.ends_with(suffix)) s.resize(s.size() - 4);
  return s + "-choice";
}

}  // namespace hat
