// SPDX-License-Identifier: MIT
// hat/io/json.hpp: one JSON face; a number that is not finite never reaches output, errors name the file and key.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>

#include <unistd.h>

#include <hat/io/json.hpp>
#include <hat/io/read_file.hpp>

TEST_CASE("json: written in key order; NaN and infinities refused with their path", "[io][json]") {
  const hat::json ok = {{"b", 1}, {"a", 2.5}, {"list", {1, 2}}};
  CHECK(hat::json_line(ok) == "{\"b\":1,\"a\":2.5,\"list\":[1,2]}\n");
  const double nan = std::nan(""), inf = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH(hat::json_line({{"rmse_ms", nan}}), Catch::Contains("'rmse_ms' = nan"));
  CHECK_THROWS_WITH(hat::json_line({{"rows", {{{"mape", 1.0}}, {{"mape", -inf}}}}}), Catch::Contains("'rows[1].mape' = -inf"));
  CHECK_THROWS_WITH(hat::json_text(hat::json(inf), 2), Catch::Contains("a JSON value"));

  const auto dir = std::filesystem::temp_directory_path() / ("hat_json_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto f = dir / "r.json";
  hat::write_json_atomic(f, ok);
  CHECK_THROWS(hat::write_json_atomic(f, {{"x", nan}}));
  CHECK(hat::read_json(f) == ok);  // the refused write left the file as it was
  CHECK(hat::json_get<double>(hat::read_json(f), "a", f.string()) == 2.5);
  CHECK_THROWS_WITH(hat::json_get<std::string>(hat::read_json(f), "a", "r.json"), Catch::Contains("r.json: key 'a'"));
  CHECK_THROWS_WITH(hat::json_get<double>(hat::read_json(f), "zz", "r.json"), Catch::Contains("r.json: key 'zz'"));
  CHECK_THROWS_WITH(hat::parse_json("{\"a\": 1,", "cut.json"), Catch::Contains("cut.json: not valid JSON"));
  std::filesystem::remove_all(dir);
}
