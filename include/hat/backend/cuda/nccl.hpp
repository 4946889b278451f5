// SPDX-License-Identifier: MIT
// nccl: a communicator whose sums of GPU memory are NCCL all-reduces on the backend's stream (the
// gradient never leaves the GPU); everything else goes through a host communicator (MPI), which
// also hands NCCL its rendezvous. NCCL is loaded when the first nccl_communicator is made
// (dlopen), so a binary built with this header still starts where NCCL is not installed.
// Needs <nccl.h> and the CUDA runtime's host API, not nvcc (CMake: hat::nccl).
#pragma once

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <cstddef>
#include <cstdlib>
#include <exception>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <hat/backend/runtime_library.hpp>
#include <hat/dist/communicator.hpp>

namespace hat {

/// An NCCL call, or loading NCCL, failed.
struct nccl_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace nccl_detail {

/// The NCCL functions hat calls, from the library loaded at run time.
struct library {
  decltype(&::ncclGetVersion) get_version = nullptr;
  decltype(&::ncclGetUniqueId) get_unique_id = nullptr;
  decltype(&::ncclCommInitRank) init_rank = nullptr;
  decltype(&::ncclAllReduce) all_reduce = nullptr;
  decltype(&::ncclCommDestroy) destroy = nullptr;
  decltype(&::ncclCommAbort) abort = nullptr;
  decltype(&::ncclGetErrorString) error_string = nullptr;
  decltype(&::ncclGetLastError) last_error = nullptr;
  int version = 0;  // e.g. 22809 for 2.28.9
};

/// NCCL, loaded once per process: the file HAT_NCCL_LIBRARY names, else libnccl.so.2 where the
/// loader finds it (LD_LIBRARY_PATH: the CUDA toolkit's lib64, or the nvidia-nccl wheel's lib).
inline const library& load() {
  static const library lib = [] {
    const char* file = std::getenv("HAT_NCCL_LIBRARY");
    if (!file || !*file) file = "libnccl.so.2";
    std::string why;
    void* handle = detail::open_runtime_library(file, why);
    if (!handle)
      throw nccl_error("NCCL could not be loaded (" + why +
                       "): install NCCL (the CUDA toolkit's lib64 or the nvidia-nccl wheel has libnccl.so.2), add its folder to "
                       "LD_LIBRARY_PATH, or name the file in HAT_NCCL_LIBRARY");
    library l;
    const auto bind = [&](auto& f, const char* name) {
      if (!detail::bind_runtime_symbol(handle, f, name))
        throw nccl_error(std::string(file) + " has no " + name + ": hat needs NCCL 2.13 or later");
    };
    bind(l.get_version, "ncclGetVersion");
    bind(l.get_unique_id, "ncclGetUniqueId");
    bind(l.init_rank, "ncclCommInitRank");
    bind(l.all_reduce, "ncclAllReduce");
    bind(l.destroy, "ncclCommDestroy");
    bind(l.abort, "ncclCommAbort");
    bind(l.error_string, "ncclGetErrorString");
    bind(l.last_error, "ncclGetLastError");
    l.get_version(&l.version);
    return l;
  }();
  return lib;
}

inline void check(const library& lib, ncclResult_t r, const char* call, ncclComm_t comm = nullptr) {
  if (r == ncclSuccess) return;
  std::string what = std::string(call) + " failed: " + lib.error_string(r);
  if (const char* detail = lib.last_error(comm); detail && *detail) what += std::string(" (") + detail + ")";
  throw nccl_error(what);
}

}  // namespace nccl_detail

/// The version of the NCCL this process loads (e.g. "2.28.9"); throws nccl_error where there is none.
inline std::string nccl_version() {
  const int v = nccl_detail::load().version;
  const int major = v >= 10000 ? v / 10000 : v / 1000, rest = v >= 10000 ? v % 10000 : v % 1000;
  return std::to_string(major) + "." + std::to_string(rest / 100) + "." + std::to_string(rest % 100);
}

/// A group of ranks with one GPU each: rank(), size(), the host sums, gather and barrier are the
/// host communicator's; sum_device() is ncclAllReduce (sum, in place) on `stream`, so it is
/// ordered after the gradient's backward and before the optimiser, with no synchronisation.
/// For two ranks the sums are exact whatever NCCL's algorithm (a + b == b + a); for more,
/// NCCL's ring or tree decides the order of the additions (docs/distributed.md).
/// Collective to make (every rank of `host`, each with its own device) and to destroy;
/// `host` must outlive it. A rank whose ncclCommInitRank fails throws nccl_error while the
/// others wait in theirs: under MPI the job then ends (hat's command line calls MPI_Abort).
class nccl_communicator final : public communicator {
 public:
  /// Every rank of `host` passes the GPU it uses and the stream its backend queues work on.
  nccl_communicator(communicator& host, int device, cudaStream_t stream) : host_(host), device_(device), stream_(stream) {
    on_every_rank(host_, [&] {  // every rank loads NCCL and its device, or all of them stop alike
      lib_ = &nccl_detail::load();
      if (const cudaError_t e = cudaSetDevice(device_); e != cudaSuccess)
        throw nccl_error("nccl_communicator: CUDA device " + std::to_string(device_) + ": " + cudaGetErrorString(e));
    });
    ncclUniqueId id{};
    on_rank0(host_, [&] { nccl_detail::check(*lib_, lib_->get_unique_id(&id), "ncclGetUniqueId"); });
    share_from_rank0(host_, id);
    nccl_detail::check(*lib_, lib_->init_rank(&comm_, static_cast<int>(host_.size()), id, static_cast<int>(host_.rank())),
                       "ncclCommInitRank");
  }
  /// On a GPU backend (hat::cuda): its device and its stream.
  template <class Backend>
    requires requires(Backend& b) {
      b.runtime().device();
      b.runtime().stream();
    }
  nccl_communicator(communicator& host, Backend& be) : nccl_communicator(host, be.runtime().device(), be.runtime().stream()) {}
  nccl_communicator(const nccl_communicator&) = delete;
  nccl_communicator& operator=(const nccl_communicator&) = delete;
  /// Waits for the sums still queued (ncclCommDestroy); while an exception unwinds the stack it
  /// abandons them instead (ncclCommAbort), since the other ranks may never join them.
  ~nccl_communicator() override {
    if (std::uncaught_exceptions() > unwinding_) abort();
    if (comm_) lib_->destroy(comm_);
  }

  std::size_t rank() const noexcept override { return host_.rank(); }
  std::size_t size() const noexcept override { return host_.size(); }
  void sum(std::span<float> v) override { host_.sum(v); }
  void sum(std::span<double> v) override { host_.sum(v); }
  void sum(std::span<std::uint64_t> v) override { host_.sum(v); }
  std::vector<std::string> gather(const std::string& text) override { return host_.gather(text); }
  void barrier() override { host_.barrier(); }

  int cuda_device() const noexcept override { return device_; }
  void sum_device(float* values, std::size_t n) override {
    if (n == 0) return;
    nccl_detail::check(*lib_, lib_->all_reduce(values, values, n, ncclFloat32, ncclSum, comm_, stream_), "ncclAllReduce", comm_);
  }

  /// Abandons the sums in flight (ncclCommAbort) instead of waiting for them: for a rank that
  /// ends while others may never join them.
  void abort() noexcept {
    if (comm_) lib_->abort(std::exchange(comm_, nullptr));
  }

 private:
  communicator& host_;
  int device_;
  cudaStream_t stream_;
  const nccl_detail::library* lib_ = nullptr;
  ncclComm_t comm_ = nullptr;
  int unwinding_ = std::uncaught_exceptions();  // exceptions in flight when this was made
};

}  // namespace hat
