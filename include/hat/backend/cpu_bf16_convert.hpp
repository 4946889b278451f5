// SPDX-License-Identifier: MIT
// to_bf16_rows: a strided float matrix rounded to dense bf16 storage (round_to_bf16_n: to bf16 and back
// to float), with AVX-512 where the CPU has it;
// bf16_operand_pin: one conversion for the products that share an operand.
#pragma once

// The bf16 products of training convert both operands of every product (the weights change
// every update), so the conversion runs once per product over as many bytes as the product reads:
// at the scalar loop's speed it would take a third of the time oneDNN takes for the product.
// The vector path computes to_bf16's integer rounding lane by lane, so both give the same bits.
#include <array>
#include <cstddef>
#include <cstring>
#include <vector>

#include <hat/backend/bf16.hpp>
#include <hat/backend/concepts.hpp>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAT_BF16_CONVERT_X86 1
#endif

namespace hat::detail {

inline void to_bf16_scalar(const float* x, std::size_t n, bf16* out) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = to_bf16(x[i]);
}

#ifdef HAT_BF16_CONVERT_X86
// 16 floats' bf16 bits (to_bf16) in the low halves of 32-bit lanes.
[[gnu::target("avx512f,avx512bw")]] inline __m512i to_bf16_lanes(__m512i u) noexcept {
  const __m512i abs_mask = _mm512_set1_epi32(0x7FFFFFFF), inf = _mm512_set1_epi32(0x7F800000);
  const __m512i half = _mm512_set1_epi32(0x7FFF), one = _mm512_set1_epi32(1), quiet = _mm512_set1_epi32(0x0040);
  const __mmask16 all = 0xFFFF;  // the zero-masked forms: GCC 12 warns on the others' undefined start values
  const __m512i high = _mm512_maskz_srli_epi32(all, u, 16);
  const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, abs_mask), inf);
  const __m512i even = _mm512_add_epi32(_mm512_add_epi32(u, half), _mm512_and_si512(high, one));
  return _mm512_mask_mov_epi32(_mm512_maskz_srli_epi32(all, even, 16), nan, _mm512_or_si512(high, quiet));
}

[[gnu::target("avx512f,avx512bw")]] inline void to_bf16_avx512(const float* x, std::size_t n, bf16* out) noexcept {
  const __mmask16 all = 0xFFFF;
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i),
                        _mm512_maskz_cvtepi32_epi16(all, to_bf16_lanes(_mm512_loadu_si512(x + i))));
  to_bf16_scalar(x + i, n - i, out + i);
}

// The CPU's own conversion (AVX512-BF16's vcvtne2ps2bf16: nearest even, NaN quieted as to_bf16
// does) gives to_bf16's bits for every float but the subnormals, which it flushes to zero (all
// 2^32 inputs compared on an AMD EPYC); blocks holding one take the integer path. 1.3x the
// integer path's speed on 4 MB of operands (0.078 against 0.103 ns a value).
[[gnu::target("avx512f,avx512bw,avx512bf16")]] inline void to_bf16_avx512_bf16(const float* x, std::size_t n, bf16* out) noexcept {
  const __m512i exponent = _mm512_set1_epi32(0x7F800000), mantissa = _mm512_set1_epi32(0x007FFFFF);
  const __mmask16 all = 0xFFFF;
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512i lo = _mm512_loadu_si512(x + i), hi = _mm512_loadu_si512(x + i + 16);
    const __mmask16 sub_lo = _mm512_mask_test_epi32_mask(_mm512_testn_epi32_mask(lo, exponent), lo, mantissa);
    const __mmask16 sub_hi = _mm512_mask_test_epi32_mask(_mm512_testn_epi32_mask(hi, exponent), hi, mantissa);
    if ((sub_lo | sub_hi) == 0) {
      const __m512bh r = _mm512_cvtne2ps_pbh(_mm512_castsi512_ps(hi), _mm512_castsi512_ps(lo));
      std::memcpy(static_cast<void*>(out + i), &r, sizeof r);
    } else {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm512_maskz_cvtepi32_epi16(all, to_bf16_lanes(lo)));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i + 16), _mm512_maskz_cvtepi32_epi16(all, to_bf16_lanes(hi)));
    }
  }
  to_bf16_avx512(x + i, n - i, out + i);
}

[[gnu::target("avx512f,avx512bw")]] inline void round_to_bf16_avx512(const float* x, std::size_t n, float* out) noexcept {
  const __mmask16 all = 0xFFFF;
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_si512(out + i, _mm512_maskz_slli_epi32(all, to_bf16_lanes(_mm512_loadu_si512(x + i)), 16));
  for (; i < n; ++i) out[i] = to_float(to_bf16(x[i]));
}

inline bool bf16_convert_has_avx512() noexcept {
  static const bool avx512 = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  }();
  return avx512;
}
inline bool bf16_convert_has_avx512_bf16() noexcept {
  static const bool bf16 = [] {
    __builtin_cpu_init();
    return bf16_convert_has_avx512() && __builtin_cpu_supports("avx512bf16");
  }();
  return bf16;
}
#endif

/// n floats at x rounded to the nearest bf16 (ties to even, as to_bf16) into out.
inline void to_bf16_n(const float* x, std::size_t n, bf16* out) noexcept {
#ifdef HAT_BF16_CONVERT_X86
  if (bf16_convert_has_avx512_bf16()) return to_bf16_avx512_bf16(x, n, out);
  if (bf16_convert_has_avx512()) return to_bf16_avx512(x, n, out);
#endif
  to_bf16_scalar(x, n, out);
}

/// n floats at x rounded to the nearest bf16 and back (to_float(to_bf16(x))) into out: the
/// rounding path's operands (cpu_bf16_products.hpp).
inline void round_to_bf16_n(const float* x, std::size_t n, float* out) noexcept {
#ifdef HAT_BF16_CONVERT_X86
  if (bf16_convert_has_avx512()) return round_to_bf16_avx512(x, n, out);
#endif
  for (std::size_t i = 0; i < n; ++i) out[i] = to_float(to_bf16(x[i]));
}

/// x [rows, cols] (row stride x.ld) rounded to bf16, written densely (row stride cols) into
/// `out`, which grows to rows x cols and is kept for the caller's next conversion. On the calling
/// thread: split over the worker pool, its spinning threads and oneDNN's OpenMP threads took
/// turns on two cores, and a 512 x 256 x 256 product ran 10x slower (docs/performance.md).
inline const bf16* to_bf16_rows(matrix_ref<const float> x, std::vector<bf16>& out) {
  if (out.size() < x.rows * x.cols) out.resize(x.rows * x.cols);
  if (x.ld == x.cols) {
    to_bf16_n(x.data, x.rows * x.cols, out.data());
  } else {
    for (std::size_t i = 0; i < x.rows; ++i) to_bf16_n(x.data + i * x.ld, x.cols, out.data() + i * x.cols);
  }
  return out.data();
}

/// While it lives, the bf16 products of this thread that read `x` (the same view: data, rows,
/// cols, ld; as either operand, transposed or not) convert it once and share the conversion:
/// a gradient feeds both the input's and the weight's gradient product, once per panel of the
/// weight (the output table's [tokens, vocabulary] gradient was converted four times an
/// update). The caller promises x's values do not change while the pin lives. Two pins at most
/// are active per thread (a further one does nothing); pinning a view already pinned adds none.
class bf16_operand_pin {
 public:
  explicit bf16_operand_pin(matrix_ref<const float> x) noexcept {
    if (x.data == nullptr || find(x) != nullptr) return;
    for (slot& s : slots())
      if (!s.active) {
        s.active = true;
        s.converted = false;
        s.x = x;
        slot_ = &s;
        return;
      }
  }
  bf16_operand_pin(const bf16_operand_pin&) = delete;
  bf16_operand_pin& operator=(const bf16_operand_pin&) = delete;
  ~bf16_operand_pin() {
    if (slot_) slot_->active = false;
  }

  /// x's dense bf16 conversion: the pinned one (converted on first use), else made in `scratch`.
  static const bf16* convert(matrix_ref<const float> x, std::vector<bf16>& scratch) {
    slot* s = find(x);
    if (s == nullptr) return to_bf16_rows(x, scratch);
    if (!s->converted) {
      to_bf16_rows(x, s->bf16s);
      s->converted = true;
    }
    return s->bf16s.data();
  }

 private:
  struct slot {
    bool active = false, converted = false;
    matrix_ref<const float> x{};
    std::vector<bf16> bf16s;  // kept between pins: no allocation once grown
  };
  static std::array<slot, 2>& slots() noexcept {
    thread_local std::array<slot, 2> s;
    return s;
  }
  static slot* find(matrix_ref<const float> x) noexcept {
    for (slot& s : slots())
      if (s.active && s.x.data == x.data && s.x.rows == x.rows && s.x.cols == x.cols && s.x.ld == x.ld) return &s;
    return nullptr;
  }
  slot* slot_ = nullptr;
};

}  // namespace hat::detail
