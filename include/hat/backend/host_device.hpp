// SPDX-License-Identifier: MIT
// HAT_HOST_DEVICE: marks the few functions both host code and CUDA kernels call (dropout masks).
#pragma once

#if defined(__CUDACC__)
#define HAT_HOST_DEVICE __host__ __device__
#else
#define HAT_HOST_DEVICE
#endif
