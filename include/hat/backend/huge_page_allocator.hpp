// SPDX-License-Identifier: MIT
// huge_page_allocator: the CPU backend's buffers; large blocks 2 MiB-aligned and advised to use transparent huge pages.
#pragma once

#ifdef __linux__
#include <sys/mman.h>  // madvise
#endif

#include <cstddef>
#include <cstdlib>  // std::aligned_alloc, std::free
#include <memory>   // std::allocator
#include <new>      // std::bad_alloc

namespace hat {

namespace detail {
/// std::allocator, except that blocks of 4 MiB and more are 2 MiB-aligned and, on Linux,
/// advised to use transparent huge pages: decoding streams ~100-200 MB of weights per step,
/// and with 4 kB pages the TLB misses cost up to a third of the bandwidth (measured on the
/// 32768 x 512 vocabulary projection: 2.6-2.9 ms with huge pages, 3-6 ms without). Distros
/// commonly set THP to "madvise", where nothing gets huge pages unless asked.
template <class T>
struct huge_page_allocator {
  using value_type = T;
  static constexpr std::size_t huge = std::size_t{2} << 20, threshold = std::size_t{4} << 20;

  huge_page_allocator() noexcept = default;
  template <class U>
  huge_page_allocator(const huge_page_allocator<U>&) noexcept {}  // NOLINT

  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < threshold) return std::allocator<T>().allocate(n);
    const std::size_t rounded = (bytes + huge - 1) / huge * huge;
    void* p = std::aligned_alloc(huge, rounded);
    if (!p) throw std::bad_alloc();
#ifdef __linux__
    ::madvise(p, rounded, MADV_HUGEPAGE);  // advice only: failure leaves ordinary pages
#endif
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n * sizeof(T) < threshold) std::allocator<T>().deallocate(p, n);
    else std::free(p);
  }
  template <class U>
  bool operator==(const huge_page_allocator<U>&) const noexcept {
    return true;
  }
};
}  // namespace detail

}  // namespace hat
