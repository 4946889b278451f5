// SPDX-License-Identifier: MIT
// Tutorial 1: declare a search space as a type, then sample, mutate, cross, encode and save
// architectures of it; the space's dimensions as a Boost.Hana sequence for your own
// metaprograms. docs/search_space.md walks through this file.
#include <boost/hana/filter.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/optional.hpp>
#include <hat/interop/hana.hpp>  // opt-in: the space's dimensions as Hana types
#include <hat/yaml/subtransformer.hpp>
#include <hat/profile/flops.hpp>
#include <hat/profile/params.hpp>
#include <hat/space/encode.hpp>
#include <iostream>

// [declare]
// A SuperTransformer space: global choices, per-layer choices (gated by the layer counts),
// and the fixed Q/K/V width. Weights will be allocated at the maxima, which are constants.
using my_space = hat::space<
    hat::choice<"encoder_embed_dim", 512, 256>,
    hat::choice<"encoder_layer_num", 4>,
    hat::per_layer<4, hat::choice<"encoder_ffn_embed_dim", 2048, 1024>>,
    hat::per_layer<4, hat::choice<"encoder_self_attention_heads", 8, 4>>,
    hat::choice<"decoder_embed_dim", 512, 256>,
    hat::choice<"decoder_layer_num", 4, 3, 2, 1>,
    hat::per_layer<4, hat::choice<"decoder_ffn_embed_dim", 2048, 1024>>,
    hat::per_layer<4, hat::choice<"decoder_self_attention_heads", 8, 4>>,
    hat::per_layer<4, hat::choice<"decoder_ende_attention_heads", 8, 4>>,
    hat::per_layer<4, hat::choice<"decoder_arbitrary_ende_attn", -1, 1>>,
    hat::fixed<"qkv_dim", 512>>;

static_assert(my_space::max<"encoder_ffn_embed_dim">() == 2048);  // sizes the FFN weights
static_assert(my_space::gene_count == 2 + 8 + 2 + 16);
static_assert(hat::transformer_space<my_space>);
// [declare]

// [hana]
// The dimensions are types, so a metaprogram can search them by name or filter them: here,
// at compile time, the per-layer dimensions and the choices of the encoder's FFN.
namespace hana = boost::hana;
constexpr auto per_layer_dims =
    hana::filter(hat::hana_dimensions<my_space>, [](auto d) { return hana::bool_c<decltype(d)::type::is_per_layer>; });
constexpr auto encoder_ffn = hat::hana_find_dimension<my_space, "encoder_ffn_embed_dim">;
static_assert(hana::is_just(encoder_ffn), "the space has an encoder FFN dimension");
static_assert(hat::hana_dimension_t<my_space, "encoder_ffn_embed_dim">::values.size() == 2);
// [hana]

int main() {
  std::cout << "space: " << my_space::gene_count << " genes, " << my_space::size()
            << " distinct architectures\n  per-layer dimensions:";
  hana::for_each(per_layer_dims, [](auto d) { std::cout << ' ' << decltype(d)::type::name; });
  std::cout << "\n";

  // [evolve]
  hat::rng rng(2024);  // every random draw takes an explicit, seeded generator
  const auto a = hat::arch<my_space>::sample(rng);
  const auto b = hat::arch<my_space>::sample(rng);
  const auto child = hat::arch<my_space>::crossover(a, b, rng).mutated(rng, 0.3);
  hat::validate_transformer(child);
  // [evolve]

  // [measure]
  std::cout << "child: " << child << "\n"
            << "  #params " << hat::params(child) << ", FLOPs at length 30: " << hat::flops(child, 30) << "\n"
            << "  HAT features:";
  for (double f : hat::hat_normalized_features(child)) std::cout << ' ' << f;
  std::cout << "\n";
  // [measure]

  // [save]
  std::cout << "as HAT YAML:\n" << hat::to_subtransformer_yaml(child);
  const auto back = hat::parse_subtransformer_yaml<my_space>(hat::to_subtransformer_yaml(child), "child.yml");
  // [save]
  return back.same_network(child) ? 0 : 1;
}
