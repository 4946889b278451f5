// SPDX-License-Identifier: MIT
// hat::cuda_emulator: the CUDA backend's code (kernels, launches, cuBLAS calls) run on host threads, for tests.
#pragma once

#include <hat/backend/concepts.hpp>
#include <hat/backend/cuda/host_runtime.hpp>
#include <hat/backend/cuda/policy.hpp>

namespace hat {

/// hat::cuda's policy over an emulated GPU (cuda/host_runtime.hpp): the same kernel source and
/// the same cuBLAS arguments, executed on the host, so a machine without a GPU checks them
/// against hat::cpu. Slow (a host thread per GPU thread); for tests only.
using cuda_emulator = basic_cuda<cuda_detail::host_runtime<>>;
static_assert(backend_policy<cuda_emulator>);

}  // namespace hat
