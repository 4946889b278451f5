// SPDX-License-Identifier: MIT
// export_dense: a standalone model holding only the slices one SubTransformer reads.
#pragma once

#include <hat/nn/super_transformer.hpp>

namespace hat {

/// Copies the corner of every super tensor that `c` reads (hat-spec 3) into a model stored at
/// c's own sizes. The result runs `c` (or any smaller configuration) exactly as the
/// SuperTransformer does, with a fraction of the memory: what HAT users asked for, since its
/// searched checkpoints held the whole SuperTransformer.
template <class M, class Backend, class T>
super_transformer<M, Backend, T> export_dense(Backend& be, const super_transformer<M, Backend, T>& super,
                                              const transformer_config& c) {
  super.check_config(c);
  super_transformer<M, Backend, T> dense(be, super.vocabulary(), model_storage::dense_for(c));
  for (const parameter_info& p : dense.parameters()) {
    const parameter_info* from = nullptr;
    for (const auto& q : super.parameters())
      if (q.name == p.name) from = &q;
    HAT_ASSERT(from, "export_dense: a dense tensor has no super counterpart");
    const std::size_t rows = p.shape[0], cols = p.shape.size() > 1 ? p.shape[1] : 1;
    const std::size_t ld = from->shape.size() > 1 ? from->shape[1] : 1;
    HAT_ASSERT(rows <= from->shape[0] && cols <= ld, "export_dense: a dense tensor is larger than its super tensor");
    be.copy(matrix_ref<const T>{super.data() + from->offset, rows, cols, ld},
            matrix_ref<T>{dense.data() + p.offset, rows, cols, cols});
  }
  return dense;
}

}  // namespace hat
