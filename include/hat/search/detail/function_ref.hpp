// SPDX-License-Identifier: MIT
// function_ref<R(Args...)>: a non-owning reference to a callable (C++26's std::function_ref, which
// GCC 12 lacks), so a search's body is compiled once per space rather than once per callable type.
#pragma once

#include <concepts>
#include <functional>  // std::invoke
#include <memory>      // std::addressof
#include <type_traits>
#include <utility>

namespace hat::detail {

template <class Signature>
class function_ref;

/// Refers to a callable lvalue, which must outlive the reference; calling it calls the callable as
/// an lvalue and converts its result to R. Default-constructed, it refers to nothing (false).
/// Unlike std::function: no allocation, no copy of the callable, one indirect call.
template <class R, class... Args>
class function_ref<R(Args...)> {
 public:
  function_ref() noexcept = default;

  template <class F>
    requires(!std::same_as<std::remove_cv_t<F>, function_ref> && std::invocable<F&, Args...> &&
             (std::is_void_v<R> || std::convertible_to<std::invoke_result_t<F&, Args...>, R>))
  function_ref(F& f) noexcept : call_(&call<F>) {  // NOLINT: implicit, as a reference converts
    if constexpr (std::is_function_v<F>)
      target_.function = reinterpret_cast<void (*)()>(&f);
    else
      target_.object = const_cast<void*>(static_cast<const void*>(std::addressof(f)));
  }

  /// A temporary would be gone before the call: refused (a const one would bind to F& above).
  template <class F>
    requires(!std::same_as<std::remove_cv_t<F>, function_ref>)
  function_ref(const F&&) = delete;

  R operator()(Args... args) const { return call_(target_, std::forward<Args>(args)...); }
  explicit operator bool() const noexcept { return call_ != nullptr; }

 private:
  union target {  // a function is referred to by its pointer: it has no object address
    void* object;
    void (*function)();
  };
  template <class F>
  static F& get(target t) noexcept {
    if constexpr (std::is_function_v<F>)
      return *reinterpret_cast<F*>(t.function);
    else
      return *static_cast<F*>(t.object);
  }
  template <class F>
  static R call(target t, Args... args) {
    if constexpr (std::is_void_v<R>)
      std::invoke(get<F>(t), std::forward<Args>(args)...);
    else
      return static_cast<R>(std::invoke(get<F>(t), std::forward<Args>(args)...));
  }

  target target_{nullptr};
  R (*call_)(target, Args...) = nullptr;
};

}  // namespace hat::detail
