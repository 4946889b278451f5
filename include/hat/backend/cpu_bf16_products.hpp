// SPDX-License-Identifier: MIT
// bf16_rounded: a product's operand rounded to bf16, for training with bf16 products (autocast-style).
#pragma once

// Why rounding and an fp32 GEMM give bf16 products exactly: a bf16 has an 8-bit significand, so
// the product of two is exact in a float's 24 bits, and OpenBLAS's sgemm then sums those exact
// products in fp32: bf16 inputs, fp32 accumulation, which is what a bf16 GEMM with fp32
// accumulation computes (up to the order of the sums). Debian's OpenBLAS 0.3.21 exports no
// sbgemm (docs/performance.md), so this is the portable path on every x86-64.
#include <cstddef>
#include <cstdint>
#include <vector>

#include <hat/backend/bf16.hpp>
#include <hat/backend/cpu_bf16_convert.hpp>
#include <hat/backend/concepts.hpp>

namespace hat::detail {

/// x [rows, cols] (row stride x.ld) with every element rounded to the nearest bf16 (ties to
/// even; to_bf16), written densely into `scratch` as floats; returns the view of it (its row
/// stride at least 1, as BLAS requires of an empty operand too).
inline matrix_ref<const float> bf16_rounded(matrix_ref<const float> x, std::vector<float>& scratch) {
  scratch.resize(x.rows * x.cols);
  float* out = scratch.data();
  for (std::size_t i = 0; i < x.rows; ++i) round_to_bf16_n(x.data + i * x.ld, x.cols, out + i * x.cols);
  return {out, x.rows, x.cols, x.cols > 0 ? x.cols : 1};
}

}  // namespace hat::detail
