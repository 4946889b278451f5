// SPDX-License-Identifier: MIT
// space<Dims...>: a search space declared as a type, with its tables computed at compile time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include <hat/space/choice.hpp>

namespace hat {

/// What the run-time code needs to know about one dimension: a row of the space's table.
struct dim_info {
  std::string_view name;
  std::span<const int> values;  // the choice list, in declaration order
  std::size_t layers;           // genes this dimension owns: 1 (global), N (per layer), 0 (fixed)
  std::size_t first_gene;       // index of its first gene in the genome
  bool per_layer;
  bool fixed;
  std::ptrdiff_t gate;  // index of the dimension whose value counts the active layers, or -1
  int max;
  int min;
};

namespace detail {

template <class D>
constexpr dim_info make_dim_row(std::size_t first_gene) {
  int mx = D::values[0], mn = D::values[0];
  for (int v : D::values) {
    mx = v > mx ? v : mx;
    mn = v < mn ? v : mn;
  }
  return {D::name, std::span<const int>(D::values), D::layers, first_gene,
          D::is_per_layer, D::is_fixed, -1, mx, mn};
}

template <std::size_t N>
constexpr std::ptrdiff_t find_dim(const std::array<dim_info, N>& dims, std::string_view name) {
  for (std::size_t i = 0; i < N; ++i)
    if (dims[i].name == name) return static_cast<std::ptrdiff_t>(i);
  return -1;
}

// Gate of a per-layer dimension: the explicit one, else `<prefix>_layer_num` for `<prefix>_...`.
template <std::size_t N>
constexpr std::ptrdiff_t default_gate(const std::array<dim_info, N>& dims, std::string_view name) {
  // A hand loop, not string_view::find: GCC 12 cannot constant-evaluate find's pointer
  // arithmetic under -fsanitize=undefined.
  std::size_t p = 0;
  while (p < name.size() && name[p] != '_') ++p;
  if (p == name.size()) return -1;
  for (std::size_t i = 0; i < N; ++i) {
    const auto g = dims[i].name;
    if (g.size() == p + 10 && g.substr(0, p) == name.substr(0, p) && g.substr(p) == "_layer_num" &&
        g != name)
      return static_cast<std::ptrdiff_t>(i);
  }
  return -1;
}

struct table_check {
  bool unique_names = true;
  bool gates_exist = true;
  bool gates_global = true;
  bool gates_match_layers = true;
  bool gates_nonnegative = true;
};

}  // namespace detail

/// A search space: an ordered list of dimensions (`choice`, `per_layer`, `fixed`). The genome
/// is every gene of every non-fixed dimension, in declaration order. Everything that depends
/// only on the type (maxima that size the weights, gene count, lookup by name, space size)
/// is a constexpr member; an `arch<space>` holds one point of it at run time.
template <class... Dims>
struct space {
  static constexpr std::size_t dim_count = sizeof...(Dims);
  static_assert(dim_count > 0, "hat::space: a space needs at least one dimension");

 private:
  static constexpr std::array<std::string_view, dim_count> explicit_gates_{Dims::gate...};

  static constexpr std::array<dim_info, dim_count> build_() {
    std::array<dim_info, dim_count> rows{};
    std::size_t gene = 0, i = 0;
    ((rows[i] = detail::make_dim_row<Dims>(gene), gene += Dims::layers, ++i), ...);
    for (std::size_t d = 0; d < dim_count; ++d) {
      if (!rows[d].per_layer) continue;
      rows[d].gate = explicit_gates_[d].empty() ? detail::default_gate(rows, rows[d].name)
                                                : detail::find_dim(rows, explicit_gates_[d]);
    }
    return rows;
  }

  static constexpr detail::table_check check_(const std::array<dim_info, dim_count>& rows) {
    detail::table_check c;
    for (std::size_t a = 0; a < dim_count; ++a) {
      for (std::size_t b = a + 1; b < dim_count; ++b)
        if (rows[a].name == rows[b].name) c.unique_names = false;
      if (!rows[a].per_layer) continue;
      if (!explicit_gates_[a].empty() && rows[a].gate < 0) c.gates_exist = false;
      if (rows[a].gate < 0) continue;
      const auto& g = rows[static_cast<std::size_t>(rows[a].gate)];
      if (g.per_layer || g.fixed) c.gates_global = false;
      if (g.min < 0) c.gates_nonnegative = false;
      if (static_cast<std::size_t>(g.max < 0 ? 0 : g.max) != rows[a].layers) c.gates_match_layers = false;
    }
    return c;
  }

 public:
  /// One row per dimension, in declaration order.
  static constexpr std::array<dim_info, dim_count> dims = build_();
  static constexpr std::size_t gene_count = (std::size_t{0} + ... + Dims::layers);

 private:
  static constexpr detail::table_check check = check_(dims);
  static_assert(check.unique_names, "hat::space: two dimensions have the same name");
  static_assert(check.gates_exist, "hat::space: a per_layer gate names no dimension of this space");
  static_assert(check.gates_global,
                "hat::space: a per_layer gate must be a global hat::choice (a layer count)");
  static_assert(check.gates_nonnegative, "hat::space: a layer-count dimension has a negative value");
  static_assert(check.gates_match_layers,
                "hat::space: mismatched per-layer count: a per_layer dimension must have as many "
                "layers as the largest value of the layer-count dimension that gates it");

 public:
  /// Index of the dimension called `Name` in `dims` (compile error if there is none).
  template <fixed_string Name>
  static constexpr std::size_t index_of() {
    constexpr std::ptrdiff_t i = detail::find_dim(dims, Name.view());
    static_assert(i >= 0, "hat::space: unknown dimension name: no dimension of this space has it");
    return static_cast<std::size_t>(i);
  }
  template <fixed_string Name>
  static constexpr bool contains() {
    return detail::find_dim(dims, Name.view()) >= 0;
  }
  /// Run-time lookup, -1 when absent (for readers of config files).
  static constexpr std::ptrdiff_t find(std::string_view name) { return detail::find_dim(dims, name); }

  template <fixed_string Name>
  static constexpr int max() { return dims[index_of<Name>()].max; }
  template <fixed_string Name>
  static constexpr int min() { return dims[index_of<Name>()].min; }
  template <fixed_string Name>
  static constexpr const dim_info& dim() { return dims[index_of<Name>()]; }

  /// Number of genomes: every gene's choices multiplied, inactive layers included.
  static constexpr double genome_count() {
    double n = 1;
    for (const auto& d : dims)
      for (std::size_t l = 0; l < d.layers; ++l) n *= static_cast<double>(d.values.size());
    return n;
  }

  /// Number of distinct active architectures: genomes that differ only in genes of inactive
  /// layers count once (HAT space0: 93,312 encoders x 4,477,952,232 decoders ~ 4.18e14).
  static constexpr double size() {
    std::array<std::size_t, dim_count> pos{};  // odometer over the values of gating dimensions
    std::array<bool, dim_count> is_gate{};
    for (const auto& d : dims)
      if (d.gate >= 0) is_gate[static_cast<std::size_t>(d.gate)] = true;
    double total = 0;
    for (;;) {
      double n = 1;
      for (std::size_t i = 0; i < dim_count; ++i) {
        const auto& d = dims[i];
        if (d.fixed || is_gate[i]) continue;
        std::size_t active = d.layers;
        if (d.gate >= 0) {
          const auto g = static_cast<std::size_t>(d.gate);
          const int v = dims[g].values[pos[g]];
          active = v < static_cast<int>(active) ? static_cast<std::size_t>(v) : active;
        }
        for (std::size_t l = 0; l < active; ++l) n *= static_cast<double>(d.values.size());
      }
      total += n;
      std::size_t k = 0;
      for (; k < dim_count; ++k) {
        if (!is_gate[k]) continue;
        if (++pos[k] < dims[k].values.size()) break;
        pos[k] = 0;
      }
      if (k == dim_count) return total;
    }
  }
};

}  // namespace hat
