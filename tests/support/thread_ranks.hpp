// SPDX-License-Identifier: MIT
// Ranks as threads of one process: a communicator that sums in rank order, so data-parallel code
// runs its exactness and failure tests without MPI (sanitizers too), and, on the CUDA emulator,
// the trainer's device-memory sums (what NCCL does on GPUs).
#pragma once

#include <barrier>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <span>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <hat/dist/communicator.hpp>

namespace hat_test {

/// Ranks as threads: each sum adds the ranks' values in rank order (((r0 + r1) + r2) + ...).
class thread_group {
 public:
  explicit thread_group(std::size_t n) : n_(n), barrier_(static_cast<std::ptrdiff_t>(n)), floats_(n), doubles_(n), counts_(n), texts_(n) {}
  std::size_t size() const { return n_; }

  template <class T>
  void sum(std::size_t rank, std::span<T> v) {
    slots<T>()[rank] = v;
    barrier_.arrive_and_wait();
    if (rank == 0) {
      auto& all = slots<T>();
      result<T>().assign(all[0].begin(), all[0].end());
      for (std::size_t r = 1; r < n_; ++r)
        for (std::size_t i = 0; i < v.size(); ++i) result<T>()[i] += all[r][i];
    }
    barrier_.arrive_and_wait();
    std::copy(result<T>().begin(), result<T>().end(), v.begin());
    barrier_.arrive_and_wait();
  }
  void barrier() { barrier_.arrive_and_wait(); }
  std::vector<std::string> gather(std::size_t rank, const std::string& text) {
    texts_[rank] = text;
    barrier_.arrive_and_wait();
    std::vector<std::string> all = texts_;
    barrier_.arrive_and_wait();
    return all;
  }

 private:
  template <class T>
  std::vector<std::span<T>>& slots() {
    if constexpr (std::is_same_v<T, float>) return floats_;
    else if constexpr (std::is_same_v<T, double>) return doubles_;
    else return counts_;
  }
  template <class T>
  std::vector<T>& result() {
    if constexpr (std::is_same_v<T, float>) return float_sum_;
    else if constexpr (std::is_same_v<T, double>) return double_sum_;
    else return count_sum_;
  }
  std::size_t n_;
  std::barrier<> barrier_;
  std::vector<std::span<float>> floats_;
  std::vector<std::span<double>> doubles_;
  std::vector<std::span<std::uint64_t>> counts_;
  std::vector<float> float_sum_;
  std::vector<double> double_sum_;
  std::vector<std::uint64_t> count_sum_;
  std::vector<std::string> texts_;
};

class thread_rank final : public hat::communicator {
 public:
  /// `device` >= 0: "device memory" is host memory (hat::cuda_emulator's), summed like host spans.
  thread_rank(thread_group& g, std::size_t rank, int device = -1) : g_(g), rank_(rank), device_(device) {}
  std::size_t rank() const noexcept override { return rank_; }
  std::size_t size() const noexcept override { return g_.size(); }
  void sum(std::span<float> v) override { g_.sum(rank_, v); }
  void sum(std::span<double> v) override { g_.sum(rank_, v); }
  void sum(std::span<std::uint64_t> v) override { g_.sum(rank_, v); }
  std::vector<std::string> gather(const std::string& text) override { return g_.gather(rank_, text); }
  void barrier() override { g_.barrier(); }
  int cuda_device() const noexcept override { return device_; }
  void sum_device(float* v, std::size_t n) override {
    ++device_sums;
    g_.sum(rank_, std::span<float>(v, n));
  }
  std::size_t device_sums = 0;

 private:
  thread_group& g_;
  std::size_t rank_;
  int device_;
};

/// Runs work(rank, comm) on n threads (ranks with `device` as thread_rank takes it); the first
/// exception of any rank is rethrown here.
inline void on_threads(std::size_t n, const std::function<void(std::size_t, thread_rank&)>& work, int device = -1) {
  thread_group g(n);
  std::vector<std::exception_ptr> errors(n);
  std::vector<std::thread> threads;
  for (std::size_t r = 0; r < n; ++r)
    threads.emplace_back([&, r] {
      thread_rank comm(g, r, device);
      try {
        work(r, comm);
      } catch (...) {
        errors[r] = std::current_exception();
      }
    });
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace hat_test
