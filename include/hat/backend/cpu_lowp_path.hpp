// SPDX-License-Identifier: MIT
// lowp_path: which instruction set the low-precision few-row kernels run on, and the tiling they share.
#pragma once

// Decoding streams every weight once per step, so at beam widths its time is the bytes it reads
// (docs/performance.md): weights stored in bf16 (cpu_few_rows_bf16.hpp) or int8
// (cpu_few_rows_int8.hpp) cut them 2x or 4x, while x, the accumulation and y stay fp32. As
// cpu_few_rows.hpp: intrinsics in functions compiled for their instruction set (target
// attributes), the widest path the CPU has chosen at run time, no -march needed.
#include <cstddef>
#include <vector>

#include <hat/backend/cpu_few_rows.hpp>

namespace hat::detail {

/// The instruction sets the low-precision kernels are written for. best_lowp_path() is the one
/// products take; tests run every path the CPU has (lowp_path_available).
enum class lowp_path {
  scalar,       // portable loops: the reference
  avx2,         // AVX2 + FMA: 8 floats / 16 int16 per vector
  avx512,       // AVX-512 F, BW and VL: 16 floats / 32 int16 per vector
  avx512_vnni,  // the same with AVX512-VNNI's vpdpwssd for int8 (bf16: as avx512)
};

inline const char* lowp_path_name(lowp_path p) noexcept {
  switch (p) {
    case lowp_path::avx2: return "avx2";
    case lowp_path::avx512: return "avx512";
    case lowp_path::avx512_vnni: return "avx512-vnni";
    default: return "scalar";
  }
}

inline bool lowp_path_available(lowp_path p) noexcept {
#ifdef HAT_FEW_ROWS_X86
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
  switch (p) {
    case lowp_path::scalar: return true;
    case lowp_path::avx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case lowp_path::avx512: return avx512;
    case lowp_path::avx512_vnni: return avx512 && __builtin_cpu_supports("avx512vnni");
  }
  return false;
#else
  return p == lowp_path::scalar;
#endif
}

inline lowp_path best_lowp_path() noexcept {
  static const lowp_path best = [] {
    for (lowp_path p : {lowp_path::avx512_vnni, lowp_path::avx512, lowp_path::avx2})
      if (lowp_path_available(p)) return p;
    return lowp_path::scalar;
  }();
  return best;
}

// Per-thread scratch for the prepared x rows: m rows of k, kept for the thread's next product
// (decoding: a few hundred kB; a batch of beams or an encoder batch under --precision: up to
// a few MB).
template <class T>
inline std::vector<T>& lowp_scratch() {
  thread_local std::vector<T> v;
  return v;
}

inline std::size_t round_up(std::size_t k, std::size_t to) noexcept { return (k + to - 1) / to * to; }

}  // namespace hat::detail
