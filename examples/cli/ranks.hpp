// SPDX-License-Identifier: MIT
// with_ranks: a command started by mpirun (or srun) runs on the ranks of MPI_COMM_WORLD; started
// alone, it runs in this process with no MPI at all (docs/distributed.md).
#pragma once

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include <hat/config.hpp>
#include <hat/dist/communicator.hpp>
#include <hat/io/checksum.hpp>
#include <hat/train/trainer.hpp>  // training_diverged
#if HAT_WITH_MPI
#include <hat/dist/mpi.hpp>
#endif

#include "cli_spaces.hpp"  // exit_code

namespace hat_cli {

/// The number of processes the launcher started (1 when none did): what mpirun, Hydra and
/// Slurm tell each process, read without MPI.
inline long launched_world_size() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* s = std::getenv(v)) return std::strtol(s, nullptr, 10);
  return 1;
}

/// Runs `run(hat::communicator*)`: with the MPI ranks when a launcher started this process (null
/// otherwise). Errors every rank raises alike (hat::rank_failed, a diverged loss, a stop) end
/// the job in order, printed once by rank 0; any other error on one rank ends every rank
/// (MPI_Abort), since the others would wait for it in the next collective.
template <class Run>
void with_ranks(const char* command, Run&& run) {
#if HAT_WITH_MPI
  if (hat::launched_by_mpi()) {
    hat::mpi_session session;
    std::optional<hat::mpi_communicator> comm(std::in_place);
    const std::size_t rank = comm->rank();
    const auto silent_elsewhere = [&] {  // rank 0 prints what every rank raised
      comm.reset();
      if (rank != 0) throw exit_code{1};
    };
    try {
      hat::require_same_on_every_rank(*comm, hat::file_hash("/proc/self/exe"), "hat executable");
      run(&*comm);
    } catch (const hat::rank_failed&) {
      silent_elsewhere();
      throw;
    } catch (const hat::training_diverged&) {
      silent_elsewhere();
      throw;
    } catch (const exit_code&) {  // after a message the command printed on rank 0 only
      comm.reset();
      throw;
    } catch (const std::exception& e) {
      std::cerr << "hat " << command << " (rank " << rank << " of " << comm->size() << "): error: " << e.what()
                << "; ending every rank\n";
      comm->abort(1);
    }
    return;
  }
#endif
  if (launched_world_size() > 1)
    throw hat::config_error(std::string("hat ") + command + ": started as one of " + std::to_string(launched_world_size()) +
                            " processes, but this hat was built without MPI: each would train alone into the same files; "
                            "build hat where MPI is found (libopenmpi-dev), or run one process");
  run(nullptr);
}

}  // namespace hat_cli
