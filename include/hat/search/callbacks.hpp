// SPDX-License-Identifier: MIT
// Search callbacks: how hooks are detected and called, and the stock print_progress.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>  // snprintf
#include <ostream>

#include <hat/search/options.hpp>
#include <hat/search/result.hpp>

namespace hat {

// A callback is any object; a search calls only the hooks it defines (ensmallen's style):
//   evolution: on_begin(const evolution_options&), on_iteration(const iteration_record<S>&),
//              on_end(const search_result<S>&)
//   nsga2:     on_begin(const nsga2_options&), on_generation(const generation_record<S, K>&),
//              on_end(const nsga2_result<S, K>&)

/// A callback that `evolution<Space>` will call at least once.
template <class C, class Space>
concept evolution_callback =
    requires(C& c, const evolution_options& o) { c.on_begin(o); } ||
    requires(C& c, const iteration_record<Space>& r) { c.on_iteration(r); } ||
    requires(C& c, const search_result<Space>& r) { c.on_end(r); };

/// A callback that `nsga2<Space, K>` will call at least once.
template <class C, class Space, std::size_t K>
concept nsga2_callback =
    requires(C& c, const nsga2_options& o) { c.on_begin(o); } ||
    requires(C& c, const generation_record<Space, K>& r) { c.on_generation(r); } ||
    requires(C& c, const nsga2_result<Space, K>& r) { c.on_end(r); };

namespace detail {
template <class C, class T>
void notify_begin(C& c, const T& x) {
  if constexpr (requires { c.on_begin(x); }) c.on_begin(x);
}
template <class C, class T>
void notify_iteration(C& c, const T& x) {
  if constexpr (requires { c.on_iteration(x); }) c.on_iteration(x);
}
template <class C, class T>
void notify_generation(C& c, const T& x) {
  if constexpr (requires { c.on_generation(x); }) c.on_generation(x);
}
template <class C, class T>
void notify_end(C& c, const T& x) {
  if constexpr (requires { c.on_end(x); }) c.on_end(x);
}
}  // namespace detail

/// Prints one line per iteration (evolution) or generation (NSGA-II) to a stream:
/// `iteration 3/30  best 4.21875  evaluations 312  elapsed 0.84 s`. Holds a reference to the
/// stream, which must outlive the search.
class print_progress {
 public:
  explicit print_progress(std::ostream& os) noexcept : os_(&os) {}

  void on_begin(const evolution_options& o) { start_(o.iterations); }
  void on_begin(const nsga2_options& o) { start_(o.generations); }

  template <class Space>
  void on_iteration(const iteration_record<Space>& r) {
    char line[160];
    std::snprintf(line, sizeof line, "iteration %zu/%zu  best %.6g  evaluations %zu  elapsed %.2f s  ETA %.1f s\n",
                  r.iteration + 1, total_, r.best_fitness, r.evaluations, elapsed_(), eta_(r.iteration + 1));
    *os_ << line;
  }
  template <class Space, std::size_t K>
  void on_generation(const generation_record<Space, K>& r) {
    char line[160];
    std::snprintf(line, sizeof line, "generation %zu/%zu  front %zu  evaluations %zu  elapsed %.2f s  ETA %.1f s\n",
                  r.generation + 1, total_, r.front.size(), r.evaluations, elapsed_(), eta_(r.generation + 1));
    *os_ << line;
  }

 private:
  void start_(std::size_t total) {
    total_ = total;
    start_time_ = std::chrono::steady_clock::now();
  }
  double elapsed_() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time_).count();
  }
  double eta_(std::size_t done) const {  // the mean time per step so far, times the steps left
    return done == 0 || done >= total_ ? 0.0 : elapsed_() / static_cast<double>(done) * static_cast<double>(total_ - done);
  }

  std::ostream* os_;
  std::size_t total_ = 0;
  std::chrono::steady_clock::time_point start_time_ = std::chrono::steady_clock::now();
};

}  // namespace hat
