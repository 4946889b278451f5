// SPDX-License-Identifier: MIT
// HAT's shipped latency predictors (../shared/reference/hat-predictors, legacy-format torch.save files
// written by HAT's authors) imported into hat: on their whole shipped CSV they reach the RMSE and
// MAPD of ../shared/reference/hat-spec.md §12.2, and a saved import predicts the same.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <string>
#include <unistd.h>

#include <hat/backend/cpu.hpp>
#include <hat/io/latency_csv.hpp>
#include <hat/predictor/from_torch.hpp>
#include <hat/predictor/metrics.hpp>

#include "shared_data.hpp"

namespace {

struct shipped {
  const char* name;
  double lat_norm;  // hat-spec.md §6.1: 200 TITAN Xp, 300 Xeon, 5000 Raspberry Pi
  double rmse_ms;   // hat-spec.md §12.2, as printed there
  double rmse_digit;  // the last printed digit's place
  double mapd_percent;
};

}  // namespace

TEST_CASE("HAT's shipped predictors: imported, they reproduce hat-spec.md §12.2 on their whole CSV", "[torch][predictor][shared]") {
  const shipped files[] = {
      {"iwslt14deen_gpu_titanxp", 200, 13.42, 0.01, 6.98},  {"wmt14ende_cpu_raspberrypi", 5000, 566.8, 0.1, 3.80},
      {"wmt14ende_cpu_xeon", 300, 15.76, 0.01, 4.79},       {"wmt14ende_gpu_titanxp", 200, 15.17, 0.01, 5.91},
      {"wmt14enfr_cpu_raspberrypi", 5000, 73.1, 0.1, 0.88}, {"wmt14enfr_gpu_titanxp", 200, 4.15, 0.01, 1.90},
  };
  hat::cpu be;
  const auto dir = hat_test::shared_dir() / "reference";
  for (const auto& s : files) {
    INFO(s.name);
    const auto file = hat::torch_file::read(dir / "hat-predictors" / (std::string(s.name) + ".pt"));
    CHECK(file.legacy());
    auto p = hat::predictor_from_torch(be, file, s.lat_norm);
    const auto table = hat::read_latency_csv(dir / "latency-datasets" / (std::string(s.name) + "_all.csv"));
    REQUIRE(table.rows.size() == 2000);
    std::vector<std::array<double, 10>> x;
    std::vector<double> y;
    for (const auto& r : table.rows) {
      x.push_back(r.features);
      y.push_back(r.total_ms());
    }
    const auto predicted = p.predict_ms(x);
    const auto m = hat::evaluate_predictions(y, predicted);
    // agree with the table to its last printed digit
    CHECK(std::abs(m.rmse_ms - s.rmse_ms) <= s.rmse_digit / 2 + 1e-9);
    CHECK(std::abs(100 * m.mape - s.mapd_percent) <= 0.005 + 1e-9);

    // saved as a hat predictor and loaded back: the same predictions
    const auto out = std::filesystem::temp_directory_path() / ("hat_imported_" + std::to_string(::getpid()) + ".pred");
    p.save(out);
    auto back = hat::latency_predictor<hat::cpu>::load(be, out);
    std::filesystem::remove(out);
    CHECK(back.predict_ms(x[0]) == p.predict_ms(x[0]));
  }
}

TEST_CASE("predictor_from_torch: a state dict that is not HAT's predictor is refused by name", "[torch][predictor]") {
  hat::cpu be;
  const auto f = hat::torch_file::read(hat_test::test_data() / "torch" / "tensors_zip.pt");
  CHECK_THROWS_WITH(hat::predictor_from_torch(be, f, 200), Catch::Contains("tensors_zip.pt (tensors_zip/data.pkl): obj has no 'first_layer.weight'"));
  const auto ck = hat::torch_file::read(hat_test::test_data() / "torch" / "checkpoint_zip.pt");
  CHECK_THROWS_WITH(hat::predictor_from_torch(be, ck, 200), Catch::Contains("has no 'first_layer.weight'"));
}
