// SPDX-License-Identifier: MIT
// communicator: what data-parallel training asks of a group of processes (ranks): element-wise sums
// every rank receives, and every rank's text in rank order. One process needs no MPI at all
// (single_process); mpi.hpp implements it on MPI, docs/distributed.md says how to launch it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <hat/config.hpp>

#include <unistd.h>  // gethostname

namespace hat {

/// A group of `size()` processes, this one being `rank()` (0-based). Every call is collective:
/// each rank makes the same calls in the same order, or the group waits for the missing one.
class communicator {
 public:
  virtual ~communicator() = default;
  virtual std::size_t rank() const noexcept = 0;
  virtual std::size_t size() const noexcept = 0;
  /// In place, element-wise: the sum over the ranks, the same on every rank. With two ranks the
  /// sum is exact to the bit whatever the order (a + b == b + a in IEEE arithmetic); with more,
  /// the order the implementation adds in may differ from a single process's.
  virtual void sum(std::span<float> values) = 0;
  virtual void sum(std::span<double> values) = 0;
  virtual void sum(std::span<std::uint64_t> values) = 0;
  /// Every rank's `text`, in rank order, on every rank.
  virtual std::vector<std::string> gather(const std::string& text) = 0;
  /// Returns once every rank has called it, waiting without keeping a core busy (ranks idle
  /// while rank 0 alone measures latency must not disturb it).
  virtual void barrier() = 0;

  /// The CUDA device whose memory sum_device() sums in place; -1 (the default): host memory
  /// only. A GPU communicator (backend/cuda/nccl.hpp) is made for one backend's device and stream.
  virtual int cuda_device() const noexcept { return -1; }
  /// In place, element-wise, like sum(float), on `n` floats in cuda_device()'s memory, ordered
  /// after the work already queued on the stream of the backend the communicator was made for
  /// (and before what is queued next): the gradient is summed where it is, never copied to
  /// the host. Only where cuda_device() >= 0.
  virtual void sum_device(float* /*values*/, std::size_t /*n*/) {
    throw std::logic_error("hat::communicator::sum_device: this communicator sums host memory only (cuda_device() is -1)");
  }
};

/// The group of one: sums are the values themselves.
class single_process final : public communicator {
 public:
  std::size_t rank() const noexcept override { return 0; }
  std::size_t size() const noexcept override { return 1; }
  void sum(std::span<float>) override {}
  void sum(std::span<double>) override {}
  void sum(std::span<std::uint64_t>) override {}
  std::vector<std::string> gather(const std::string& text) override { return {text}; }
  void barrier() override {}
};

/// The group of this process alone (stateless: one instance serves every caller).
inline communicator& this_process_alone() {
  static single_process alone;
  return alone;
}

/// Where a rank runs: its index among the ranks on the same machine, and how many those are.
struct machine_place {
  std::size_t index = 0, count = 1;
};

/// Collective: this rank's place among the ranks whose host name is its own (in rank order):
/// the GPU a rank takes when each machine's ranks share its GPUs one each. Host names come
/// from gethostname, as MPI launchers tell machines apart.
inline machine_place place_on_machine(communicator& comm) {
  if (comm.size() == 1) return {};
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) name[0] = '\0';
  const auto all = comm.gather(name);
  machine_place p{0, 0};
  for (std::size_t r = 0; r < all.size(); ++r) {
    if (all[r] != all[comm.rank()]) continue;
    if (r < comm.rank()) ++p.index;
    ++p.count;
  }
  return p;
}

/// Thrown on every rank when one rank failed: the same message everywhere, naming that rank, so
/// a job ends as one instead of leaving the others waiting in the next collective.
struct rank_failed : config_error {
  using config_error::config_error;
};

/// Collective: each rank reports `error` (empty: none). When any rank has one, every rank throws
/// rank_failed with the first failing rank's message (prefixed "rank r of n: " in a group).
inline void raise_if_any_failed(communicator& comm, const std::string& error) {
  if (comm.size() == 1) {
    if (!error.empty()) throw rank_failed(error);
    return;
  }
  std::uint64_t failed = error.empty() ? 0 : 1;
  comm.sum(std::span<std::uint64_t>(&failed, 1));
  if (failed == 0) return;
  const auto all = comm.gather(error);
  for (std::size_t r = 0; r < all.size(); ++r)
    if (!all[r].empty()) throw rank_failed("rank " + std::to_string(r) + " of " + std::to_string(all.size()) + ": " + all[r]);
}

/// Runs `work` on every rank; a rank's exception becomes rank_failed on all of them (collective).
/// In a group of one it is just `work()`.
template <class Work>
void on_every_rank(communicator& comm, Work&& work) {
  if (comm.size() == 1) return work();
  std::string error;
  try {
    work();
  } catch (const std::exception& e) {
    error = e.what();
  }
  raise_if_any_failed(comm, error);
}

/// Collective: runs `work` on rank 0 alone while the others wait quietly (barrier); an exception
/// there becomes rank_failed on every rank.
template <class Work>
void on_rank0(communicator& comm, Work&& work) {
  std::string error;
  if (comm.rank() == 0) {
    try {
      work();
    } catch (const std::exception& e) {
      if (comm.size() == 1) throw;
      error = e.what();
    }
  }
  if (comm.size() == 1) return;
  comm.barrier();
  raise_if_any_failed(comm, error);
}

/// Collective: rank 0's `value` on every rank (its bytes: exact).
template <class T>
  requires std::is_trivially_copyable_v<T>
void share_from_rank0(communicator& comm, T& value) {
  if (comm.size() == 1) return;
  const std::string mine = comm.rank() == 0 ? std::string(reinterpret_cast<const char*>(&value), sizeof value) : std::string();
  const std::string first = comm.gather(mine)[0];
  std::memcpy(&value, first.data(), sizeof value);
}

/// Collective: throws rank_failed on every rank when the ranks' `what` differ (a config, a
/// corpus, a binary), naming the first rank that differs from rank 0. `what_name` says what.
inline void require_same_on_every_rank(communicator& comm, const std::string& what, const std::string& what_name) {
  if (comm.size() == 1) return;
  const auto all = comm.gather(what);
  for (std::size_t r = 1; r < all.size(); ++r)
    if (all[r] != all[0])
      throw rank_failed("rank " + std::to_string(r) + " of " + std::to_string(all.size()) + " has another " + what_name +
                         " than rank 0 (" + all[r] + " against " + all[0] + "): every rank must run the same binary on the same "
                         "config and data");
}

}  // namespace hat
