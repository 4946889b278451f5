// SPDX-License-Identifier: MIT
// training_pass: one SubTransformer's teacher-forced forward with dropout and its backward into a gradient arena.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>  // std::swap
#include <vector>

#include <hat/backend/concepts.hpp>
#include <hat/backend/dropout_mask.hpp>
#include <hat/config.hpp>
#include <hat/nn/dropout_rates.hpp>
#include <hat/nn/embedding.hpp>
#include <hat/nn/super_transformer.hpp>
#include <hat/data/token_batch.hpp>
#include <hat/nn/transformer_config.hpp>
#include <hat/nn/transformer_layers.hpp>

namespace hat {

/// The rates one SubTransformer trains with, derived from dropout_rates.
struct subtransformer_dropout {
  float encoder = 0, decoder = 0;  // embeddings and every other output dropout of each side
  float encoder_self_out = 0;      // the encoder self-attention output (the quirk)
  float encoder_activation = 0, decoder_activation = 0, attention = 0;

  static subtransformer_dropout of(const dropout_rates& r, const transformer_config& c, std::size_t super_embed) {
    const auto scaled = [&](double rate, std::size_t d) {
      return static_cast<float>(r.scale_by_width ? rate * static_cast<double>(d) / static_cast<double>(super_embed) : rate);
    };
    subtransformer_dropout s;
    s.encoder = scaled(r.dropout, c.encoder_embed_dim);
    s.decoder = scaled(r.dropout, c.decoder_embed_dim);
    s.encoder_self_out = r.unscaled_encoder_self ? static_cast<float>(r.dropout) : s.encoder;
    s.encoder_activation = scaled(r.activation, c.encoder_embed_dim);
    s.decoder_activation = scaled(r.activation, c.decoder_embed_dim);
    s.attention = static_cast<float>(r.attention);
    return s;
  }
};

/// What training_forward keeps for training_backward, and the scratch of both; reused across
/// steps (buffers only grow).
template <backend_policy Backend, class T = float>
struct training_tape {
  using buffer = typename Backend::template buffer<T>;
  transformer_config config;
  subtransformer_dropout dropout;
  std::uint64_t key = 0;
  double eps = 0;
  std::size_t batch = 0, src_time = 0, tgt_time = 0;
  std::vector<int> src_tokens, src_positions, prev_tokens, prev_positions, targets;  // host
  buffer src_embedded;                  // [batch src_time, d_enc], after dropout
  encoder_output<Backend, T> encoder;   // every active encoder layer's output
  std::vector<layer_tape<Backend, T>> encoder_layers, decoder_layers;
  std::vector<buffer> decoder_inputs;   // [l]: decoder layer l's input [batch tgt_time, d_dec]; last: the final output
  std::vector<buffer> memories;         // decoder layer l's encoder memory [batch tm, d_enc]
  std::vector<typename Backend::template buffer<unsigned char>> memory_padding;
  buffer logits;                        // [batch tgt_time, V]: d(summed loss)/d(logits) after the forward
  // backward scratch
  std::vector<buffer> encoder_grads;    // d(encoder layer l's output)
  buffer dmemory, da, db;
};

namespace detail {
enum training_site : std::uint64_t { source_embedding_site = 1, target_embedding_site = 2, encoder_layer_sites = 1000,
                                     decoder_layer_sites = 2000 };

inline layer_dropout encoder_layer_dropout(const subtransformer_dropout& d, std::uint64_t key, std::size_t l) {
  return {d.encoder_self_out, 0, d.encoder, d.encoder_activation, d.attention, dropout_key(key, encoder_layer_sites + l)};
}
inline layer_dropout decoder_layer_dropout(const subtransformer_dropout& d, std::uint64_t key, std::size_t l) {
  return {d.decoder, d.decoder, d.decoder, d.decoder_activation, d.attention, dropout_key(key, decoder_layer_sites + l)};
}
template <backend_policy Backend, class T>
matrix_ref<T> sized(typename Backend::template buffer<T>& b, std::size_t rows, std::size_t cols) {
  return dense(reserve<Backend, T>(b, rows * cols), rows, cols);
}
}  // namespace detail

/// The teacher-forced forward of SubTransformer `c` on one batch (source [batch, s] padded
/// either side, target [batch, t] right-padded, ending in EOS), with HAT's dropout drawn from
/// `key` (rates 0: the evaluation forward), keeping everything training_backward needs.
/// Returns the label-smoothed loss (eps) and NLL summed over target tokens, in nats.
template <class M, backend_policy Backend, class T>
loss_sums training_forward(Backend& be, const super_transformer<M, Backend, T>& model, const transformer_config& c,
                           const token_batch& src, const token_batch& tgt, double eps, const dropout_rates& rates,
                           std::uint64_t key, training_tape<Backend, T>& tape) {
  HAT_ASSERT(src.rows == tgt.rows, "training_forward: source and target batches differ");
  model.prepare_encoder_output(be, c, src, tape.encoder);
  tape.config = c;
  tape.dropout = subtransformer_dropout::of(rates, c, M::embed);
  tape.key = key;
  tape.eps = eps;
  tape.batch = src.rows;
  tape.src_time = src.cols;
  tape.tgt_time = tgt.cols;
  const subtransformer_dropout& dr = tape.dropout;

  // Encoder.
  const std::size_t ns = src.rows * src.cols, de = c.encoder_embed_dim, enc_layers = c.encoder_layers();
  tape.src_tokens = src.tokens;
  tape.src_positions = positions_of(src.tokens, src.rows, src.cols);
  const matrix_ref<T> x = detail::sized<Backend, T>(tape.src_embedded, ns, de);
  model.source_embedding().forward(be, tape.src_tokens, tape.src_positions, x);
  be.dropout(x, dr.encoder, dropout_key(key, detail::source_embedding_site));
  tape.encoder_layers.resize(enc_layers);
  for (std::size_t l = 0; l < enc_layers; ++l) {
    const matrix_ref<const T> in = l == 0 ? matrix_ref<const T>(x) : tape.encoder.out(l - 1);
    model.encoder(l).forward_train(be, in, src.rows, c.encoder_layer(l), tape.encoder.padding_mask(),
                                   dense(tape.encoder.layers[l].data(), ns, de), tape.encoder_layers[l],
                                   detail::encoder_layer_dropout(dr, key, l));
  }

  // Decoder.
  const token_batch prev = tgt.shifted_right();
  const std::size_t nt = tgt.rows * tgt.cols, dd = c.decoder_embed_dim, dec_layers = c.decoder_layers(),
                    vocab = model.vocabulary().target;
  tape.prev_tokens = prev.tokens;
  tape.prev_positions = positions_of(prev.tokens, prev.rows, prev.cols);
  tape.targets = tgt.tokens;
  tape.decoder_inputs.resize(dec_layers + 1);
  tape.decoder_layers.resize(dec_layers);
  tape.memories.resize(dec_layers);
  tape.memory_padding.resize(dec_layers);
  const matrix_ref<T> y0 = detail::sized<Backend, T>(tape.decoder_inputs[0], nt, dd);
  model.target_embedding().forward(be, tape.prev_tokens, tape.prev_positions, y0);
  be.dropout(y0, dr.decoder, dropout_key(key, detail::target_embedding_site));
  for (std::size_t l = 0; l < dec_layers; ++l) {
    const std::size_t tm = model.memory(be, c, l, tape.encoder, tape.memories[l], tape.memory_padding[l]);
    model.decoder(l).forward_train(
        be, dense(static_cast<const T*>(tape.decoder_inputs[l].data()), nt, dd), tgt.rows,
        dense(static_cast<const T*>(tape.memories[l].data()), src.rows * tm, de),
        tape.memory_padding[l].size() ? tape.memory_padding[l].data() : nullptr, c.decoder_layer(l),
        detail::sized<Backend, T>(tape.decoder_inputs[l + 1], nt, dd), tape.decoder_layers[l],
        detail::decoder_layer_dropout(dr, key, l));
  }
  const matrix_ref<T> logits = detail::sized<Backend, T>(tape.logits, nt, vocab);
  model.project(be, dense(static_cast<const T*>(tape.decoder_inputs[dec_layers].data()), nt, dd), logits);
  loss_sums s;
  be.label_smoothed_loss_gradient(logits, tape.targets.data(), eps, special_tokens::pad, T(1), s.loss, s.nll);
  for (int t : tape.targets) s.tokens += t != special_tokens::pad;
  return s;
}

/// The backward of the last training_forward on `tape`: `grad` (laid out as model.data(),
/// [model.size()]) accumulates scale * d(summed label-smoothed loss)/d(parameters). Only the
/// slices SubTransformer `c` read receive anything; the vocabulary table gets the sum of its
/// uses (source, target and output when shared). Scales tape.logits (the loss gradient) when
/// scale != 1.
template <class M, backend_policy Backend, class T>
void training_backward(Backend& be, const super_transformer<M, Backend, T>& model, training_tape<Backend, T>& tape, T scale,
                       T* grad, model_workspace<Backend, T>& ws) {
  const transformer_config& c = tape.config;
  const std::size_t ns = tape.batch * tape.src_time, nt = tape.batch * tape.tgt_time, de = c.encoder_embed_dim,
                    dd = c.decoder_embed_dim, vocab = model.vocabulary().target, enc_layers = c.encoder_layers(),
                    dec_layers = c.decoder_layers();
  const auto input = [&](std::size_t l) { return dense(static_cast<const T*>(tape.decoder_inputs[l].data()), nt, dd); };

  // Loss (its gradient is the forward's) and output projection.
  const matrix_ref<T> dlogits = dense(tape.logits.data(), nt, vocab);
  if (scale != T(1)) be.scale(dlogits.data, nt * vocab, scale);
  matrix_ref<T> da = detail::sized<Backend, T>(tape.da, nt, dd), db = detail::sized<Backend, T>(tape.db, nt, dd);
  {
    [[maybe_unused]] const auto pin = pin_operand(be, matrix_ref<const T>(dlogits));  // the step's largest operand
    model.output_table().product_backward_input(be, dlogits, 0, da);
    model.output_table().on(grad + model.output_table_offset()).accumulate_outer(be, dlogits, input(dec_layers), 0);
  }

  // Decoder layers; each one's memory gradient goes to the encoder layers it concatenated.
  tape.encoder_grads.resize(enc_layers);
  for (auto& g : tape.encoder_grads) be.fill(detail::sized<Backend, T>(g, ns, de), T(0));
  for (std::size_t l = dec_layers; l-- > 0;) {
    const std::size_t m = static_cast<std::size_t>(attended_encoder_layers(c.decoder_arbitrary[l])), t = tape.src_time,
                      tm = m * t;
    const matrix_ref<T> dmem = detail::sized<Backend, T>(tape.dmemory, tape.batch * tm, de);
    be.fill(dmem, T(0));
    model.decoder(l).backward(be, input(l), dense(static_cast<const T*>(tape.memories[l].data()), tape.batch * tm, de),
                              tape.decoder_layers[l], c.decoder_layer(l), da, db, dmem,
                              grad + model.decoder_offset(l), ws.layer);
    for (std::size_t j = 0; j < m; ++j) {
      T* dst = tape.encoder_grads[tape.encoder.layer_of[M::encoder_layers - 1 - j]].data();
      for (std::size_t b = 0; b < tape.batch; ++b)
        be.add(matrix_ref<const T>{dmem.data + (b * tm + j * t) * de, t, de, de}, matrix_ref<T>{dst + b * t * de, t, de, de});
    }
    std::swap(da, db);
  }
  be.dropout(da, tape.dropout.decoder, dropout_key(tape.key, detail::target_embedding_site));
  model.target_embedding().backward(be, tape.prev_tokens, tape.prev_positions, da,
                                    grad + model.target_table_offset());

  // Encoder layers, last to first: layer l's output gradient is what the decoder sent it plus
  // layer l + 1's input gradient.
  const matrix_ref<T> dx = detail::sized<Backend, T>(tape.da, ns, de);
  for (std::size_t l = enc_layers; l-- > 0;) {
    const matrix_ref<const T> in =
        l == 0 ? dense(static_cast<const T*>(tape.src_embedded.data()), ns, de) : tape.encoder.out(l - 1);
    model.encoder(l).backward(be, in, tape.encoder_layers[l], c.encoder_layer(l),
                              dense(static_cast<const T*>(tape.encoder_grads[l].data()), ns, de), dx,
                              grad + model.encoder_offset(l), ws.layer);
    if (l > 0) be.add(dx, dense(tape.encoder_grads[l - 1].data(), ns, de));
  }
  be.dropout(dx, tape.dropout.encoder, dropout_key(tape.key, detail::source_embedding_site));
  model.source_embedding().backward(be, tape.src_tokens, tape.src_positions, dx,
                                    grad + model.source_table_offset());
}

}  // namespace hat
