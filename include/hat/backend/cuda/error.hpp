// SPDX-License-Identifier: MIT
// cuda_error: what the CUDA backend (and its host emulator) throws when a runtime or cuBLAS call fails.
#pragma once

#include <stdexcept>

namespace hat {

/// A failed CUDA runtime or cuBLAS call (or a call the emulator would see fail): the call, its
/// status and where it was made.
struct cuda_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace hat
