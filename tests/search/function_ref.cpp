// SPDX-License-Identifier: MIT
// detail::function_ref, the type-erased callable the searches take: functions, lambdas with and
// without state, const callables, conversions of the result, and the empty reference.
#include <catch2/catch.hpp>

#include <string>
#include <type_traits>

#include <hat/search/detail/function_ref.hpp>

namespace {
int twice(int x) { return 2 * x; }
struct counter {
  int calls = 0;
  int operator()(int x) { return x + ++calls; }
};
struct overloaded {  // the non-const call for a non-const object, as calling it directly would
  int operator()(int) { return 1; }
  int operator()(int) const { return 2; }
};
}  // namespace

TEST_CASE("function_ref: refers to functions and callables without copying them", "[search][function_ref]") {
  hat::detail::function_ref<int(int)> f = twice;
  CHECK(f(21) == 42);

  counter c;  // a reference, not a copy: the state the calls change is the caller's
  hat::detail::function_ref<int(int)> g = c;
  CHECK(g(10) == 11);
  CHECK(g(10) == 12);
  CHECK(c.calls == 2);
  hat::detail::function_ref<int(int)> copy = g;  // a copy refers to g's callable, not to g
  g = twice;
  CHECK(copy(10) == 13);
  CHECK(g(10) == 20);

  int (*pointer)(int) = twice;  // a function pointer variable is a callable too
  hat::detail::function_ref<int(int)> p = pointer;
  CHECK(p(4) == 8);

  overloaded o;
  const overloaded& co = o;
  CHECK(hat::detail::function_ref<int(int)>(o)(0) == 1);
  CHECK(hat::detail::function_ref<int(int)>(co)(0) == 2);

  const auto add = [k = 5](int x) { return x + k; };  // a const callable
  hat::detail::function_ref<double(int)> h = add;     // the result converted to double
  CHECK(h(1) == 6.0);

  std::string log;
  const auto append = [&](const std::string& s) { log += s; };
  hat::detail::function_ref<void(const std::string&)> v = append;
  v("a");
  v("b");
  CHECK(log == "ab");
}

TEST_CASE("function_ref: an empty reference is false, a bound one true", "[search][function_ref]") {
  hat::detail::function_ref<int(int)> empty;
  CHECK_FALSE(empty);
  empty = twice;
  CHECK(empty);
  CHECK(empty(2) == 4);
}

// A temporary would be gone by the call: refused at compile time, const or not.
static_assert(!std::is_constructible_v<hat::detail::function_ref<int(int)>, counter&&>);
static_assert(!std::is_constructible_v<hat::detail::function_ref<int(int)>, const counter&&>);
static_assert(std::is_constructible_v<hat::detail::function_ref<int(int)>, counter&>);
static_assert(std::is_constructible_v<hat::detail::function_ref<int(int)>, const overloaded&>);
// A callable only an rvalue may call is refused as the searches' concepts refuse it.
struct rvalue_only {
  int operator()(int) && { return 0; }
};
static_assert(!std::is_constructible_v<hat::detail::function_ref<int(int)>, rvalue_only&>);
