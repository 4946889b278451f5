// SPDX-License-Identifier: MIT
// arena: every parameter of a model in one backend allocation, handed out in fixed-size pieces.
#pragma once

#include <cstddef>

#include <hat/backend/concepts.hpp>
#include <hat/config.hpp>

namespace hat {

/// One allocation of `T` in backend memory, sized once (from a space's maxima, so its size is
/// a compile-time constant of the model type) and carved into consecutive pieces with
/// `take(n)`. Layers keep the pointers they were given; nothing is ever reallocated, so a
/// SubTransformer's views stay valid for the arena's lifetime. Move-only like its buffer.
template <backend_policy Backend, class T = float>
class arena {
 public:
  explicit arena(std::size_t count) : storage_(count) {}

  /// The next `n` values; throws when the arena would overflow (a layer sized its share wrongly).
  T* take(std::size_t n) {
    HAT_ASSERT(used_ + n <= storage_.size(), "arena: more parameters taken than were allocated");
    T* p = storage_.data() + used_;
    used_ += n;
    return p;
  }

  T* data() noexcept { return storage_.data(); }
  const T* data() const noexcept { return storage_.data(); }
  std::size_t size() const noexcept { return storage_.size(); }
  std::size_t used() const noexcept { return used_; }

 private:
  typename Backend::template buffer<T> storage_;
  std::size_t used_ = 0;
};

}  // namespace hat
