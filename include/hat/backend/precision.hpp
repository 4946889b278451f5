// SPDX-License-Identifier: MIT
// precision: the weights' precision of inference (`--precision`), and running a step at one.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <hat/config.hpp>

namespace hat {

/// The weights' precision in inference (`--precision`). fp32 is the default and the reference;
/// bf16 rounds every weight to nearest even once (the CPU backend's set_decode_precision); int8
/// stores every weight matrix as symmetric int8 with one scale per row (int8_scales) and takes
/// each activation row to 13-bit integers inside the product. Activations between products,
/// the accumulation and every other kernel stay fp32. The numbers are stored in predictor files.
enum class precision { fp32 = 0, bf16 = 1, int8 = 2 };

inline std::string_view precision_name(precision p) noexcept {
  switch (p) {
    case precision::bf16: return "bf16";
    case precision::int8: return "int8";
    default: return "fp32";
  }
}

/// "fp32", "bf16" or "int8"; anything else is a config_error naming `where` and the choices.
inline precision parse_precision(std::string_view name, const std::string& where) {
  for (precision p : {precision::fp32, precision::bf16, precision::int8})
    if (name == precision_name(p)) return p;
  throw config_error(where + ": unknown precision '" + std::string(name) + "' (fp32, bf16, int8)");
}

/// Where an int8 weight row's scale (max |w| / 127) is taken over, for a matrix stored in column
/// panels (a SuperTransformer's weights whose input width is elastic: nn/paneled_matrix.hpp).
/// Either way a SubTransformer's slice reuses the scales of the super weights (zero-copy).
/// - panel: one scale per row and panel, over the columns of that panel: no weight's rounding
///   step is larger than under `row`, and a slice that reads the first panels only is scaled by
///   its own columns. The default; as fast as `row` (each panel is a product of its own).
/// - row: one scale per row, over the whole super row (every panel).
/// docs/results.md has what each did to BLEU and logits where it was measured.
/// A matrix stored plainly (one panel) has one scale per row in both.
enum class int8_scales { panel, row };

inline std::string_view int8_scales_name(int8_scales s) noexcept { return s == int8_scales::row ? "row" : "panel"; }

/// "panel" or "row"; anything else is a config_error naming `where`.
inline int8_scales parse_int8_scales(std::string_view name, const std::string& where) {
  if (name == "panel") return int8_scales::panel;
  if (name == "row") return int8_scales::row;
  throw config_error(where + ": unknown int8 scales '" + std::string(name) + "' (panel, row)");
}

/// The weights a run used, in words: "fp32", "bf16", or "int8 (scales per panel|row)".
inline std::string weights_text(precision p, int8_scales scales) {
  return std::string(precision_name(p)) + (p == precision::int8 ? " (scales per " + std::string(int8_scales_name(scales)) + ")" : "");
}

/// Latencies measured at one precision do not predict another's: a latency predictor or dataset
/// (`name`) of `measured` latencies used where `what` is `wanted` is a config_error naming both.
inline void require_latencies_at(precision measured, precision wanted, const std::string& name, const std::string& what) {
  if (measured == wanted) return;
  const std::string w(precision_name(wanted));
  throw config_error(name + ": " + std::string(precision_name(measured)) + " latencies; " + what + " is " + w +
                     " (measure a latency dataset at " + w + " and train or adapt a predictor on it)");
}

/// A backend that runs `model` at precision p: a converted copy of `be` (be itself unchanged),
/// or null when `be` runs it at p already. A backend without set_decode_precision (hat::cuda)
/// takes fp32 only: another precision is a config_error naming it. `scales`: int8's (ignored by
/// the others). The copy counts for `model` where it lies now (decodes_at): keep the model in place.
template <class Backend, class Model>
std::shared_ptr<Backend> backend_at(const Backend& be, const Model& model, precision p, int8_scales scales = int8_scales::panel) {
  if constexpr (requires { be.decodes_at(p, model, scales); }) {
    if (be.decodes_at(p, model, scales)) return nullptr;
    auto run = std::make_shared<Backend>(be);
    run->set_decode_precision(p, model, scales);
    return run;
  } else {
    if (p != precision::fp32)
      throw config_error("precision " + std::string(precision_name(p)) + ": this backend decodes in fp32 only");
    return nullptr;
  }
}

/// A backend whose products train at precision p (fp32 or bf16: set_training_precision): a copy
/// of `be` set so (be itself unchanged), or null when `be` trains at p already. A backend without
/// set_training_precision (hat::cuda) trains in fp32 only: another precision is a config_error.
template <class Backend>
std::shared_ptr<Backend> backend_training_at(const Backend& be, precision p) {
  if constexpr (requires(Backend& b) { b.set_training_precision(p); }) {
    if (be.training_precision() == p) return nullptr;
    auto run = std::make_shared<Backend>(be);
    run->set_training_precision(p);
    return run;
  } else {
    if (p != precision::fp32)
      throw config_error("precision " + std::string(precision_name(p)) + ": this backend trains in fp32 only");
    return nullptr;
  }
}

/// The precision `be` trains at (fp32 for a backend without set_training_precision).
template <class Backend>
precision training_precision_of(const Backend& be) noexcept {
  if constexpr (requires { be.training_precision(); }) return be.training_precision();
  else return precision::fp32;
}

/// f(backend) on a backend that runs `model` at precision p (backend_at; be itself unchanged).
template <class Backend, class Model, class F>
decltype(auto) with_decode_precision(Backend& be, const Model& model, precision p, F&& f,
                                     int8_scales scales = int8_scales::panel) {
  const auto run = backend_at(be, model, p, scales);
  return f(run ? *run : be);
}

}  // namespace hat
