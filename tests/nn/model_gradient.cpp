// SPDX-License-Identifier: MIT
// The whole model's backward (training_pass.hpp) against central finite differences in double,
// over several SubTransformers of one tiny paneled space and every vocabulary layout: every
// parameter, including the shared tables, identity layers and arbitrary encoder-decoder
// attention, with and without dropout.
#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/nn/super_transformer.hpp>
#include <hat/nn/training_pass.hpp>
#include <hat/space/random.hpp>

namespace {

struct tiny : hat::transformer_maxima<6, 8, 8, 4, 3, 2, 16> {
  static constexpr std::array<std::size_t, 2> embed_choices{4, 6};
  static constexpr std::array<std::size_t, 2> encoder_ffn_choices{4, 8};
  static constexpr std::array<std::size_t, 2> decoder_ffn_choices{6, 8};
};
using model_t = hat::super_transformer<tiny, hat::cpu, double>;

hat::transformer_config arch(std::size_t de, std::size_t dd, std::vector<std::size_t> enc_ffn, std::vector<std::size_t> enc_heads,
                             std::vector<std::size_t> dec_ffn, std::vector<std::size_t> self_heads,
                             std::vector<std::size_t> ende_heads, std::vector<int> arbitrary) {
  return {de, dd, std::move(enc_ffn), std::move(enc_heads), std::move(dec_ffn), std::move(self_heads), std::move(ende_heads),
          std::move(arbitrary)};
}

struct batch {
  hat::token_batch src, tgt;
};

batch make_batch() {
  // Source left-padded (row 1 shorter), target right-padded and ending in </s>; ids 4..8.
  return {hat::token_batch::pad({{4, 7, 5, 2}, {8, 6, 2}}, true), hat::token_batch::pad({{5, 4, 8, 2}, {6, 2}}, false)};
}

}  // namespace

TEST_CASE("whole-model backward: every parameter against finite differences", "[nn][grad][model]") {
  hat::cpu be;
  const std::vector<hat::transformer_config> archs{
      // everything at the maxima, the last decoder layer attending to 3 encoder layers
      arch(6, 6, {8, 8, 8}, {2, 2, 4}, {8, 8}, {2, 4}, {1, 2}, {-1, 2}),
      // narrower encoder than decoder, 2 of 3 encoder layers: the 3rd is identity and the
      // decoder's 3-layer memory reads the 2nd output twice
      arch(4, 6, {4, 8}, {1, 4}, {6}, {2}, {4}, {2}),
      // narrower decoder, 1 encoder layer (memory of 2: the same output twice)
      arch(6, 4, {8}, {2}, {6, 8}, {1, 2}, {2, 1}, {1, -1}),
  };
  const batch b = make_batch();
  const hat::vocabulary_sizes layouts[] = {{9, 9, hat::embedding_sharing::all},
                                           {9, 10, hat::embedding_sharing::decoder},
                                           {9, 10, hat::embedding_sharing::none}};
  const hat::dropout_rates none{}, hat_like{0.3, 0.2, 0.1, true, true};
  for (const auto& v : layouts) {
    for (std::size_t a = 0; a < archs.size(); ++a) {
      for (const hat::dropout_rates* rates : {&none, &hat_like}) {
        if (rates == &hat_like && a != 1) continue;  // dropout once per layout, on the most irregular arch
        INFO("layout " << static_cast<int>(v.sharing) << " arch " << a << " dropout " << rates->dropout);
        const auto& c = archs[a];
        model_t model(be, v);
        hat::rng g(100 + a);
        for (std::size_t i = 0; i < model.size(); ++i) model.data()[i] = 0.6 * (2 * g.uniform() - 1);
        hat::model_workspace<hat::cpu, double> ws;
        hat::training_tape<hat::cpu, double> tape;
        const std::uint64_t key = 77;
        const auto loss = [&] {
          hat::training_tape<hat::cpu, double> t2;
          return hat::training_forward(be, model, c, b.src, b.tgt, 0.1, *rates, key, t2).loss;
        };
        const hat::loss_sums s = hat::training_forward(be, model, c, b.src, b.tgt, 0.1, *rates, key, tape);
        CHECK(s.tokens == 6);
        if (rates == &none) {  // without dropout the training forward is the evaluation forward
          hat::cpu::buffer<double> logits;
          hat::encoder_output<hat::cpu, double> enc;
          hat::model_workspace<hat::cpu, double> w3;
          CHECK(s.loss == Approx(model.loss(be, c, b.src, b.tgt, 0.1, w3, logits, enc).loss).epsilon(1e-12));
        } else {
          hat::training_tape<hat::cpu, double> t2;
          CHECK(s.loss != Approx(hat::training_forward(be, model, c, b.src, b.tgt, 0.1, none, key, t2).loss));
        }
        std::vector<double> grad(model.size(), 0.0);
        hat::training_backward(be, model, tape, 1.0, grad.data(), ws);
        const double h = 1e-6;
        std::size_t checked = 0, zero = 0;
        for (std::size_t i = 0; i < model.size(); ++i) {
          const double keep = model.data()[i];
          model.data()[i] = keep + h;
          const double up = loss();
          model.data()[i] = keep - h;
          const double down = loss();
          model.data()[i] = keep;
          const double fd = (up - down) / (2 * h);
          INFO("parameter element " << i);
          if (fd == 0.0) {
            // Unread slices (the layer tests show they get exactly 0), entries without effect
            // (the key bias, which softmax cancels) and ones below the differences' resolution.
            REQUIRE(std::abs(grad[i]) < 1e-7);
            zero += grad[i] == 0.0;
          } else {
            REQUIRE(grad[i] == Approx(fd).margin(1e-7).epsilon(1e-5));
            ++checked;
          }
        }
        CHECK(checked > model.size() / 3);
        if (a > 0) CHECK(zero > 0);
      }
    }
  }
}

TEST_CASE("dropout masks: a pure function of key and element; rate and scaling as HAT's", "[nn][dropout]") {
  hat::cpu be;
  const std::size_t rows = 200, cols = 50;
  std::vector<float> a(rows * cols, 1.0f), b(rows * cols, 1.0f);
  be.dropout(hat::dense(a.data(), rows, cols), 0.3f, 5);
  be.dropout(hat::dense(b.data(), rows, cols), 0.3f, 5);
  CHECK(a == b);
  std::size_t dropped = 0;
  for (float x : a) {
    REQUIRE((x == 0.0f || x == Approx(1.0 / 0.7)));
    dropped += x == 0.0f;
  }
  CHECK(static_cast<double>(dropped) / static_cast<double>(a.size()) == Approx(0.3).margin(0.02));
  std::vector<float> c(rows * cols, 1.0f);
  be.dropout(hat::dense(c.data(), rows, cols), 0.3f, 6);
  CHECK(a != c);
  // Strided views use logical indices: the same mask whatever the leading dimension.
  std::vector<float> wide(rows * (cols + 3), 1.0f);
  be.dropout(hat::matrix_ref<float>{wide.data(), rows, cols, cols + 3}, 0.3f, 5);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < cols; ++j) REQUIRE(wide[r * (cols + 3) + j] == a[r * cols + j]);
  const std::vector<float> before = c;
  be.dropout(hat::dense(c.data(), rows, cols), 0.0f, 6);  // rate 0 is the identity
  CHECK(c == before);
}

TEST_CASE("HAT's dropout scaling: d_sample / d_super per side, the encoder self-attention quirk", "[nn][dropout]") {
  const hat::transformer_config c = arch(512, 384, {1024}, {8}, {1024}, {8}, {8}, {-1});
  const hat::dropout_rates r{0.3, 0.1, 0.2, true, true};
  const auto d = hat::subtransformer_dropout::of(r, c, 640);
  CHECK(d.encoder == Approx(0.24));
  CHECK(d.decoder == Approx(0.18));
  CHECK(d.encoder_self_out == Approx(0.3));  // unscaled (HAT's TransformerEncoderLayer.forward)
  CHECK(d.encoder_activation == Approx(0.16));
  CHECK(d.decoder_activation == Approx(0.12));
  CHECK(d.attention == Approx(0.1));  // never scaled
  hat::dropout_rates plain = r;
  plain.unscaled_encoder_self = false;
  CHECK(hat::subtransformer_dropout::of(plain, c, 640).encoder_self_out == Approx(0.24));
  plain.scale_by_width = false;
  CHECK(hat::subtransformer_dropout::of(plain, c, 640).decoder == Approx(0.3));
}
