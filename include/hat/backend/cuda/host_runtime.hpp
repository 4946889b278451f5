// SPDX-License-Identifier: MIT
// host_runtime: an emulated GPU for the CUDA backend, so its kernels and its cuBLAS calls are tested without one.
#pragma once

#if defined(__CUDACC__)
#error "hat/backend/cuda/host_runtime.hpp emulates a GPU with host threads: include it from host-compiled code only"
#endif

#include <barrier>
#include <chrono>
#include <cstddef>
#include <cstring>  // std::memcpy, std::memset
#include <new>
#include <string>
#include <thread>
#include <vector>

#include <hat/backend/cuda/dialect.hpp>
#include <hat/backend/cuda/error.hpp>

namespace hat::cuda_detail {

/// The device_runtime interface on the host: "device" memory is host memory, a launch runs
/// every thread of every block as a host thread (a block's threads at once, with a real
/// barrier, so a missing sync_block shows up as a race), and GEMMs follow cuBLAS's
/// column-major contract, argument checks included. Small blocks and grids (Block threads, at
/// most 3 blocks) make every grid-stride loop and reduction go round more than once; Block is
/// a power of two, 8 by default (each emulated thread is an OS thread, and every barrier wakes
/// them all: 32 made the tests 5x slower). It is a test oracle, not a fast backend.
template <unsigned Block = 8>
class host_runtime {
  static_assert(Block > 0 && (Block & (Block - 1)) == 0, "host_runtime: the block size must be a power of two");

 public:
  static constexpr unsigned block = Block;
  static constexpr std::size_t max_blocks = 3;
  static constexpr std::size_t max_shared_bytes = 48 * 1024;  // CUDA's default limit per block

  explicit host_runtime(int device = 0) {
    if (device != 0) throw cuda_error("hat::cuda_emulator: device " + std::to_string(device) + " requested, 1 present");
  }
  int device() const noexcept { return 0; }

  static void* allocate(std::size_t bytes) {
    if (bytes == 0) return nullptr;
    void* p = ::operator new(bytes, std::align_val_t{256});  // cudaMalloc's alignment
    std::memset(p, 0, bytes);
    return p;
  }
  static void deallocate(void* p) noexcept {
    if (p) ::operator delete(p, std::align_val_t{256});
  }
  void to_device_async(void* dev, const void* host, std::size_t bytes) const {
    if (bytes) std::memcpy(dev, host, bytes);
  }
  void to_host(void* host, const void* dev, std::size_t bytes) const {
    if (bytes) std::memcpy(host, dev, bytes);
  }
  void synchronize() const noexcept {}

  template <class... Params, class... Args>
  void launch(void (*kernel)(Params...), std::size_t grid, std::size_t shared_bytes, Args&&... args) const {
    if (grid == 0) return;
    if (shared_bytes > max_shared_bytes)
      throw cuda_error("hat::cuda_emulator: a launch asks for " + std::to_string(shared_bytes) +
                       " bytes of shared memory per block (cudaErrorInvalidValue past " +
                       std::to_string(max_shared_bytes) + ")");
    std::vector<double> shared((shared_bytes + sizeof(double) - 1) / sizeof(double) + 1);
    std::barrier<> barrier(block);
    const auto body = [&](std::size_t t) {
      auto& ctx = cuda_kernels::this_thread_context;
      ctx = {t, 0, block, grid, reinterpret_cast<unsigned char*>(shared.data()), &barrier};
      for (std::size_t b = 0; b < grid; ++b) {
        ctx.block = b;
        kernel(args...);
        barrier.arrive_and_wait();  // the next block reuses the shared memory
      }
    };
    std::vector<std::jthread> threads;
    threads.reserve(block);
    for (std::size_t t = 0; t < block; ++t) threads.emplace_back(body, t);
  }

  /// cuBLAS's sgemm/dgemm contract: column-major C [m, n] = alpha op(A) op(B) + beta C, C not
  /// read when beta is 0; CUBLAS_STATUS_INVALID_VALUE for bad sizes or leading dimensions.
  template <class T>
  void gemm(bool ta, bool tb, int m, int n, int k, T alpha, const T* a, int lda, const T* b, int ldb, T beta, T* c,
            int ldc) const {
    const auto at_least = [](int v) { return v > 1 ? v : 1; };
    if (m < 0 || n < 0 || k < 0 || lda < at_least(ta ? k : m) || ldb < at_least(tb ? n : k) || ldc < at_least(m))
      throw cuda_error("hat::cuda_emulator: cublas gemm: CUBLAS_STATUS_INVALID_VALUE (m " + std::to_string(m) + ", n " +
                       std::to_string(n) + ", k " + std::to_string(k) + ", lda " + std::to_string(lda) + ", ldb " +
                       std::to_string(ldb) + ", ldc " + std::to_string(ldc) + ")");
    const auto sz = [](int v) { return static_cast<std::size_t>(v); };
    for (std::size_t j = 0; j < sz(n); ++j)
      for (std::size_t i = 0; i < sz(m); ++i) {
        double acc = 0;
        for (std::size_t l = 0; l < sz(k); ++l) {
          const T x = ta ? a[l + i * sz(lda)] : a[i + l * sz(lda)];
          const T y = tb ? b[j + l * sz(ldb)] : b[l + j * sz(ldb)];
          acc += static_cast<double>(x) * static_cast<double>(y);
        }
        T& out = c[i + j * sz(ldc)];
        out = beta == T(0) ? static_cast<T>(alpha * acc) : static_cast<T>(alpha * acc + beta * out);
      }
  }

  template <class F>
  double time_ms(F&& f) const {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }

  std::string describe() const { return "host emulator"; }
};

}  // namespace hat::cuda_detail
