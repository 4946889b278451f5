// SPDX-License-Identifier: MIT
// Fuzzes the checkpoint reader: the header (format, maxima, vocabulary, storage, tensors, state,
// arrays), the sizes it implies against the file's, and the state values read before the model type
// is known (where the subword model's path, size and hash are bound).
#include <filesystem>
#include <string>

#include <hat/backend/cpu.hpp>
#include <hat/nn/checkpoint.hpp>
#include <hat/space/choice.hpp>
#include <hat/space/space.hpp>

#include "checksummed.hpp"
#include "harness.hpp"

namespace {
using tiny_space = hat::space<
    hat::choice<"encoder_embed_dim", 8, 4>, hat::choice<"encoder_layer_num", 1>,
    hat::per_layer<1, hat::choice<"encoder_ffn_embed_dim", 16, 8>>,
    hat::per_layer<1, hat::choice<"encoder_self_attention_heads", 2, 1>>,
    hat::choice<"decoder_embed_dim", 8, 4>, hat::choice<"decoder_layer_num", 1>,
    hat::per_layer<1, hat::choice<"decoder_ffn_embed_dim", 16, 8>>,
    hat::per_layer<1, hat::choice<"decoder_self_attention_heads", 2, 1>>,
    hat::per_layer<1, hat::choice<"decoder_ende_attention_heads", 2, 1>>,
    hat::per_layer<1, hat::choice<"decoder_arbitrary_ende_attn", -1>>, hat::fixed<"qkv_dim", 8>>;
using model_t = hat::super_transformer_for<tiny_space, hat::cpu>;
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  hat_fuzz::write_seed_if_asked([] {  // a tiny SuperTransformer with a training state
    hat::cpu be;
    model_t m(be, {6, 6, hat::embedding_sharing::all});
    m.init_hat(be, 1);
    hat::checkpoint_extras x;
    x.values = {{"space", "tiny"}, {"subwords", "subwords.model"}, {"subwords_size", "6"}, {"subwords_fnv1a", "0123456789abcdef"}};
    x.arrays = {{"history", {1.5f, 1.25f, 0.001f, 10, 0.5f}}};
    return hat_fuzz::checksummed_seed([&](const std::filesystem::path& path) { hat::save_checkpoint(be, m, path, x); });
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static hat::cpu be;
  const std::string file = hat_fuzz::checksummed_file(hat_fuzz::bytes(data, size));
  hat_fuzz::expect_refusal_or_value([&] {
    hat::checkpoint_extras x;
    (void)hat::checkpoint_from_bytes<model_t::maxima, hat::cpu>(be, file, "fuzz.hat", &x);
  });
  hat_fuzz::expect_refusal_or_value([&] {
    const auto x = hat::checkpoint_state_of_header(file);
    (void)x.value("subwords_fnv1a");
  });
  return 0;
}
