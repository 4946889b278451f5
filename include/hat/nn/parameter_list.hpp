// SPDX-License-Identifier: MIT
// parameter_list: the tensors a layer declares (fairseq's names, shapes, panels, initialisation), and the
// cursor through which the layer takes exactly those tensors back out of an arena.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <hat/config.hpp>
#include <hat/nn/paneled_matrix.hpp>

namespace hat {

/// How HAT initialises a tensor (build_init in HAT's fairseq/init.py): Xavier-uniform weight
/// matrices, zero biases, LayerNorm gains of 1, and vocabulary tables drawn from N(0, embed^-1/2)
/// with a zero padding row.
enum class parameter_init { xavier_uniform, zero, one, vocabulary_table };

/// One named parameter tensor of a model: fairseq's state-dict key, its offset in the arena
/// and its shape (row-major, PyTorch's layout).
struct parameter_info {
  std::string name;
  std::size_t offset = 0;
  std::vector<std::size_t> shape;
  std::vector<std::size_t> panels;  // a matrix stored in column panels ending here (paneled_matrix); empty: plain
  parameter_init init = parameter_init::zero;
  /// Where logical element i (row-major over `shape`) is stored, relative to `offset`.
  std::size_t index(std::size_t i) const {
    if (panels.empty()) return i;
    const std::size_t cols = shape[1];
    return paneled_matrix<float>::paneled_index(panels, shape[0], i / cols, i % cols);
  }
  std::size_t size() const noexcept {
    std::size_t n = 1;
    for (std::size_t s : shape) n *= s;
    return n;
  }
  /// The column panel bounds a paneled_matrix over this [rows, cols] tensor takes (one panel
  /// when it is stored plainly).
  std::vector<std::size_t> bounds() const {
    HAT_ASSERT(shape.size() == 2, ("parameter_info::bounds: '" + name + "' is not a matrix").c_str());
    return panels.empty() ? std::vector<std::size_t>{shape[1]} : panels;
  }
};

/// An arena layout under construction: every tensor a model stores, in storage order, each at
/// the offset after the one before. Layers add theirs through a parameter_scope.
class parameter_list {
 public:
  const std::vector<parameter_info>& entries() const noexcept { return entries_; }
  std::vector<parameter_info> release() && { return std::move(entries_); }
  /// Values in the arena so far.
  std::size_t size() const noexcept { return size_; }

  void append(std::string name, std::vector<std::size_t> shape, parameter_init init, std::vector<std::size_t> panels) {
    entries_.push_back({std::move(name), size_, std::move(shape), std::move(panels), init});
    size_ += entries_.back().size();
  }

 private:
  std::vector<parameter_info> entries_;
  std::size_t size_ = 0;
};

/// Where a layer declares its tensors: names it adds are prefixed with the scope's path
/// ("encoder.layers.0." + "fc1.weight"), so a layer names only its own parts.
class parameter_scope {
 public:
  explicit parameter_scope(parameter_list& list, std::string prefix = {}) : list_(&list), prefix_(std::move(prefix)) {}

  /// A nested scope: `prefix` is appended to this scope's path.
  parameter_scope operator/(std::string_view prefix) const { return parameter_scope(*list_, prefix_ + std::string(prefix)); }

  /// Declares a tensor. A matrix whose columns sub-layers read at `panel_choices` widths is
  /// stored in column panels (see paneled_matrix); no choices, or one panel: stored plainly.
  void add(std::string_view name, std::vector<std::size_t> shape, parameter_init init,
           std::span<const std::size_t> panel_choices = {}) const {
    std::vector<std::size_t> panels;
    if (shape.size() == 2 && !panel_choices.empty()) panels = panel_bounds(shape[1], panel_choices);
    if (panels.size() < 2) panels.clear();
    list_->append(prefix_ + std::string(name), std::move(shape), init, std::move(panels));
  }

 private:
  parameter_list* list_;
  std::string prefix_;
};

/// One declared tensor as the layer that declared it takes it: its memory and its declaration.
template <class T>
struct parameter_slot {
  T* data;
  const parameter_info* info;  // valid while the list the cursor reads lives: copy what you keep

  std::size_t rows() const noexcept { return info->shape[0]; }
  std::size_t cols() const noexcept { return info->shape.size() > 1 ? info->shape[1] : 1; }
  paneled_matrix<T> matrix() const { return paneled_matrix<T>(data, info->shape[0], info->bounds()); }
};

/// Walks a layout over an arena as layers construct: each take(name) must name the next
/// declared tensor, so a layer that reads its parts in another order than it declared them, or
/// reads a part it never declared, fails at construction instead of reading the wrong memory.
template <class T>
class parameter_cursor {
 public:
  /// Reads `list` (which must outlive the cursor) over the arena at `base`.
  parameter_cursor(T* base, std::span<const parameter_info> list) : base_(base), list_(list), next_(&own_next_) {}
  parameter_cursor(const parameter_cursor&) = delete;
  parameter_cursor& operator=(const parameter_cursor&) = delete;

  /// A nested cursor sharing this one's position: names it takes are prefixed with `prefix`.
  parameter_cursor operator/(std::string_view prefix) { return parameter_cursor(*this, prefix); }

  /// The next tensor, which must be `name` (within this cursor's path).
  parameter_slot<T> take(std::string_view name) {
    const std::string full = prefix_ + std::string(name);
    HAT_ASSERT(*next_ < list_.size(), ("parameter_cursor: '" + full + "' was taken but never declared").c_str());
    const parameter_info& p = list_[*next_];
    HAT_ASSERT(p.name == full, ("parameter_cursor: '" + full + "' was taken where '" + p.name + "' is declared").c_str());
    ++*next_;
    return {base_ + p.offset, &p};
  }

  /// The arena offset of the next tensor (the end of the arena when every one was taken).
  std::size_t offset() const noexcept {
    if (*next_ < list_.size()) return list_[*next_].offset;
    return list_.empty() ? 0 : list_.back().offset + list_.back().size();
  }
  /// True once every declared tensor was taken.
  bool done() const noexcept { return *next_ == list_.size(); }

 private:
  parameter_cursor(parameter_cursor& parent, std::string_view prefix)
      : base_(parent.base_), list_(parent.list_), next_(parent.next_), prefix_(parent.prefix_ + std::string(prefix)) {}

  T* base_;
  std::span<const parameter_info> list_;
  std::size_t own_next_ = 0;
  std::size_t* next_;
  std::string prefix_;
};

/// The layout of one layer stored contiguously from offset 0, as its `declare` gives it.
template <class Layer, class... Widths>
std::vector<parameter_info> declared_layout(const Widths&... widths) {
  parameter_list list;
  Layer::declare(parameter_scope(list), widths...);
  return std::move(list).release();
}

}  // namespace hat
