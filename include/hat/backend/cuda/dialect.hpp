// SPDX-License-Identifier: MIT
// The little of CUDA's kernel dialect hat's kernels use, for nvcc or for the host emulator.
#pragma once

#include <cstddef>

// Kernels are written against these names only: thread and block indices, a block barrier
// and the block's dynamic shared memory (no static __shared__ arrays, no warp intrinsics, no
// atomics). Under nvcc they are CUDA's; under a host compiler they are the emulator's
// (cuda/host_runtime.hpp runs every thread of a block as a host thread), so the same kernel
// source is tested on machines without a GPU.
#if defined(__CUDACC__)

#define HAT_GLOBAL __global__
#define HAT_DEVICE __device__ __forceinline__

namespace hat::cuda_kernels {
HAT_DEVICE std::size_t thread_x() { return threadIdx.x; }
HAT_DEVICE std::size_t block_x() { return blockIdx.x; }
HAT_DEVICE std::size_t block_dim() { return blockDim.x; }
HAT_DEVICE std::size_t grid_dim() { return gridDim.x; }
HAT_DEVICE void sync_block() { __syncthreads(); }
/// The block's dynamic shared memory (the launch's byte count), 16-byte aligned.
template <class T>
HAT_DEVICE T* shared_memory() {
  extern __shared__ __align__(16) unsigned char hat_shared_bytes[];
  return reinterpret_cast<T*>(hat_shared_bytes);
}
}  // namespace hat::cuda_kernels

#else  // the host emulator

#include <barrier>

#define HAT_GLOBAL inline
#define HAT_DEVICE inline

namespace hat::cuda_kernels {
/// What one emulated GPU thread sees: set by the emulator before it calls a kernel.
struct emulated_thread {
  std::size_t thread = 0, block = 0, block_dim = 1, grid_dim = 1;
  unsigned char* shared = nullptr;
  std::barrier<>* barrier = nullptr;
};
inline thread_local emulated_thread this_thread_context;

inline std::size_t thread_x() { return this_thread_context.thread; }
inline std::size_t block_x() { return this_thread_context.block; }
inline std::size_t block_dim() { return this_thread_context.block_dim; }
inline std::size_t grid_dim() { return this_thread_context.grid_dim; }
inline void sync_block() { this_thread_context.barrier->arrive_and_wait(); }
template <class T>
T* shared_memory() {
  return reinterpret_cast<T*>(this_thread_context.shared);
}
}  // namespace hat::cuda_kernels

#endif
