// SPDX-License-Identifier: MIT
// Every network of a small space, for checking searches against exhaustive answers.
#pragma once

#include <cstddef>
#include <unordered_set>
#include <vector>

#include <hat/space/arch.hpp>

namespace hat_test {

/// One genome per distinct network (canonical form) of `Space`, in odometer order over the
/// genes. Only for tiny spaces: it walks every genome.
template <class Space>
std::vector<hat::arch<Space>> all_networks() {
  std::vector<int> genes(Space::gene_count);
  std::vector<std::size_t> pos(Space::gene_count, 0);
  std::vector<const hat::dim_info*> dim_of;
  for (const auto& d : Space::dims)
    for (std::size_t l = 0; l < d.layers; ++l) dim_of.push_back(&d);
  std::unordered_set<hat::arch<Space>> seen;
  std::vector<hat::arch<Space>> out;
  for (;;) {
    for (std::size_t i = 0; i < genes.size(); ++i) genes[i] = dim_of[i]->values[pos[i]];
    const auto a = hat::arch<Space>::from_genes(genes).canonical();
    if (seen.insert(a).second) out.push_back(a);
    std::size_t k = 0;
    for (; k < pos.size(); ++k) {
      if (++pos[k] < dim_of[k]->values.size()) break;
      pos[k] = 0;
    }
    if (k == pos.size()) return out;
  }
}

}  // namespace hat_test
