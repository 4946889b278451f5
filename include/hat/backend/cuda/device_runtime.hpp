// SPDX-License-Identifier: MIT
// device_runtime: the CUDA runtime and cuBLAS behind hat::cuda (device memory, one stream, launches, GEMMs, events).
#pragma once

#if !defined(__CUDACC__)
#error "hat/backend/cuda/device_runtime.hpp launches kernels: compile this translation unit with nvcc (a .cu file)"
#endif

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <string>
#include <utility>

#include <hat/backend/cuda/error.hpp>

namespace hat {
namespace cuda_detail {

inline void check(cudaError_t status, const char* call, const char* file, int line) {
  if (status != cudaSuccess)
    throw cuda_error(std::string(file) + ":" + std::to_string(line) + ": " + call + ": " + cudaGetErrorName(status) +
                     " (" + cudaGetErrorString(status) + ")");
}
inline void check(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw cuda_error(std::string(file) + ":" + std::to_string(line) + ": " + call + ": " +
                     cublasGetStatusName(status) + " (" + cublasGetStatusString(status) + ")");
}

}  // namespace cuda_detail
}  // namespace hat

#define HAT_CUDA_CHECK(call) ::hat::cuda_detail::check((call), #call, __FILE__, __LINE__)

namespace hat::cuda_detail {

/// How many CUDA devices this process can use (0 when there is no GPU or no driver).
inline int device_count() noexcept {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky "no device" status
    return 0;
  }
  return n;
}

/// One device, one stream (every primitive is ordered on it) and a cuBLAS handle bound to
/// that stream. Move-only; the destructor waits for the stream and releases both.
class device_runtime {
 public:
  static constexpr unsigned block = 256;          // threads per block (a power of two)
  static constexpr std::size_t max_blocks = 4096;  // grid-stride loops do the rest

  explicit device_runtime(int device = 0) : device_(device) {
    const int n = device_count();
    if (device < 0 || device >= n)
      throw cuda_error("hat::cuda: device " + std::to_string(device) + " requested, " + std::to_string(n) +
                       " CUDA device(s) present");
    HAT_CUDA_CHECK(cudaSetDevice(device));
    HAT_CUDA_CHECK(cudaStreamCreate(&stream_));
    if (const cublasStatus_t st = cublasCreate(&handle_); st != CUBLAS_STATUS_SUCCESS) {
      cudaStreamDestroy(stream_);
      check(st, "cublasCreate", __FILE__, __LINE__);
    }
    HAT_CUDA_CHECK(cublasSetStream(handle_, stream_));
    // fp32 GEMMs stay fp32 (no TF32 rounding): the parity tests compare with the CPU.
    HAT_CUDA_CHECK(cublasSetMathMode(handle_, CUBLAS_DEFAULT_MATH));
  }
  device_runtime(device_runtime&& o) noexcept
      : device_(o.device_), stream_(std::exchange(o.stream_, nullptr)), handle_(std::exchange(o.handle_, nullptr)) {}
  device_runtime& operator=(device_runtime&& o) noexcept {
    if (this != &o) {
      release_();
      device_ = o.device_;
      stream_ = std::exchange(o.stream_, nullptr);
      handle_ = std::exchange(o.handle_, nullptr);
    }
    return *this;
  }
  device_runtime(const device_runtime&) = delete;
  device_runtime& operator=(const device_runtime&) = delete;
  ~device_runtime() { release_(); }

  int device() const noexcept { return device_; }
  cudaStream_t stream() const noexcept { return stream_; }
  cublasHandle_t cublas() const noexcept { return handle_; }

  // --- memory: zeroed on allocation, as std::vector's values are ---
  static void* allocate(std::size_t bytes) {
    if (bytes == 0) return nullptr;
    void* p = nullptr;
    HAT_CUDA_CHECK(cudaMalloc(&p, bytes));
    HAT_CUDA_CHECK(cudaMemset(p, 0, bytes));
    HAT_CUDA_CHECK(cudaDeviceSynchronize());  // the memset runs on the legacy stream
    return p;
  }
  static void deallocate(void* p) noexcept {
    if (p) cudaFree(p);  // synchronises the device: no kernel still reads p
  }

  /// Host to device, ordered on the stream. Pageable `host` memory may be reused on return
  /// (the runtime has staged it); the caller's arrays are pageable std::vectors.
  void to_device_async(void* dev, const void* host, std::size_t bytes) const {
    if (bytes) HAT_CUDA_CHECK(cudaMemcpyAsync(dev, host, bytes, cudaMemcpyHostToDevice, stream_));
  }
  /// Device to host; returns when the bytes are there.
  void to_host(void* host, const void* dev, std::size_t bytes) const {
    if (bytes) HAT_CUDA_CHECK(cudaMemcpyAsync(host, dev, bytes, cudaMemcpyDeviceToHost, stream_));
    HAT_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }
  void synchronize() const { HAT_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

  /// kernel<<<grid, block, shared bytes, stream>>>(args...), checked.
  template <class... Params, class... Args>
  void launch(void (*kernel)(Params...), std::size_t grid, std::size_t shared_bytes, Args&&... args) const {
    if (grid == 0) return;
    kernel<<<static_cast<unsigned>(grid), block, shared_bytes, stream_>>>(std::forward<Args>(args)...);
    HAT_CUDA_CHECK(cudaGetLastError());
  }

  /// Column-major C = alpha op(A) op(B) + beta C, cuBLAS's contract (m, n, k, lda, ldb, ldc).
  void gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
            float beta, float* c, int ldc) const {
    HAT_CUDA_CHECK(cublasSgemm(handle_, ta ? CUBLAS_OP_T : CUBLAS_OP_N, tb ? CUBLAS_OP_T : CUBLAS_OP_N, m, n, k, &alpha,
                               a, lda, b, ldb, &beta, c, ldc));
  }
  void gemm(bool ta, bool tb, int m, int n, int k, double alpha, const double* a, int lda, const double* b, int ldb,
            double beta, double* c, int ldc) const {
    HAT_CUDA_CHECK(cublasDgemm(handle_, ta ? CUBLAS_OP_T : CUBLAS_OP_N, tb ? CUBLAS_OP_T : CUBLAS_OP_N, m, n, k, &alpha,
                               a, lda, b, ldb, &beta, c, ldc));
  }

  /// Milliseconds the stream spends on f's work, by CUDA events recorded before and after it
  /// (HAT's GPU protocol: torch.cuda.Event, then synchronize, then elapsed_time).
  template <class F>
  double time_ms(F&& f) const {
    cudaEvent_t start = nullptr, stop = nullptr;
    HAT_CUDA_CHECK(cudaEventCreate(&start));
    if (const cudaError_t st = cudaEventCreate(&stop); st != cudaSuccess) {
      cudaEventDestroy(start);
      check(st, "cudaEventCreate", __FILE__, __LINE__);
    }
    struct events {
      cudaEvent_t a, b;
      ~events() {
        cudaEventDestroy(a);
        cudaEventDestroy(b);
      }
    } guard{start, stop};
    HAT_CUDA_CHECK(cudaEventRecord(start, stream_));
    f();
    HAT_CUDA_CHECK(cudaEventRecord(stop, stream_));
    HAT_CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0;
    HAT_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    return ms;
  }

  /// The device's name and compute capability, e.g. "NVIDIA H200 (sm_90)".
  std::string describe() const {
    cudaDeviceProp p{};
    HAT_CUDA_CHECK(cudaGetDeviceProperties(&p, device_));
    return std::string(p.name) + " (sm_" + std::to_string(p.major) + std::to_string(p.minor) + ")";
  }

 private:
  void release_() noexcept {
    if (stream_) cudaStreamSynchronize(stream_);
    if (handle_) cublasDestroy(handle_);
    if (stream_) cudaStreamDestroy(stream_);
    handle_ = nullptr;
    stream_ = nullptr;
  }

  int device_ = 0;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t handle_ = nullptr;
};

}  // namespace hat::cuda_detail
