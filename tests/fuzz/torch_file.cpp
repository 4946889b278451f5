// SPDX-License-Identifier: MIT
// Fuzzes the torch.save reader: the legacy format's pickles (the restricted unpickler and its
// allow-list), the zip format through libzip, storages against their tensors, and every tensor
// converted. Seeds: the fixtures of tests/data/torch (scripts/fuzz copies them).
#include <cstdint>
#include <string>

#include <hat/io/torch_file.hpp>

#include "harness.hpp"

namespace {

/// Visits what a reader of the file would: every value to a bounded depth and count (a hostile
/// pickle may hold cycles, or a list holding itself thousands of times), each tensor converted.
void visit(const hat::torch_file& f, const hat::pickle_ref& r, int depth, std::size_t& budget) {
  if (depth > 12 || budget == 0) return;
  --budget;
  if (f.is_tensor(r)) {  // a tensor costs in proportion to its size: many views of one large storage stay cheap
    std::uint64_t n = 1;
    for (auto d : f.shape(r)) n *= static_cast<std::uint64_t>(d);
    if (n / 16 >= budget) return;
    budget -= static_cast<std::size_t>(n / 16);
    (void)f.to_float(r);
    return;
  }
  switch (r.kind()) {
    case hat::pickle_kind::dict:
      for (const auto& [k, v] : r.entries()) visit(f, v, depth + 1, budget);
      break;
    case hat::pickle_kind::tuple:
    case hat::pickle_kind::list:
    case hat::pickle_kind::set:
      for (std::size_t i = 0; i < r.size() && i < 4096; ++i) visit(f, r[i], depth + 1, budget);
      break;
    case hat::pickle_kind::object:
      if (const auto a = r.find("encoder_embed_dim")) (void)a->describe();
      break;
    default: (void)r.describe();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = hat_fuzz::bytes(data, size);
  hat_fuzz::expect_refusal_or_value([&] {
    const auto f = hat::torch_file::from_bytes(std::string(bytes), "fuzz.pt");
    std::size_t budget = 100000;
    visit(f, f.root(), 0, budget);
  });
  return 0;
}
