// SPDX-License-Identifier: MIT
// int8_weights: an int8 copy of a model's weight matrices with symmetric scales, made once, that
// the CPU backend's products x W^T read instead of the fp32 weights: a quarter of the bytes.
#pragma once

// The int8 values mirror the fp32 parameter arena element for element, as bf16_weights does, so
// a SubTransformer's slice (a pointer and a leading dimension into the super weights) finds its
// int8 twin at the same offset: elastic and zero-copy. Each stored row has one scale, which a
// slice reuses without requantising; where the rows of a paneled matrix (nn/paneled_matrix.hpp)
// take their scales from is the choice int8_scales names (precision.hpp). The scales are found
// from the matrix a view falls in: only the matrices the model lists are converted, anything
// else (biases, activations, caches) stays fp32. A snapshot, like bf16_weights.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <hat/backend/huge_page_allocator.hpp>
#include <hat/backend/int8_rows.hpp>
#include <hat/backend/precision.hpp>
#include <hat/config.hpp>

namespace hat {

namespace detail {

/// One weight matrix [rows, bounds.back()] of an arena, stored in column panels ending at
/// `bounds` (one bound: plain row-major), at `offset` floats from the arena's start.
struct int8_matrix {
  std::string name;  // for errors
  std::size_t offset = 0, rows = 0;
  std::vector<std::size_t> bounds;
};

/// An int8 twin of a block of weights: q [rows, cols] (leading dimension as asked) and one scale
/// per row, w ≈ scale[r] · q[r, :]; q is nullptr when the block is not a converted weight.
struct int8_view {
  const std::int8_t* q = nullptr;
  const float* scale = nullptr;
};

class int8_weights {
 public:
  /// Converts `matrices` (ascending offsets, each within the `count` floats at `begin`) with
  /// scales taken over `scales`' span of each row. A non-finite weight is a config_error naming
  /// its matrix: int8 has no code for it.
  int8_weights(const float* begin, std::size_t count, std::vector<int8_matrix> matrices, int8_scales scales)
      : begin_(begin), count_(count), matrices_(std::move(matrices)), scales_(scales), q_(count, 0) {
    std::size_t end = 0;
    for (const auto& m : matrices_) {
      HAT_ASSERT(!m.bounds.empty() && m.offset >= end && m.offset + m.rows * m.bounds.back() <= count,
                 ("int8_weights: matrix '" + m.name + "' lies outside the arena or before the previous one").c_str());
      end = m.offset + m.rows * m.bounds.back();
      first_scale_.push_back(scale_.size());
      const std::size_t panels = scale_panels(m);
      scale_.resize(scale_.size() + panels * m.rows, 0.0f);
      float* s = scale_.data() + first_scale_.back();
      // A row's scale: max |w| / 127 over the segments that share it (its panel, or all of them).
      for (std::size_t p = 0; p < m.bounds.size(); ++p) {
        const std::size_t start = p == 0 ? 0 : m.bounds[p - 1], width = m.bounds[p] - start;
        const float* block = begin + m.offset + m.rows * start;
        for (std::size_t r = 0; r < m.rows; ++r) {
          const float* row = block + r * width;
          for (std::size_t c = 0; c < width; ++c)
            if (!std::isfinite(row[c]))
              throw config_error("precision int8: weight '" + m.name + "' holds a non-finite value (row " +
                                 std::to_string(r) + ", column " + std::to_string(start + c) + ")");
          float& scale = s[(panels == 1 ? 0 : p) * m.rows + r];
          scale = std::fmax(scale, int8_row_scale(row, width));
        }
      }
      for (std::size_t p = 0; p < m.bounds.size(); ++p) {
        const std::size_t start = p == 0 ? 0 : m.bounds[p - 1], width = m.bounds[p] - start;
        const std::size_t at = m.offset + m.rows * start;
        for (std::size_t r = 0; r < m.rows; ++r)
          quantize_int8(begin + at + r * width, width, s[(panels == 1 ? 0 : p) * m.rows + r], q_.data() + at + r * width);
      }
    }
  }

  /// The fp32 arena this copy was made from.
  const float* begin() const noexcept { return begin_; }
  /// Where the rows' scales were taken over.
  int8_scales scales() const noexcept { return scales_; }

  /// The int8 twin of the block [rows, cols] at `w` (leading dimension ld) when it lies within
  /// one panel of one converted matrix with that panel's width as ld; {} otherwise.
  int8_view find(const float* w, std::size_t rows, std::size_t cols, std::size_t ld) const noexcept {
    const auto at = reinterpret_cast<std::uintptr_t>(w), lo = reinterpret_cast<std::uintptr_t>(begin_);
    if (rows == 0 || at < lo || (at - lo) % sizeof(float) != 0) return {};
    const std::size_t offset = (at - lo) / sizeof(float);
    if (offset >= count_) return {};
    // The last matrix starting at or before `offset`.
    const auto it = std::upper_bound(matrices_.begin(), matrices_.end(), offset,
                                     [](std::size_t o, const int8_matrix& m) { return o < m.offset; });
    if (it == matrices_.begin()) return {};
    const std::size_t i = static_cast<std::size_t>(it - matrices_.begin()) - 1;
    const int8_matrix& m = matrices_[i];
    const std::size_t rel = offset - m.offset;
    for (std::size_t p = 0; p < m.bounds.size(); ++p) {
      const std::size_t start = p == 0 ? 0 : m.bounds[p - 1], width = m.bounds[p] - start;
      if (rel >= m.rows * m.bounds[p]) continue;
      const std::size_t r = (rel - m.rows * start) / width, c = (rel - m.rows * start) % width;
      if (ld != width || c + cols > width || r + rows > m.rows) return {};
      const float* s = scale_.data() + first_scale_[i];
      return {q_.data() + offset, s + (scale_panels(m) == 1 ? 0 : p) * m.rows + r};
    }
    return {};
  }

 private:
  // How many scales each row of m has: one per panel, or one over the whole row.
  std::size_t scale_panels(const int8_matrix& m) const noexcept {
    return scales_ == int8_scales::panel ? m.bounds.size() : 1;
  }

  const float* begin_;
  std::size_t count_;
  std::vector<int8_matrix> matrices_;
  int8_scales scales_;
  std::vector<std::size_t> first_scale_;  // per matrix: its first scale in scale_
  std::vector<float> scale_;
  std::vector<std::int8_t, huge_page_allocator<std::int8_t>> q_;
};

}  // namespace detail

}  // namespace hat
