// SPDX-License-Identifier: MIT
// bf16_weights: a bf16 copy of a model's weights, made once, that the CPU backend's products
// x W^T read instead of the fp32 weights: half the bytes per decoder step.
#pragma once

// The copy mirrors the fp32 parameter arena element for element, so any view into the arena
// (a SubTransformer's slice: a pointer and a leading dimension into the super weights) has its
// bf16 twin at the same offset with the same leading dimension: elastic and zero-copy as in
// fp32. Activations, the accumulation and everything else stay fp32 (cpu_few_rows_bf16.hpp).
// The copy is a snapshot: weights changed afterwards (training) are not seen until it is made
// again.
#include <cstddef>
#include <cstdint>
#include <vector>

#include <hat/backend/bf16.hpp>
#include <hat/backend/cpu_bf16_convert.hpp>
#include <hat/backend/huge_page_allocator.hpp>

namespace hat {

namespace detail {

class bf16_weights {
 public:
  /// Converts the `count` floats at `begin` (a model's parameter arena).
  bf16_weights(const float* begin, std::size_t count) : begin_(begin), count_(count), bf16_(count) {
    to_bf16_n(begin, count, bf16_.data());
  }

  /// The bf16 twin of the matrix [rows, cols] at `w` (leading dimension ld) when all of it lies
  /// in the converted range; nullptr otherwise (activations, caches: those stay fp32).
  /// The fp32 arena this copy was made from.
  const float* begin() const noexcept { return begin_; }

  const bf16* find(const float* w, std::size_t rows, std::size_t cols, std::size_t ld) const noexcept {
    const auto at = reinterpret_cast<std::uintptr_t>(w), lo = reinterpret_cast<std::uintptr_t>(begin_);
    if (rows == 0 || at < lo || (at - lo) % sizeof(float) != 0) return nullptr;
    const std::size_t offset = (at - lo) / sizeof(float);
    if (offset >= count_ || (rows - 1) * ld + cols > count_ - offset) return nullptr;
    return bf16_.data() + offset;
  }

 private:
  const float* begin_;
  std::size_t count_;
  std::vector<bf16, huge_page_allocator<bf16>> bf16_;
};

}  // namespace detail

}  // namespace hat
