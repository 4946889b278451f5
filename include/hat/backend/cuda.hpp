// SPDX-License-Identifier: MIT
// hat::cuda: the backend policy on an NVIDIA GPU (CUDA runtime, cuBLAS, hat's kernels).
#pragma once

// Compile cost: this header brings in the CUDA runtime and cuBLAS, and the translation unit
// that includes it must be compiled by nvcc (a .cu file: the kernels are instantiated there).
// Like backend/cpu.hpp, it is the only heavy include of such a TU (docs/architecture.md).
#if !defined(__CUDACC__)
#error "hat/backend/cuda.hpp: compile this translation unit with nvcc (a .cu file); host code without a GPU can use hat/backend/cuda_emulator.hpp"
#endif

#include <hat/backend/concepts.hpp>
#include <hat/backend/cuda/device_runtime.hpp>
#include <hat/backend/cuda/policy.hpp>

namespace hat {

/// The CUDA backend: `hat::cuda be{device};` owns that device's stream and cuBLAS handle.
using cuda = basic_cuda<cuda_detail::device_runtime>;
static_assert(backend_policy<cuda>);

/// How many CUDA devices this process can use: 0 without a GPU or driver (tests skip then).
inline int cuda_device_count() noexcept { return cuda_detail::device_count(); }

}  // namespace hat
