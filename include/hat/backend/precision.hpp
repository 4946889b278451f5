// SPDX-License-Identifier: MIT
// precision: the weights' precision of inference (`--precision`), and running a step at one.
#pragma once

#include <string>
#include <string_view>

#include <hat/config.hpp>

namespace hat {

/// The weights' precision in inference (`--precision`). fp32 is the default and the reference;
/// bf16 rounds every weight to nearest even once (the CPU backend's set_decode_precision), while
/// activations, the accumulation and every other kernel stay fp32.
enum class precision { fp32, bf16 };

inline std::string_view precision_name(precision p) noexcept { return p == precision::bf16 ? "bf16" : "fp32"; }

/// "fp32" or "bf16"; anything else is a config_error naming `where` and the choices.
inline precision parse_precision(std::string_view name, const std::string& where) {
  if (name == "fp32") return precision::fp32;
  if (name == "bf16") return precision::bf16;
  throw config_error(where + ": unknown precision '" + std::string(name) + "' (fp32, bf16)");
}

/// f(backend) on a copy of `be` that runs `model` at precision p (be itself unchanged); f(be)
/// when be is at p already. A backend without set_decode_precision (hat::cuda) takes fp32 only: another
/// precision is a config_error naming it.
template <class Backend, class Model, class F>
decltype(auto) with_decode_precision(Backend& be, const Model& model, precision p, F&& f) {
  if constexpr (requires { be.set_decode_precision(p, model); }) {
    if (p == be.decode_precision()) return f(be);
    Backend run = be;
    run.set_decode_precision(p, model);
    return f(run);
  } else {
    if (p != precision::fp32)
      throw config_error("precision " + std::string(precision_name(p)) + ": this backend decodes in fp32 only");
    return f(be);
  }
}

}  // namespace hat
