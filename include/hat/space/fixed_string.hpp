// SPDX-License-Identifier: MIT
// fixed_string: a string literal usable as a template argument (dimension names).
#pragma once

#include <cstddef>
#include <string_view>

namespace hat {

/// A compile-time string that can be a non-type template parameter, so that
/// `hat::choice<"encoder_embed_dim", 640, 512>` names its dimension in the type.
template <std::size_t N>
struct fixed_string {
  char chars[N]{};

  constexpr fixed_string(const char (&s)[N]) noexcept {  // NOLINT: implicit on purpose
    for (std::size_t i = 0; i < N; ++i) chars[i] = s[i];
  }
  constexpr std::string_view view() const noexcept { return {chars, N - 1}; }
  constexpr std::size_t size() const noexcept { return N - 1; }

  template <std::size_t M>
  constexpr bool operator==(const fixed_string<M>& o) const noexcept {
    return view() == o.view();
  }
};

}  // namespace hat
