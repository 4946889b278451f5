// SPDX-License-Identifier: MIT
// HAT's search spaces (its configs/*/supertransformer/space{0,1}.yml) and tasks, predeclared.
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include <hat/space/choice.hpp>
#include <hat/space/space.hpp>

namespace hat {

// Declared in HAT's gene order (Converter.get_gene_choice), so `arch::genes()` is HAT's 40-gene encoding.
template <int Embed0, int Embed1, int Ffn0, int Ffn1, int Ffn2, int Heads0, int Heads1>
using hat_style_space = space<
    choice<"encoder_embed_dim", Embed0, Embed1>,
    choice<"encoder_layer_num", 6>,
    per_layer<6, choice<"encoder_ffn_embed_dim", Ffn0, Ffn1, Ffn2>>,
    per_layer<6, choice<"encoder_self_attention_heads", Heads0, Heads1>>,
    choice<"decoder_embed_dim", Embed0, Embed1>,
    choice<"decoder_layer_num", 6, 5, 4, 3, 2, 1>,
    per_layer<6, choice<"decoder_ffn_embed_dim", Ffn0, Ffn1, Ffn2>>,
    per_layer<6, choice<"decoder_self_attention_heads", Heads0, Heads1>>,
    per_layer<6, choice<"decoder_ende_attention_heads", Heads0, Heads1>>,
    per_layer<6, choice<"decoder_arbitrary_ende_attn", -1, 1, 2>>,
    fixed<"qkv_dim", 512>>;

/// space0: WMT'14 En-De, WMT'14 En-Fr, WMT'19 En-De.
using hat_wmt_space = hat_style_space<640, 512, 3072, 2048, 1024, 8, 4>;
/// space1: IWSLT'14 De-En.
using hat_iwslt_space = hat_style_space<640, 512, 2048, 1024, 512, 4, 2>;

/// The broader space HAT samples latency datasets from (every task, IWSLT included).
using hat_latency_space = space<
    choice<"encoder_embed_dim", 640, 512>,
    choice<"encoder_layer_num", 6>,
    per_layer<6, choice<"encoder_ffn_embed_dim", 3072, 2048, 1024, 512>>,
    per_layer<6, choice<"encoder_self_attention_heads", 8, 4, 2>>,
    choice<"decoder_embed_dim", 640, 512>,
    choice<"decoder_layer_num", 6, 5, 4, 3, 2, 1>,
    per_layer<6, choice<"decoder_ffn_embed_dim", 3072, 2048, 1024, 512>>,
    per_layer<6, choice<"decoder_self_attention_heads", 8, 4, 2>>,
    per_layer<6, choice<"decoder_ende_attention_heads", 8, 4, 2>>,
    per_layer<6, choice<"decoder_arbitrary_ende_attn", -1, 1, 2>>,
    fixed<"qkv_dim", 512>>;

/// The facts about a HAT task that do not depend on the architecture.
struct task_info {
  std::string_view name;         // as HAT's configs/ directory names it
  int source_length;             // latency and FLOPs dummy sentence: 30 (WMT) or 23 (IWSLT)
  bool shared_embeddings;        // one table for encoder input, decoder input and output
  bool iwslt_space;              // hat_iwslt_space, else hat_wmt_space
};

inline constexpr std::array<task_info, 4> hat_tasks{{
    {"wmt14.en-de", 30, true, false},
    {"wmt14.en-fr", 30, true, false},
    {"wmt19.en-de", 30, true, false},
    {"iwslt14.de-en", 23, false, true},
}};

inline constexpr std::optional<task_info> find_task(std::string_view name) noexcept {
  for (const auto& t : hat_tasks)
    if (t.name == name) return t;
  return std::nullopt;
}

/// Calls `f.template operator()<Space>()` with the task's space type.
template <class F>
decltype(auto) with_task_space(const task_info& t, F&& f) {
  if (t.iwslt_space) return f.template operator()<hat_iwslt_space>();
  return f.template operator()<hat_wmt_space>();
}

}  // namespace hat
