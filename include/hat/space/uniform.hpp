// SPDX-License-Identifier: MIT
// uniform_archs: the uniformly scaled Transformers of a space, the baseline HAT's paper compares
// its SubTransformers with (its "Transformer" rows: the same width in every layer, scaled by
// fewer layers or narrower dimensions).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <hat/config.hpp>
#include <hat/space/arch.hpp>
#include <hat/space/transformer.hpp>

namespace hat {

namespace detail {
template <transformer_space S>
std::vector<int> choices_of(std::string_view name) {
  const auto& d = S::dims[static_cast<std::size_t>(S::find(name))];
  return {d.values.begin(), d.values.end()};
}
/// Values every named dimension offers, in the first one's order.
template <transformer_space S>
std::vector<int> shared_choices(std::initializer_list<std::string_view> names) {
  std::vector<int> out = choices_of<S>(*names.begin());
  for (auto n : names) {
    const auto other = choices_of<S>(n);
    std::erase_if(out, [&](int v) { return std::find(other.begin(), other.end(), v) == other.end(); });
  }
  return out;
}
template <transformer_space S>
void set_all_layers(arch<S>& a, std::string_view name, int v) {
  const auto i = static_cast<std::size_t>(S::find(name));
  for (std::size_t l = 0; l < S::dims[i].layers; ++l) a.set_value(i, l, v);
}
}  // namespace detail

/// Every uniformly scaled Transformer of S: one embedding width for encoder and decoder, one
/// FFN width and one head count in every layer, every decoder layer attending to the last
/// encoder layer (the standard Transformer's; -1), any encoder and decoder depth. Values that
/// not every such dimension offers are left out. In a fixed order (widest, deepest first);
/// empty when the space has no width common to encoder and decoder.
template <transformer_space S>
std::vector<arch<S>> uniform_archs() {
  using detail::shared_choices;
  const auto embed = shared_choices<S>({"encoder_embed_dim", "decoder_embed_dim"});
  const auto ffn = shared_choices<S>({"encoder_ffn_embed_dim", "decoder_ffn_embed_dim"});
  const auto heads = shared_choices<S>(
      {"encoder_self_attention_heads", "decoder_self_attention_heads", "decoder_ende_attention_heads"});
  const auto attn = detail::choices_of<S>("decoder_arbitrary_ende_attn");
  if (std::find(attn.begin(), attn.end(), -1) == attn.end()) return {};
  std::vector<arch<S>> out;
  for (int e : embed)
    for (int f : ffn)
      for (int h : heads)
        for (int le : detail::choices_of<S>("encoder_layer_num"))
          for (int ld : detail::choices_of<S>("decoder_layer_num")) {
            arch<S> a;
            a.template set<"encoder_embed_dim">(e);
            a.template set<"decoder_embed_dim">(e);
            if constexpr (!S::template dim<"encoder_layer_num">().fixed) a.template set<"encoder_layer_num">(le);
            if constexpr (!S::template dim<"decoder_layer_num">().fixed) a.template set<"decoder_layer_num">(ld);
            for (auto n : {"encoder_ffn_embed_dim", "decoder_ffn_embed_dim"}) detail::set_all_layers(a, n, f);
            for (auto n : {"encoder_self_attention_heads", "decoder_self_attention_heads", "decoder_ende_attention_heads"})
              detail::set_all_layers(a, n, h);
            detail::set_all_layers(a, "decoder_arbitrary_ende_attn", -1);
            out.push_back(a);
          }
  std::sort(out.begin(), out.end(), [](const arch<S>& x, const arch<S>& y) {  // widest, then deepest
    const auto key = [](const arch<S>& a) {
      return std::array<int, 4>{a.template get<"encoder_embed_dim">(), a.template get<"encoder_ffn_embed_dim">(0),
                                a.template get<"decoder_layer_num">() + a.template get<"encoder_layer_num">(),
                                a.template get<"encoder_self_attention_heads">(0)};
    };
    return key(x) > key(y);
  });
  return out;
}

/// The uniformly scaled Transformer picked at a latency constraint.
template <transformer_space S>
struct uniform_pick {
  arch<S> network{};
  double predicted_ms = 0;
  bool meets_limit = false;  // false: none meets it, and this is the fastest there is
};

/// The uniformly scaled Transformer with the largest `predicted` latency that still meets
/// `limit_ms`: the baseline a user scaling a Transformer by hand to the same budget would pick
/// (ties: the first in uniform_archs order). When none meets the limit, the fastest. Throws
/// config_error when the space has no uniformly scaled Transformer.
template <transformer_space S>
uniform_pick<S> pick_uniform(const std::function<double(const arch<S>&)>& predicted, double limit_ms) {
  const auto all = uniform_archs<S>();
  if (all.empty())
    throw config_error("this space has no uniformly scaled Transformer (no width common to encoder and decoder, or no "
                       "decoder_arbitrary_ende_attn -1): it has no baseline");
  std::optional<uniform_pick<S>> best, fastest;
  for (const auto& a : all) {
    const double ms = predicted(a);
    if (ms <= limit_ms && (!best || ms > best->predicted_ms)) best = uniform_pick<S>{a, ms, true};
    if (!fastest || ms < fastest->predicted_ms) fastest = uniform_pick<S>{a, ms, false};
  }
  return best ? *best : *fastest;
}

}  // namespace hat
