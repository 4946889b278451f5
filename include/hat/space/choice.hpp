// SPDX-License-Identifier: MIT
// The dimension types of a search space: choice, per_layer and fixed.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include <hat/space/fixed_string.hpp>

namespace hat {

namespace detail {
template <std::size_t N>
constexpr bool has_duplicate_values(const std::array<int, N>& v) {
  for (std::size_t i = 0; i < N; ++i)
    for (std::size_t j = i + 1; j < N; ++j)
      if (v[i] == v[j]) return true;
  return false;
}
}  // namespace detail

/// One searchable dimension: a name and the values it may take, in the order that fixes
/// its gene's choice list (HAT lists the largest first). A global choice is one gene.
template <fixed_string Name, int... Values>
struct choice {
  static_assert(sizeof...(Values) > 0,
                "hat::choice: a dimension needs at least one value (empty choice list)");
  static constexpr std::array<int, sizeof...(Values)> values{Values...};
  static_assert(!detail::has_duplicate_values(values),
                "hat::choice: a dimension lists the same value twice");
  static constexpr std::string_view name = Name.view();
  static constexpr std::size_t layers = 1;
  static constexpr bool is_per_layer = false;
  static constexpr bool is_fixed = false;
  static constexpr std::string_view gate{};
};

/// `Layers` independent genes, one per super layer, sharing one choice list. Layer i is
/// active while the gating dimension's value exceeds i; inactive genes persist (HAT evolves
/// them too). `Gate` names the gating dimension; left empty, a dimension called
/// `<prefix>_...` is gated by `<prefix>_layer_num` when the space has one (Transformer
/// semantics: `encoder_ffn_embed_dim` by `encoder_layer_num`).
template <std::size_t Layers, class Choice, fixed_string Gate = "">
struct per_layer {
  static_assert(Layers > 0, "hat::per_layer: the layer count must be positive");
  static_assert(!Choice::is_per_layer && !Choice::is_fixed,
                "hat::per_layer: wrap a hat::choice, not another per_layer or fixed");
  static constexpr auto values = Choice::values;
  static constexpr std::string_view name = Choice::name;
  static constexpr std::size_t layers = Layers;
  static constexpr bool is_per_layer = true;
  static constexpr bool is_fixed = false;
  static constexpr std::string_view gate = Gate.view();
};

/// A dimension with one value that is not searched (HAT's qkv-dim): it sizes weights but
/// contributes no gene.
template <fixed_string Name, int Value>
struct fixed {
  static constexpr std::array<int, 1> values{Value};
  static constexpr std::string_view name = Name.view();
  static constexpr std::size_t layers = 0;
  static constexpr bool is_per_layer = false;
  static constexpr bool is_fixed = true;
  static constexpr std::string_view gate{};
};

}  // namespace hat
