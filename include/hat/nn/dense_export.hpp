// SPDX-License-Identifier: MIT
// export_dense: a standalone model holding only the slices one SubTransformer reads.
#pragma once

#include <vector>

#include <hat/backend/concepts.hpp>
#include <hat/nn/super_transformer.hpp>

namespace hat {

/// Copies the corner of every super tensor that `c` reads (its leading rows and columns, as
/// HAT's *Super modules slice them) into a model stored at
/// c's own sizes. The result runs `c` (or any smaller configuration) exactly as the
/// SuperTransformer does, with a fraction of the memory: what HAT users asked for, since its
/// searched checkpoints held the whole SuperTransformer.
template <class M, backend_policy Backend, class T>
super_transformer<M, Backend, T> export_dense(Backend& be, const super_transformer<M, Backend, T>& super,
                                              const transformer_config& c) {
  super.check_config(c);
  super_transformer<M, Backend, T> dense(be, super.vocabulary(), model_storage::dense_for(c));
  // Through the host in PyTorch's layout: the super tensors may be stored in panels.
  for (const parameter_info& p : dense.parameters()) {
    const parameter_info& from = super.parameter(p.name);
    const std::vector<T> all = super.parameter_values(be, p.name);
    const std::size_t rows = p.shape[0], cols = p.shape.size() > 1 ? p.shape[1] : 1;
    const std::size_t ld = from.shape.size() > 1 ? from.shape[1] : 1;
    HAT_ASSERT(rows <= from.shape[0] && cols <= ld, "export_dense: a dense tensor is larger than its super tensor");
    std::vector<T> corner(rows * cols);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < cols; ++c) corner[r * cols + c] = all[r * ld + c];
    dense.set_parameter(be, p.name, corner);
  }
  return dense;
}

}  // namespace hat
