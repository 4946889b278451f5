// SPDX-License-Identifier: MIT
// predictor_from_torch: one of HAT's shipped latency predictors (a torch.save of the state dict of
// HAT's latency_predictor.py Net: first_layer, layers.0..2, predict) as a hat latency_predictor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <hat/io/torch_file.hpp>
#include <hat/predictor/latency_predictor.hpp>

namespace hat {

/// The state dict's Linear layers in order: first_layer, layers.0 .. layers.{HiddenLayers-1},
/// predict, each weight [out, in] and bias [out], float32 (other float dtypes are converted).
/// Any missing, extra or misshapen entry is an error naming it. `lat_norm` is the divisor the
/// predictor was trained with (HAT: 200 TITAN Xp, 300 Xeon, 5000 Raspberry Pi): it is not in the file.
template <backend_policy Backend, std::size_t Hidden = 400, std::size_t HiddenLayers = 3>
latency_predictor<Backend, Hidden, HiddenLayers> predictor_from_torch(Backend& be, const torch_file& file, double lat_norm) {
  using predictor = latency_predictor<Backend, Hidden, HiddenLayers>;
  constexpr auto in = static_cast<std::int64_t>(10), hidden = static_cast<std::int64_t>(Hidden);
  const auto sd = file.root();
  if (!sd.is(pickle_kind::dict)) sd.fail("a state dict (HAT's latency predictor file)");
  std::vector<std::string> names{"first_layer"};
  for (std::size_t l = 0; l < HiddenLayers; ++l) names.push_back("layers." + std::to_string(l));
  names.push_back("predict");
  std::set<std::string> expected;
  std::vector<float> params;
  params.reserve(predictor::network::param_count);
  for (std::size_t l = 0; l < names.size(); ++l) {
    const std::int64_t rows = l + 1 == names.size() ? 1 : hidden, cols = l == 0 ? in : hidden;
    for (const char* part : {".weight", ".bias"}) {
      const std::string key = names[l] + part;
      expected.insert(key);
      const auto t = sd.at(key);
      const auto v = std::string(part) == ".weight" ? file.to_float(t, {rows, cols}) : file.to_float(t, {rows});
      params.insert(params.end(), v.begin(), v.end());
    }
  }
  for (const auto& [k, v] : sd.entries())
    if (!expected.contains(k.as_string()))
      throw config_error(file.name() + ": '" + k.as_string() + "' is not a tensor of HAT's latency predictor (10 -> " +
                         std::to_string(Hidden) + " x " + std::to_string(HiddenLayers + 1) + " -> 1)");
  try {
    return predictor::from_parameters(be, lat_norm, params);
  } catch (const config_error& e) {
    throw config_error(file.name() + ": " + e.what());
  }
}

}  // namespace hat
