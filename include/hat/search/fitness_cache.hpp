// SPDX-License-Identifier: MIT
// fitness_cache: memoises a search's fitness (or objectives) per network.
#pragma once

#include <cstddef>
#include <functional>  // std::invoke, std::hash
#include <unordered_map>
#include <utility>

#include <hat/space/arch.hpp>

namespace hat {

/// Remembers the value of each network a search has scored, keyed by `a.canonical()`, so
/// that genomes differing only in inactive genes, re-scored parents and duplicate children
/// cost one evaluation. Counts evaluations (misses) and hits. HAT has no cache: it re-scores
/// every member of every population (fairseq/evolution.py), which is only sound for a deterministic
/// fitness; so is this cache.
template <class Space, class Value = double>
class fitness_cache {
 public:
  /// The cached value of `a`'s network, or `f(a)` stored first. If `f` throws, nothing is stored.
  template <class F>
  Value operator()(const arch<Space>& a, F&& f) {
    arch<Space> key = a.canonical();
    if (auto it = values_.find(key); it != values_.end()) {
      ++hits_;
      return it->second;
    }
    Value v = static_cast<Value>(std::invoke(f, a));
    values_.emplace(std::move(key), v);
    ++evaluations_;
    return v;
  }

  bool contains(const arch<Space>& a) const { return values_.contains(a.canonical()); }
  std::size_t evaluations() const noexcept { return evaluations_; }
  std::size_t hits() const noexcept { return hits_; }
  std::size_t size() const noexcept { return values_.size(); }

 private:
  std::unordered_map<arch<Space>, Value, std::hash<arch<Space>>> values_;
  std::size_t evaluations_ = 0;
  std::size_t hits_ = 0;
};

}  // namespace hat
