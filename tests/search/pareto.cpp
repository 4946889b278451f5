// SPDX-License-Identifier: MIT
// Pareto fronts: dominance, the non-dominated filter, CSV and SVG files.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <unistd.h>  // getpid

#include <hat/search/pareto.hpp>
#include "test_spaces.hpp"

using S = hat_test::tiny_transformer;
using A = hat::arch<S>;
using point = hat::pareto_point<S, 2>;

namespace {
std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
// A number printed as nan or inf in an attribute or a label.
bool non_finite_text(const std::string& svg) { return std::regex_search(svg, std::regex("[\">-](nan|inf)")); }
std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}
}  // namespace

TEST_CASE("pareto: dominance needs no worse everywhere and better somewhere", "[search][pareto]") {
  using v = std::array<double, 2>;
  CHECK(hat::dominates(v{1, 1}, v{1, 2}));
  CHECK(hat::dominates(v{0, 1}, v{1, 2}));
  CHECK_FALSE(hat::dominates(v{1, 1}, v{1, 1}));
  CHECK_FALSE(hat::dominates(v{0, 3}, v{1, 2}));
  CHECK(hat::dominates(v{1, 1}, v{1, std::nan("")}));  // NaN is worse than any number
  CHECK_FALSE(hat::dominates(v{1, std::nan("")}, v{1, 1}));
}

TEST_CASE("pareto: the front is the non-dominated points, sorted, equal points kept", "[search][pareto]") {
  const A a = A::largest(), b = A::smallest();
  const std::vector<point> pts{{a, {3, 1}}, {a, {1, 3}}, {b, {2, 2}}, {a, {2, 3}}, {a, {3, 3}},
                               {b, {1, 3}}, {a, {4, 0.5}}, {a, {1, std::nan("")}}};
  const auto front = hat::pareto_front(pts);
  REQUIRE(front.size() == 5);
  CHECK(front[0].objectives == std::array<double, 2>{1, 3});
  CHECK(front[0].architecture == a);  // ties keep input order
  CHECK(front[1].objectives == std::array<double, 2>{1, 3});
  CHECK(front[1].architecture == b);
  CHECK(front[2].objectives == std::array<double, 2>{2, 2});
  CHECK(front[3].objectives == std::array<double, 2>{3, 1});
  CHECK(front[4].objectives == std::array<double, 2>{4, 0.5});
  CHECK(hat::pareto_front(std::vector<point>{}).empty());
}

TEST_CASE("pareto: CSV has the objective names, round-trip numbers and the quoted arch", "[search][pareto]") {
  const std::vector<point> pts{{A::smallest(), {-2216, 17808}}, {A::largest(), {0.1, 1e9}}};
  const auto csv = hat::pareto_csv(pts, {"minus_params", "flops, at length 4"});
  std::istringstream lines(csv);
  std::string header, row0, row1;
  std::getline(lines, header);
  std::getline(lines, row0);
  std::getline(lines, row1);
  CHECK(header == "minus_params,\"flops, at length 4\",arch");
  CHECK(row0 == "-2216,17808,\"" + A::smallest().to_string() + "\"");
  CHECK_THAT(row1, Catch::StartsWith("0.1,1e+09,\"{encoder_embed_dim: 16, "));
  CHECK(count(csv, "\n") == 3);
}

TEST_CASE("pareto: CSV and SVG files are written whole", "[search][pareto]") {
  const auto dir = std::filesystem::temp_directory_path() / ("hat_pareto_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::vector<point> all;
  hat::rng g(4);
  for (int i = 0; i < 50; ++i) {
    const A a = A::sample(g);
    all.push_back({a, {g.uniform() * 100, g.uniform() * 3e9}});
  }
  const auto front = hat::pareto_front(all);
  hat::write_pareto_csv(dir / "front.csv", front, {"loss", "flops"});
  hat::write_pareto_svg(dir / "front.svg", all, front, "loss", "FLOPs", "loss <&> FLOPs");

  const auto csv = read(dir / "front.csv");
  CHECK_THAT(csv, Catch::StartsWith("loss,flops,arch\n"));
  CHECK(count(csv, "\n") == front.size() + 1);

  const auto svg = read(dir / "front.svg");
  CHECK_THAT(svg, Catch::StartsWith("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  CHECK_THAT(svg, Catch::EndsWith("</svg>\n"));
  CHECK(count(svg, "<circle") == all.size() + front.size() + 2);  // + 2 legend markers
  CHECK(count(svg, "<path") == 2);                                 // axes, front line
  CHECK(count(svg, "<g") == count(svg, "</g>"));
  CHECK(count(svg, "<text") == count(svg, "</text>"));
  CHECK(count(svg, "<text") >= 3 + 6);  // title, axis labels, ticks
  CHECK_THAT(svg, Catch::Contains(">loss &lt;&amp;&gt; FLOPs</text>") && Catch::Contains(">FLOPs</text>"));
  CHECK_FALSE(non_finite_text(svg));
  CHECK(svg.find(">-0<") == std::string::npos);
  CHECK(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()) == 2);
  std::filesystem::remove_all(dir);
}

TEST_CASE("pareto: SVG of degenerate data stays well formed", "[search][pareto]") {
  const std::vector<point> none;
  const std::vector<point> one{{A::smallest(), {5, 5}}};
  const std::vector<point> odd{{A::smallest(), {std::nan(""), 1}}, {A::largest(), {1, INFINITY}}};
  for (const auto* pts : {&none, &one, &odd}) {
    const auto svg = hat::pareto_svg(*pts, *pts, "x", "y");
    CHECK_THAT(svg, Catch::StartsWith("<svg") && Catch::EndsWith("</svg>\n"));
    CHECK_FALSE(non_finite_text(svg));
    CHECK(svg.find(">-0<") == std::string::npos);
  }
  CHECK(count(hat::pareto_svg(one, one, "x", "y"), "<circle") == 4);
  CHECK(count(hat::pareto_svg(odd, odd, "x", "y"), "<circle") == 2);  // non-finite points left out
}
