// SPDX-License-Identifier: MIT
// paneled_matrix: a [rows, cols] weight stored as column panels, so that every elastic slice is contiguous.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <vector>

#include <hat/backend/concepts.hpp>
#include <hat/config.hpp>

namespace hat {

/// A weight W [rows, cols] (PyTorch's [out, in]) whose columns are stored in panels: panel p
/// holds columns [bounds[p-1], bounds[p]) of every row as one contiguous [rows, width_p] block,
/// the blocks one after another. The bounds are the widths a sub-layer may read (the space's
/// choices of the input dimension, e.g. {512, 640}), so the corner W[:out, :in] a SubTransformer
/// uses is, panel by panel, whole contiguous rows. With one panel this is the plain row-major
/// [rows, cols] layout with ld = cols.
///
/// Why: in the plain layout a 512-wide slice of 640-wide rows leaves a 512-byte gap after each
/// 2 kB row, and the CPU's stream prefetcher fetches into the gap: memory-bound decoding then
/// moved ~18 % more bytes than it used (measured on the 32768 x 512 vocabulary projection,
/// best of 31: 3.0 ms at ld 640 against 2.55 ms at ld 512).
template <class T>
class paneled_matrix {
 public:
  paneled_matrix() = default;
  /// `data`: [rows * bounds.back()] in backend memory; `bounds`: ascending panel ends.
  paneled_matrix(T* data, std::size_t rows, std::vector<std::size_t> bounds)
      : data_(data), rows_(rows), bounds_(std::move(bounds)) {
    HAT_ASSERT(!bounds_.empty(), "paneled_matrix: at least one panel");
    for (std::size_t p = 1; p < bounds_.size(); ++p)
      HAT_ASSERT(bounds_[p] > bounds_[p - 1], "paneled_matrix: panel bounds must ascend");
  }

  T* data() const noexcept { return data_; }
  std::size_t rows() const noexcept { return rows_; }
  std::size_t cols() const noexcept { return bounds_.back(); }
  std::size_t size() const noexcept { return rows_ * cols(); }
  const std::vector<std::size_t>& bounds() const noexcept { return bounds_; }
  std::size_t panels() const noexcept { return bounds_.size(); }
  std::size_t panel_start(std::size_t p) const noexcept { return p == 0 ? 0 : bounds_[p - 1]; }
  /// How many of panel p's columns the first `in` columns cover (p must start below `in`).
  std::size_t panel_width(std::size_t p, std::size_t in) const noexcept {
    return (in < bounds_[p] ? in : bounds_[p]) - panel_start(p);
  }

  /// Rows [r0, r0 + n) and the first `width` columns of panel p: [n, width], ld = panel width.
  matrix_ref<T> panel(std::size_t p, std::size_t r0, std::size_t n, std::size_t width) const noexcept {
    const std::size_t w = bounds_[p] - panel_start(p);
    return {data_ + rows_ * panel_start(p) + r0 * w, n, width, w};
  }

  /// The same layout over other memory (a gradient buffer laid out like the parameters).
  paneled_matrix on(T* other) const { return paneled_matrix(other, rows_, bounds_); }

  /// Where logical element (r, c) is stored, relative to data().
  std::size_t index(std::size_t r, std::size_t c) const noexcept { return paneled_index(bounds_, rows_, r, c); }

  /// The same for any panel bounds of a [rows, bounds.back()] matrix, without building one.
  static std::size_t paneled_index(std::span<const std::size_t> bounds, std::size_t rows, std::size_t r,
                                   std::size_t c) noexcept {
    std::size_t p = 0;
    while (c >= bounds[p]) ++p;
    const std::size_t s = p == 0 ? 0 : bounds[p - 1];
    return rows * s + r * (bounds[p] - s) + (c - s);
  }

  /// dx [n, in] = dy [n, out] W[r0 : r0 + out, :in] (+ beta dx), panel by panel: the input
  /// gradient of product().
  template <backend_policy Backend>
  void product_backward_input(Backend& be, matrix_ref<const T> dy, std::size_t r0, matrix_ref<T> dx, T beta = T(0)) const {
    HAT_ASSERT(dx.cols <= cols() && r0 + dy.cols <= rows_ && dx.rows == dy.rows, "paneled_matrix: backward shapes");
    [[maybe_unused]] const auto pin = pin_operand(be, dy);  // one product per panel, all reading dy
    for (std::size_t p = 0; p < bounds_.size() && panel_start(p) < dx.cols; ++p) {
      const std::size_t s = panel_start(p), width = panel_width(p, dx.cols);
      be.gemm(dy, op::none, panel(p, r0, dy.cols, width), op::none,
              matrix_ref<T>{dx.data + s, dx.rows, width, dx.ld}, T(1), beta);
    }
  }
  /// This matrix, read as a gradient: W[r0 : r0 + out, :in] += dy [n, out]^T x [n, in] (the
  /// weight gradient of product(); only the slice that was read receives gradient).
  template <backend_policy Backend>
  void accumulate_outer(Backend& be, matrix_ref<const T> dy, matrix_ref<const T> x, std::size_t r0) const {
    HAT_ASSERT(x.cols <= cols() && r0 + dy.cols <= rows_ && x.rows == dy.rows, "paneled_matrix: gradient shapes");
    [[maybe_unused]] const auto pin = pin_operand(be, dy);
    for (std::size_t p = 0; p < bounds_.size() && panel_start(p) < x.cols; ++p) {
      const std::size_t s = panel_start(p), width = panel_width(p, x.cols);
      be.gemm(dy, op::transpose, matrix_ref<const T>{x.data + s, x.rows, width, x.ld}, op::none, panel(p, r0, dy.cols, width),
              T(1), T(1));
    }
  }

  /// y [n, out] = alpha x [n, in] W[r0 : r0 + out, :in]^T + beta y over every panel the first
  /// `in` columns touch: in one call where the backend takes a list of panels (gemm_panels, so
  /// that decoding reads them in one pass), else one product per panel, accumulated.
  template <backend_policy Backend>
  void product(Backend& be, matrix_ref<const T> x, std::size_t r0, matrix_ref<T> y, T alpha = T(1), T beta = T(0)) const {
    HAT_ASSERT(x.cols <= cols() && r0 + y.cols <= rows_ && x.rows == y.rows,
               "paneled_matrix::product: shapes exceed the stored matrix");
    if constexpr (requires(std::span<const matrix_ref<const T>> w) { be.gemm_panels(x, w, y, alpha, beta); }) {
      constexpr std::size_t most = 8;  // HAT's spaces: at most 3 (the FFN widths {1024, 2048, 3072})
      std::size_t touched = 0;
      while (touched < bounds_.size() && panel_start(touched) < x.cols) ++touched;
      if (touched <= most) {
        std::array<matrix_ref<const T>, most> parts{};
        for (std::size_t p = 0; p < touched; ++p)
          parts[p] = panel(p, r0, y.cols, panel_width(p, x.cols));
        return be.gemm_panels(x, std::span<const matrix_ref<const T>>(parts.data(), touched), y, alpha, beta);
      }
    }
    for (std::size_t p = 0; p < bounds_.size() && panel_start(p) < x.cols; ++p) {
      const std::size_t s = panel_start(p), width = panel_width(p, x.cols);
      be.gemm(matrix_ref<const T>{x.data + s, x.rows, width, x.ld}, op::none, panel(p, r0, y.cols, width),
              op::transpose, y, alpha, p == 0 ? beta : T(1));
    }
  }

 private:
  T* data_ = nullptr;
  std::size_t rows_ = 0;
  std::vector<std::size_t> bounds_;
};

/// The panel bounds of a stored width `cols` from the widths sub-layers read (`choices`):
/// every choice below cols, then cols. No choices: one panel.
inline std::vector<std::size_t> panel_bounds(std::size_t cols, std::span<const std::size_t> choices) {
  std::vector<std::size_t> b;
  for (std::size_t c : choices)
    if (c > 0 && c < cols && (b.empty() || c > b.back())) b.push_back(c);
  b.push_back(cols);
  return b;
}

}  // namespace hat
