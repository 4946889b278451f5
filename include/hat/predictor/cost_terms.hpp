// SPDX-License-Identifier: MIT
// cost_terms: what a Transformer's latency is made of, from HAT's 10 architecture features.
#pragma once

#include <array>
#include <cstddef>

namespace hat {

inline constexpr std::size_t cost_term_count = 6;

/// HAT's 10 features (hat_features: encoder dim, layers, mean FFN, mean heads; decoder dim,
/// layers, mean FFN, mean self heads, mean cross heads, mean encoder layers attended) ->
/// [encoder layers, decoder layers, encoder weights x layers (4 d^2 + 2 d ffn per layer),
/// decoder weights x layers (8 d^2 + 2 d ffn: self and cross attention, FFN), decoder layers x
/// encoder layers attended x decoder dim (the cross attention's key/value work), decoder dim
/// (the vocabulary projection at every step)]. On every device latency is close to linear in
/// these; only the weights differ (launch-bound GPUs price layers, CPUs price weights), so a
/// few measurements fit them where HAT's raw features need many (docs/results.md).
inline std::array<double, cost_term_count> cost_terms(const std::array<double, 10>& f) {
  const double ee = f[0], el = f[1], ef = f[2], de = f[4], dl = f[5], df = f[6], da = f[9];
  return {el, dl, el * (4 * ee * ee + 2 * ee * ef), dl * (8 * de * de + 2 * de * df), dl * da * de, de};
}

}  // namespace hat
