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
  // A count given as a float out of its range, or not whole (found by the fuzzer: a cast with
  // undefined behaviour inside nlohmann).
  const auto record = hat::parse_json("{\"params\": 1.5e104, \"flops\": 2.5, \"n\": 3.0, \"neg\": -1, \"huge\": 18446744073709551615}", "r.json");
  CHECK_THROWS_WITH(hat::json_get<std::int64_t>(record, "params", "r.json"), Catch::Contains("r.json: key 'params': expected a whole number"));
  CHECK_THROWS_WITH(hat::json_get<std::int64_t>(record, "flops", "r.json"), Catch::Contains("key 'flops'"));
  CHECK(hat::json_get<std::int64_t>(record, "n", "r.json") == 3);
  CHECK_THROWS_WITH(hat::json_get<std::size_t>(record, "neg", "r.json"), Catch::Contains("key 'neg': out of range"));
  CHECK_THROWS_WITH(hat::json_get<std::int64_t>(record, "huge", "r.json"), Catch::Contains("key 'huge': out of range"));
  CHECK(hat::json_get<std::uint64_t>(record, "huge", "r.json") == 18446744073709551615u);
  // A number past a double's range (found by the fuzzer: it escaped as nlohmann's out_of_range).
  CHECK_THROWS_AS(hat::parse_json("4E4444", "big.json"), hat::config_error);
  CHECK_THROWS_WITH(hat::parse_json("{\"bleu\": -1e999}", "big.json"), Catch::Contains("big.json: not valid JSON") && Catch::Contains("overflow"));
  std::filesystem::remove_all(dir);
}
