// SPDX-License-Identifier: MIT
// mpi: hat::communicator on MPI (Open MPI, MPICH: any MPI-3 library), for processes started by
// mpirun, srun or another launcher (docs/distributed.md). Needs <mpi.h> and the MPI library
// (CMake: hat::mpi); the rest of hat never includes this header.
#pragma once

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <hat/dist/communicator.hpp>

namespace hat {

/// Whether this process was started by an MPI launcher (mpirun/mpiexec of Open MPI, MPICH's
/// Hydra, Slurm's srun with PMI or PMIx): the variables they set in each rank's environment.
inline bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"})
    if (std::getenv(v)) return true;
  return false;
}

/// MPI_Init ... MPI_Finalize for the process's lifetime (one per process; a second one, or MPI
/// initialised by the caller, leaves MPI to its owner).
class mpi_session {
 public:
  mpi_session(int* argc = nullptr, char*** argv = nullptr) {
    int ready = 0;
    MPI_Initialized(&ready);
    if (ready) return;
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
      throw std::runtime_error("MPI_Init_thread failed: is this process started by mpirun (or srun)?");
    owner_ = true;
  }
  mpi_session(const mpi_session&) = delete;
  mpi_session& operator=(const mpi_session&) = delete;
  ~mpi_session() {
    int done = 0;
    MPI_Finalized(&done);
    if (owner_ && !done) MPI_Finalize();
  }

 private:
  bool owner_ = false;
};

/// The ranks of an MPI communicator (MPI_COMM_WORLD by default, duplicated so that hat's
/// messages never meet the caller's). MPI's default error handler ends the whole job on a
/// failed call, and so does a rank that dies: the launcher stops the others.
class mpi_communicator final : public communicator {
 public:
  explicit mpi_communicator(MPI_Comm parent = MPI_COMM_WORLD) {
    MPI_Comm_dup(parent, &comm_);
    int r = 0, n = 0;
    MPI_Comm_rank(comm_, &r);
    MPI_Comm_size(comm_, &n);
    rank_ = static_cast<std::size_t>(r);
    size_ = static_cast<std::size_t>(n);
  }
  mpi_communicator(const mpi_communicator&) = delete;
  mpi_communicator& operator=(const mpi_communicator&) = delete;
  ~mpi_communicator() override {
    int done = 0;
    MPI_Finalized(&done);
    if (!done) MPI_Comm_free(&comm_);
  }

  std::size_t rank() const noexcept override { return rank_; }
  std::size_t size() const noexcept override { return size_; }
  void sum(std::span<float> v) override { sum_(v.data(), v.size(), MPI_FLOAT); }
  void sum(std::span<double> v) override { sum_(v.data(), v.size(), MPI_DOUBLE); }
  void sum(std::span<std::uint64_t> v) override { sum_(v.data(), v.size(), MPI_UINT64_T); }

  std::vector<std::string> gather(const std::string& text) override {
    if (text.size() > static_cast<std::size_t>(INT_MAX)) throw std::length_error("hat::mpi_communicator::gather: text too long");
    const int mine = static_cast<int>(text.size());
    std::vector<int> lengths(size_), offsets(size_);
    MPI_Allgather(&mine, 1, MPI_INT, lengths.data(), 1, MPI_INT, comm_);
    long long total = 0;
    for (std::size_t r = 0; r < size_; ++r) {
      offsets[r] = static_cast<int>(total);
      total += lengths[r];
      if (total > INT_MAX) throw std::length_error("hat::mpi_communicator::gather: texts too long");
    }
    std::string all(static_cast<std::size_t>(total), '\0');
    MPI_Allgatherv(text.data(), mine, MPI_CHAR, all.data(), lengths.data(), offsets.data(), MPI_CHAR, comm_);
    std::vector<std::string> out(size_);
    for (std::size_t r = 0; r < size_; ++r)
      out[r] = all.substr(static_cast<std::size_t>(offsets[r]), static_cast<std::size_t>(lengths[r]));
    return out;
  }

  void barrier() override {
    // MPI_Barrier would spin a core until the last rank arrives; a non-blocking barrier polled
    // every 2 ms leaves it to whoever is working (rank 0 measuring latency, say).
    MPI_Request request = MPI_REQUEST_NULL;
    MPI_Ibarrier(comm_, &request);
    for (int done = 0;;) {
      MPI_Test(&request, &done, MPI_STATUS_IGNORE);
      if (done) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  /// Ends every rank of the job (MPI_Abort): for a rank that cannot go on while the others
  /// wait in a collective.
  [[noreturn]] void abort(int code) const {
    MPI_Abort(comm_, code);
    std::abort();  // MPI_Abort does not return; if it did, this process still ends
  }

 private:
  // MPI counts are ints: large buffers (a model's gradient) go in pieces.
  void sum_(void* data, std::size_t n, MPI_Datatype type) {
    int bytes = 0;
    MPI_Type_size(type, &bytes);
    auto* p = static_cast<char*>(data);
    for (std::size_t done = 0; done < n;) {
      const std::size_t piece = std::min<std::size_t>(n - done, std::size_t{1} << 30);
      MPI_Allreduce(MPI_IN_PLACE, p + done * static_cast<std::size_t>(bytes), static_cast<int>(piece), type, MPI_SUM, comm_);
      done += piece;
    }
  }

  MPI_Comm comm_ = MPI_COMM_NULL;
  std::size_t rank_ = 0, size_ = 1;
};

}  // namespace hat
