// SPDX-License-Identifier: MIT
// worker_pool: the CPU backend's persistent threads for the few-row products of decoding, which
// OpenBLAS's own threads never reach (those products do not go through BLAS), and for host work
// between products (cpu::host_parts: the beam search's ranking).
#pragma once

// A decoder step is dozens of products of 0.1-64 MB of weights each, a few microseconds to a
// few milliseconds apiece, with small element-wise work between them: threads made per product
// would cost more than they save. The workers live as long as the process, spin a bounded
// number of times after each product (so the next one finds them awake) and then sleep on an
// atomic wait (so an idle pool costs no CPU). Every part of a job is computed by the same code
// whatever the number of threads, so results do not depend on it (the few-row kernel splits
// output columns, each computed whole by one thread).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>  // _mm_getcsr / _mm_setcsr, _mm_pause
#define HAT_WORKER_POOL_MXCSR 1
#endif

namespace hat::detail {

class worker_pool {
 public:
  /// The process's pool; it starts with one thread (the caller's: no workers).
  static worker_pool& instance() {
    static worker_pool pool;
    return pool;
  }

  worker_pool() = default;
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;
  ~worker_pool() {
    const std::lock_guard<std::mutex> lock(busy_);
    resize(1);
  }

  /// Threads a job may use, the caller's included (n < 1 counts as 1). Call it between jobs, as
  /// one sets OpenBLAS's thread count, never from inside a part; a thread the system refuses
  /// leaves the pool smaller.
  void set_threads(int n) noexcept {
    const std::lock_guard<std::mutex> lock(busy_);
    resize(n < 1 ? 1 : n);
  }
  int threads() const noexcept { return threads_.load(std::memory_order_relaxed); }

  /// Runs part(p) for every p in [0, parts) and returns when all have returned: the caller runs
  /// part 0 and worker i part i + 1, and any part beyond the workers (the pool shrank since the
  /// caller read threads()) itself. While another thread of the program is inside run() (or
  /// set_threads()), the caller runs every part itself, in order. A part must not call run().
  /// The caller's floating-point control (MXCSR: flush-to-zero, rounding) is the workers' too.
  template <class Part>
  void run(int parts, Part& part) noexcept {
    std::unique_lock<std::mutex> lock(busy_, std::try_to_lock);
    if (!lock.owns_lock() || parts <= 1 || workers_.empty()) {
      for (int p = 0; p < parts; ++p) part(p);
      return;
    }
    job_ = [](void* ctx, int p) { (*static_cast<Part*>(ctx))(p); };
    ctx_ = &part;
    parts_ = parts;
#ifdef HAT_WORKER_POOL_MXCSR
    csr_ = _mm_getcsr();
#endif
    remaining_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
    generation_.notify_all();
    part(0);
    for (int p = static_cast<int>(workers_.size()) + 1; p < parts; ++p) part(p);
    int left = remaining_.load(std::memory_order_acquire);
    for (std::uint32_t spins = 0; left != 0; left = remaining_.load(std::memory_order_acquire))
      if (++spins < spin_limit) pause();
      else remaining_.wait(left, std::memory_order_acquire);
  }

 private:
  // About 0.1-1 ms of pause instructions, depending on the CPU: longer than the gap between two
  // products of a decoder step, short enough that an idle pool soon sleeps.
  static constexpr std::uint32_t spin_limit = 1u << 14;

  static void pause() noexcept {
#ifdef HAT_WORKER_POOL_MXCSR
    _mm_pause();
#else
    std::this_thread::yield();
#endif
  }

  void resize(int n) noexcept {
    if (!workers_.empty()) {
      stop_.store(true, std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);
      generation_.notify_all();
      for (auto& t : workers_) t.join();
      workers_.clear();
      stop_.store(false, std::memory_order_relaxed);
    }
    for (int i = 1; i < n; ++i) {
      try {
        workers_.emplace_back([this, i, seen = generation_.load(std::memory_order_acquire)] { work(i, seen); });
      } catch (const std::system_error&) {
        break;  // fewer threads than asked: every job still completes
      }
    }
    threads_.store(static_cast<int>(workers_.size()) + 1, std::memory_order_relaxed);
  }

  void work(int index, std::uint64_t seen) noexcept {
    for (;;) {
      std::uint64_t g = generation_.load(std::memory_order_acquire);
      for (std::uint32_t spins = 0; g == seen; g = generation_.load(std::memory_order_acquire))
        if (++spins < spin_limit) pause();
        else generation_.wait(seen, std::memory_order_acquire);
      seen = g;
      if (stop_.load(std::memory_order_relaxed)) return;
      if (index < parts_) {
#ifdef HAT_WORKER_POOL_MXCSR
        _mm_setcsr(csr_);
#endif
        job_(ctx_, index);
      }
      if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) remaining_.notify_one();
    }
  }

  std::mutex busy_;  // held by the one caller of run() (or set_threads()) at a time
  std::vector<std::thread> workers_;
  // The job: written by run() before the generation is bumped (release), read by the workers
  // after they see it (acquire).
  void (*job_)(void*, int) = nullptr;
  void* ctx_ = nullptr;
  int parts_ = 0;
  unsigned csr_ = 0;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<int> remaining_{0};
  std::atomic<bool> stop_{false};
  std::atomic<int> threads_{1};  // workers_.size() + 1, readable without the lock
};

}  // namespace hat::detail
