// SPDX-License-Identifier: MIT
// reserve: scratch buffers that grow, never shrink, and grow in steps.
#pragma once

#include <cstddef>

#include <hat/backend/concepts.hpp>

namespace hat::detail {

template <backend_policy Backend, class T>
// At least n elements; grows by a quarter at a time, so that batches of slowly growing shapes
// (training draws them in random order) do not reallocate and re-fault their pages each step.
T* reserve(typename Backend::template buffer<T>& b, std::size_t n) {
  if (b.size() < n) {
    const std::size_t grown = b.size() + b.size() / 4;
    b = typename Backend::template buffer<T>();
    b = typename Backend::template buffer<T>(n > grown ? n : grown);
  }
  return b.data();
}

}  // namespace hat::detail
