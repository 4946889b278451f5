// SPDX-License-Identifier: MIT
// interop/hana.hpp: a space's dimensions as a Hana sequence users iterate, transform and search by name.
#include <catch2/catch.hpp>

#include <boost/hana/ext/std/integral_constant.hpp>
#include <boost/hana/filter.hpp>
#include <boost/hana/fold_left.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/length.hpp>
#include <boost/hana/optional.hpp>
#include <boost/hana/transform.hpp>
#include <hat/interop/hana.hpp>
#include <hat/space/hat_spaces.hpp>
#include <string>
#include <vector>

namespace hana = boost::hana;

using wmt = hat::hat_wmt_space;

TEST_CASE("hana interop: every dimension, in declaration order, as types", "[space][hana]") {
  static_assert(decltype(hana::length(hat::hana_dimensions<wmt>))::value == wmt::dim_count);
  std::vector<std::string> names;
  hana::for_each(hat::hana_dimensions<wmt>, [&](auto t) { names.emplace_back(decltype(t)::type::name); });
  REQUIRE(names.size() == wmt::dim_count);
  for (std::size_t i = 0; i < names.size(); ++i) CHECK(names[i] == wmt::dims[i].name);
}

TEST_CASE("hana interop: find a dimension by name, or nothing", "[space][hana]") {
  constexpr auto ffn = hat::hana_find_dimension<wmt, "encoder_ffn_embed_dim">;
  static_assert(hana::is_just(ffn));
  using ffn_t = hat::hana_dimension_t<wmt, "encoder_ffn_embed_dim">;
  static_assert(ffn_t::is_per_layer && ffn_t::values[0] == 3072 && ffn_t::layers == 6);
  static_assert(hana::is_nothing(hat::hana_find_dimension<wmt, "no_such_dimension">));
}

TEST_CASE("hana interop: a user's metaprogram derives what the space computes itself", "[space][hana]") {
  // Genes: one per global choice, `layers` per per-layer dimension, none for a fixed one.
  constexpr auto genes = hana::fold_left(hat::hana_dimensions<wmt>, hana::size_c<0>, [](auto n, auto t) {
    using D = typename decltype(t)::type;
    return hana::size_c<decltype(n)::value + (D::is_fixed ? 0 : D::layers)>;
  });
  static_assert(decltype(genes)::value == wmt::gene_count);
  // The per-layer dimensions alone, and the largest value of each as the weights are sized.
  constexpr auto per_layer = hana::filter(hat::hana_dimensions<wmt>, [](auto t) {
    return hana::bool_c<decltype(t)::type::is_per_layer>;
  });
  std::vector<int> maxima;
  hana::for_each(per_layer, [&](auto t) {
    int m = 0;
    for (int v : decltype(t)::type::values) m = v > m ? v : m;
    maxima.push_back(m);
  });
  CHECK(maxima.size() == 6);
  CHECK(maxima.front() == wmt::max<"encoder_ffn_embed_dim">());
}
