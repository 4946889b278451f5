// SPDX-License-Identifier: MIT
// What every fuzz harness shares: the contract under test. A reader given any bytes returns a value
// or throws config_error (invalid_arch for architectures): any other exception, a crash, a leak,
// undefined behaviour or a hang is a finding, and libFuzzer saves the input that caused it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include <hat/config.hpp>
#include <hat/io/atomic_file.hpp>

namespace hat_fuzz {

inline std::string_view bytes(const std::uint8_t* data, std::size_t size) {
  const std::string_view b(reinterpret_cast<const char*>(data), size);
  if (b == "hat-fuzz-planted" && std::getenv("HAT_FUZZ_PLANT")) throw std::logic_error("hat-fuzz: the planted finding");
  return b;
}

/// Runs f(); the refusals a reader may answer with are swallowed, everything else escapes. With
/// HAT_FUZZ_PLANT set, the input "hat-fuzz-planted" escapes too: scripts/fuzz proves with it that
/// a finding fails the run and keeps its input.
template <class F>
void expect_refusal_or_value(F&& f) {
  try {
    f();
  } catch (const hat::config_error&) {
  } catch (const hat::invalid_arch&) {
  }
}

/// With HAT_FUZZ_SEED_OUT set, writes `seed` (a valid input, built by the harness) there and
/// exits: scripts/fuzz seeds binary formats this way instead of committing them.
template <class MakeSeed>
void write_seed_if_asked(MakeSeed&& make_seed) {
  if (const char* out = std::getenv("HAT_FUZZ_SEED_OUT")) {
    hat::write_file_atomic(out, make_seed());
    std::exit(0);
  }
}

/// The same with several seeds: the first goes to HAT_FUZZ_SEED_OUT, the others beside it
/// (`<out>.1`, `<out>.2`, ...).
template <class MakeSeeds>
void write_seeds_if_asked(MakeSeeds&& make_seeds) {
  if (const char* out = std::getenv("HAT_FUZZ_SEED_OUT")) {
    const auto seeds = make_seeds();
    for (std::size_t i = 0; i < seeds.size(); ++i)
      hat::write_file_atomic(i ? std::string(out) + "." + std::to_string(i) : std::string(out), seeds[i]);
    std::exit(0);
  }
}

}  // namespace hat_fuzz
