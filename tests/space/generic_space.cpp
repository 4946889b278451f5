// SPDX-License-Identifier: MIT
// The space machinery is not transformer-specific: a CNN space through the same code.
#include <catch2/catch.hpp>

#include <hat/space/encode.hpp>
#include "test_spaces.hpp"

using hat_test::cnn_space;
using C = hat::arch<cnn_space>;

TEST_CASE("generic space: a CNN samples, mutates, crosses and encodes with the same code", "[space][generic]") {
  static_assert(cnn_space::max<"width">() == 64);
  static_assert(cnn_space::gene_count == 12);
  hat::rng g(2024);
  const C a = C::sample(g), b = C::sample(g);
  CHECK(a.valid());
  CHECK(b.valid());
  const C m = a.mutated(g, 1.0);
  CHECK(m.valid());
  const C x = C::crossover(a, b, g);
  for (std::size_t k = 0; k < C::gene_count; ++k) CHECK((x.gene(k) == a.gene(k) || x.gene(k) == b.gene(k)));

  C c = C::largest();
  c.set<"depth">(2);
  c.set<"kernel">(3, 5);  // stage 3 is inactive at depth 2
  CHECK(c.active_layers<"kernel">() == 2);
  CHECK(c.active_layers<"stem">() == 2);  // ungated
  C d = c;
  d.set<"width">(3, 16);  // inactive too
  CHECK(d.same_network(c));
  d.set<"stem">(1, 0);  // ungated: always active
  CHECK_FALSE(d.same_network(c));

  const auto f = hat::gene_features(c);
  CHECK(f[0] == Approx(1.0));              // resolution 224 / 224
  CHECK(f[1] == Approx(0.5));              // depth 2 / 4
  CHECK(f[2] == Approx(7.0 / 7.0));        // kernel stage 0
  CHECK(f[4] == 0.0);                      // kernel stage 2: inactive
  CHECK(f[5] == 0.0);                      // kernel stage 3: inactive
  CHECK(f[6] == Approx(1.0));              // width stage 0
  CHECK(f[11] == Approx(1.0));             // stem layer 1, ungated: 1 / 1
  CHECK_THAT(c.to_string(), Catch::Contains("kernel: [7, 7]") && Catch::Contains("stem: [1, 1]"));
}

TEST_CASE("generic space: validation speaks of the CNN's own dimensions", "[space][generic]") {
  C c;
  c.set<"kernel">(1, 4);
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("'kernel' layer 1 has value 4") && Catch::Contains("{3, 5, 7}"));
}
