// SPDX-License-Identifier: MIT
// A space's dimensions as a Boost.Hana sequence of types, for users' own metaprograms (opt-in: the core does not include it).
#pragma once

// Compile cost: these narrow Hana headers add about 0.05-0.1 s to a TU that includes the space
// (-fsyntax-only: 0.19-0.32 s against 0.15-0.23 s for space.hpp alone, 3 runs each).
#include <boost/hana/bool.hpp>
#include <boost/hana/find_if.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>
#include <type_traits>  // std::remove_cvref_t

#include <hat/space/fixed_string.hpp>
#include <hat/space/space.hpp>

namespace hat {

namespace detail {
template <class S>
struct hana_dimensions;
template <class... Dims>
struct hana_dimensions<space<Dims...>> {
  static constexpr auto value = boost::hana::tuple_t<Dims...>;
};
}  // namespace detail

/// The dimension types of space S (hat::choice, hat::per_layer, hat::fixed) as a
/// `hana::tuple` of `hana::type`s, in declaration order: `hana::for_each`, `hana::transform`,
/// `hana::filter`, `hana::fold_left` and `hana::find_if` work on it, so a user's metaprogram
/// can derive an encoding or a constraint from any space. Each element's `::type` has the
/// static members `name`, `values`, `layers`, `is_per_layer`, `is_fixed` and `gate`.
template <class S>
inline constexpr auto hana_dimensions = detail::hana_dimensions<S>::value;

/// The dimension of S called `Name`: `hana::just(hana::type_c<Dim>)`, or `hana::nothing` when
/// S has none (test it with `hana::is_just`, or let a `static_assert` on it name the mistake).
template <class S, fixed_string Name>
inline constexpr auto hana_find_dimension = boost::hana::find_if(
    hana_dimensions<S>, [](auto t) { return boost::hana::bool_c<decltype(t)::type::name == Name.view()>; });

/// The type of S's dimension called `Name` (a compile error where S has none).
template <class S, fixed_string Name>
using hana_dimension_t = typename std::remove_cvref_t<decltype(*hana_find_dimension<S, Name>)>::type;

}  // namespace hat
