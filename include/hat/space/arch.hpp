// SPDX-License-Identifier: MIT
// arch<Space>: one point of a search space (a genome) and the operators evolution needs.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <span>
#include <string>

#include <hat/config.hpp>
#include <hat/space/random.hpp>
#include <hat/space/space.hpp>

namespace hat {

/// A run-time architecture of `Space`: one value per gene, genes laid out as in
/// `Space::dims`. Genes of inactive layers (index >= the gating layer count) are kept and
/// evolve like the others, as in HAT; `canonical()` blanks them when identity matters.
/// Values are stored, not choice indices, so that a genome reads like a config file.
template <class Space>
class arch {
 public:
  using space_type = Space;
  static constexpr std::size_t gene_count = Space::gene_count;

  /// Every gene at its dimension's largest value.
  arch() noexcept { fill_(true); }

  static arch largest() noexcept { return arch{}; }
  static arch smallest() noexcept {
    arch a;
    a.fill_(false);
    return a;
  }

  /// Every gene drawn uniformly from its choice list.
  static arch sample(rng& g) noexcept {
    arch a;
    for (const auto& d : Space::dims)
      for (std::size_t l = 0; l < d.layers; ++l)
        a.genes_[d.first_gene + l] = d.values[static_cast<std::size_t>(g.below(d.values.size()))];
    return a;
  }

  /// From raw gene values in genome order; throws invalid_arch when one is off the space.
  static arch from_genes(std::span<const int> genes) {
    if (genes.size() != gene_count)
      throw invalid_arch("hat::arch: expected " + std::to_string(gene_count) + " genes, got " +
                         std::to_string(genes.size()));
    arch a;
    for (std::size_t i = 0; i < gene_count; ++i) a.genes_[i] = genes[i];
    a.validate();
    return a;
  }

  // --- access by name (checked at compile time) ---
  template <fixed_string Name>
  int get() const noexcept {
    constexpr auto& d = Space::template dim<Name>();
    static_assert(!d.per_layer, "hat::arch::get<Name>(): this dimension is per layer; pass a layer index");
    if constexpr (d.fixed) return d.values[0];
    else return genes_[d.first_gene];
  }
  template <fixed_string Name>
  int get(std::size_t layer) const {
    constexpr auto& d = Space::template dim<Name>();
    static_assert(d.per_layer, "hat::arch::get<Name>(layer): this dimension is global; call get<Name>()");
    HAT_ASSERT(layer < d.layers, "layer index past the dimension's layer count");
    return genes_[d.first_gene + layer];
  }
  template <fixed_string Name>
  void set(int v) noexcept {
    constexpr auto& d = Space::template dim<Name>();
    static_assert(!d.per_layer && !d.fixed, "hat::arch::set<Name>(v): needs a global searchable dimension");
    genes_[d.first_gene] = v;
  }
  template <fixed_string Name>
  void set(std::size_t layer, int v) {
    constexpr auto& d = Space::template dim<Name>();
    static_assert(d.per_layer, "hat::arch::set<Name>(layer, v): this dimension is global");
    HAT_ASSERT(layer < d.layers, "layer index past the dimension's layer count");
    genes_[d.first_gene + layer] = v;
  }
  /// All genes of a per-layer dimension, inactive layers included.
  template <fixed_string Name>
  std::span<const int> layers() const noexcept {
    constexpr auto& d = Space::template dim<Name>();
    return std::span<const int>(genes_).subspan(d.first_gene, d.layers);
  }
  template <fixed_string Name>
  std::size_t active_layers() const noexcept {
    return active_layers(Space::template index_of<Name>());
  }

  // --- access by dimension index (for config readers and generic code) ---
  int value(std::size_t dim, std::size_t layer = 0) const noexcept {
    const auto& d = Space::dims[dim];
    return d.fixed ? d.values[0] : genes_[d.first_gene + layer];
  }
  void set_value(std::size_t dim, std::size_t layer, int v) noexcept {
    genes_[Space::dims[dim].first_gene + layer] = v;
  }
  /// Layers of dimension `dim` that the architecture uses (its gate's value, capped).
  std::size_t active_layers(std::size_t dim) const noexcept {
    const auto& d = Space::dims[dim];
    if (d.gate < 0) return d.layers;
    const int n = genes_[Space::dims[static_cast<std::size_t>(d.gate)].first_gene];
    return n <= 0 ? 0 : (static_cast<std::size_t>(n) < d.layers ? static_cast<std::size_t>(n) : d.layers);
  }

  std::span<const int> genes() const noexcept { return genes_; }
  int gene(std::size_t i) const noexcept { return genes_[i]; }

  /// Throws invalid_arch naming the dimension, the layer and the value that is off the space.
  void validate() const {
    for (const auto& d : Space::dims)
      for (std::size_t l = 0; l < d.layers; ++l)
        if (!contains_(d, genes_[d.first_gene + l])) throw invalid_arch(describe_bad_(d, l));
  }
  bool valid() const noexcept {
    for (const auto& d : Space::dims)
      for (std::size_t l = 0; l < d.layers; ++l)
        if (!contains_(d, genes_[d.first_gene + l])) return false;
    return true;
  }

  // --- evolution operators (HAT's fairseq/evolution.py) ---
  /// Each gene is redrawn uniformly from its choices with probability `prob` (it may draw
  /// its old value again, as in HAT).
  arch mutated(rng& g, double prob) const noexcept {
    arch a = *this;
    for (const auto& d : Space::dims)
      for (std::size_t l = 0; l < d.layers; ++l)
        if (g.uniform() < prob)
          a.genes_[d.first_gene + l] = d.values[static_cast<std::size_t>(g.below(d.values.size()))];
    return a;
  }
  /// Uniform crossover: each gene from `a` or `b` with probability 1/2.
  static arch crossover(const arch& a, const arch& b, rng& g) noexcept {
    arch c;
    for (std::size_t i = 0; i < gene_count; ++i) c.genes_[i] = g.uniform() < 0.5 ? a.genes_[i] : b.genes_[i];
    return c;
  }

  /// The same active architecture with every inactive gene set to its first choice, so that
  /// two genomes that build the same network compare and hash equal.
  arch canonical() const noexcept {
    arch a = *this;
    for (std::size_t i = 0; i < Space::dim_count; ++i) {
      const auto& d = Space::dims[i];
      for (std::size_t l = active_layers(i); l < d.layers; ++l) a.genes_[d.first_gene + l] = d.values[0];
    }
    return a;
  }
  bool same_network(const arch& o) const noexcept { return canonical() == o.canonical(); }

  friend bool operator==(const arch&, const arch&) = default;

  /// FNV-1a over the genome (all genes; hash `canonical()` to key by network).
  std::size_t hash() const noexcept {
    std::uint64_t h = 1469598103934665603ULL;
    for (int v : genes_) {
      h ^= static_cast<std::uint32_t>(v);
      h *= 1099511628211ULL;
    }
    return static_cast<std::size_t>(h);
  }

  /// `{encoder_embed_dim: 640, encoder_ffn_embed_dim: [3072, 2048], ...}`, active layers only.
  std::string to_string() const {
    std::string s = "{";
    bool first = true;
    for (std::size_t i = 0; i < Space::dim_count; ++i) {
      const auto& d = Space::dims[i];
      if (d.fixed) continue;
      s += first ? "" : ", ";
      first = false;
      s.append(d.name).append(": ");
      if (!d.per_layer) {
        s += std::to_string(genes_[d.first_gene]);
        continue;
      }
      s += "[";
      for (std::size_t l = 0, n = active_layers(i); l < n; ++l)
        s += (l ? ", " : "") + std::to_string(genes_[d.first_gene + l]);
      s += "]";
    }
    return s + "}";
  }

  template <class Char, class Traits>
  friend std::basic_ostream<Char, Traits>& operator<<(std::basic_ostream<Char, Traits>& os, const arch& a) {
    return os << a.to_string();
  }

 private:
  void fill_(bool largest) noexcept {
    for (const auto& d : Space::dims)
      for (std::size_t l = 0; l < d.layers; ++l) genes_[d.first_gene + l] = largest ? d.max : d.min;
  }
  static bool contains_(const dim_info& d, int v) noexcept {
    for (int c : d.values)
      if (c == v) return true;
    return false;
  }
  std::string describe_bad_(const dim_info& d, std::size_t layer) const {
    std::string s = "hat::arch: dimension '" + std::string(d.name) + "'";
    if (d.per_layer) s += " layer " + std::to_string(layer);
    s += " has value " + std::to_string(genes_[d.first_gene + layer]) + ", which is not one of {";
    for (std::size_t i = 0; i < d.values.size(); ++i) s += (i ? ", " : "") + std::to_string(d.values[i]);
    return s + "}";
  }

  std::array<int, gene_count> genes_{};
};

}  // namespace hat

template <class Space>
struct std::hash<hat::arch<Space>> {
  std::size_t operator()(const hat::arch<Space>& a) const noexcept { return a.hash(); }
};
