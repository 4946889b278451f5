// SPDX-License-Identifier: MIT
// Backend scenarios run on host data: every primitive, a whole model forward/backward and a few
// training updates. Instantiated for hat::cpu (the reference), hat::cuda_emulator and hat::cuda.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <hat/backend/concepts.hpp>
#include <hat/decode/beam_search.hpp>
#include <hat/decode/incremental_decoder.hpp>
#include <hat/nn/super_transformer.hpp>
#include <hat/nn/training_pass.hpp>
#include <hat/space/random.hpp>
#include <hat/train/optimizer.hpp>

namespace hat_test {

/// One output of a scenario, downloaded to the host.
struct named_values {
  std::string name;
  std::vector<double> values;
};
using results = std::vector<named_values>;

/// The four scenarios every GPU backend is compared on (run_scenario below).
enum class scenario_id { primitives_float, primitives_double, model, training };

// The CPU's results, computed in a host-compiled TU (cpu_reference.cpp): .cu files never
// include xtensor. And the same on hat::cuda (gpu_scenarios.cu, compiled by nvcc; needs a GPU).
results cpu_scenario(scenario_id s);
results cuda_scenario(scenario_id s);

/// A paneled tiny space (every elastic slice strided or paneled) with 3 encoder and 2 decoder layers.
struct gpu_tiny : hat::transformer_maxima<8, 16, 12, 8, 3, 2, 24> {
  static constexpr std::array<std::size_t, 2> embed_choices{4, 8};
  static constexpr std::array<std::size_t, 2> encoder_ffn_choices{8, 16};
  static constexpr std::array<std::size_t, 2> decoder_ffn_choices{6, 12};
};

namespace scenario {

template <class B, class T>
typename B::template buffer<T> to_device(B& be, const std::vector<T>& host) {
  typename B::template buffer<T> d(host.size());
  be.upload(host.data(), host.size(), d.data());
  return d;
}
template <class B, class T>
std::vector<double> to_host(B& be, const typename B::template buffer<T>& d) {
  std::vector<T> host(d.size());
  be.download(d.data(), d.size(), host.data());
  return {host.begin(), host.end()};
}
template <class T>
std::vector<T> random_values(hat::rng& g, std::size_t n, double lo = -1, double hi = 1) {
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(lo + (hi - lo) * g.uniform());
  return v;
}
template <class T>
hat::matrix_ref<T> view(T* p, std::size_t rows, std::size_t cols, std::size_t ld) {
  return {p, rows, cols, ld};
}
template <class T>
hat::matrix_ref<const T> cview(const T* p, std::size_t rows, std::size_t cols, std::size_t ld) {
  return {p, rows, cols, ld};
}

/// Attention over random q, k, v with padding: forward (context and saved probabilities) and,
/// when `backward`, dq, dk, dv against a random dctx.
template <class B, class T>
void attention(B& be, hat::rng& g, const std::string& name, const hat::attention_shape& s, std::size_t width,
               bool backward, results& out) {
  const std::size_t key_blocks = (s.batch + s.kv_group - 1) / s.kv_group, key_rows = key_blocks * s.kv_stride;
  const std::size_t ld = width + 3, rows = s.batch * s.tq;
  auto q = to_device(be, random_values<T>(g, rows * ld)), k = to_device(be, random_values<T>(g, key_rows * ld)),
       v = to_device(be, random_values<T>(g, key_rows * ld));
  std::vector<unsigned char> pad(key_blocks * s.tk, 0);
  for (std::size_t b = 0; b < key_blocks; ++b)
    for (std::size_t j = 0; j < b % 3 && j < s.tk; ++j) pad[b * s.tk + j] = 1;  // left padding of 0, 1, 2 keys
  auto pad_dev = to_device(be, pad);
  typename B::template buffer<T> ctx(rows * ld), scratch(hat::attention_scratch(s));
  be.attention_forward(s, cview<T>(q.data(), rows, width, ld), cview<T>(k.data(), key_rows, width, ld),
                       cview<T>(v.data(), key_rows, width, ld), pad_dev.data(), view(ctx.data(), rows, width, ld),
                       scratch.data());
  out.push_back({name + ".ctx", to_host<B, T>(be, ctx)});
  if (s.save_probs) {
    std::vector<double> probs = to_host<B, T>(be, scratch);
    probs.resize(s.batch * s.heads * s.tq * s.tk);
    out.push_back({name + ".probs", probs});
  }
  if (!backward) return;
  auto dctx = to_device(be, random_values<T>(g, rows * ld));
  typename B::template buffer<T> dq(rows * ld), bscratch(hat::attention_backward_scratch(s));
  auto dk = to_device(be, random_values<T>(g, key_rows * ld)), dv = to_device(be, random_values<T>(g, key_rows * ld));
  be.attention_backward(s, cview<T>(q.data(), rows, width, ld), cview<T>(k.data(), key_rows, width, ld),
                        cview<T>(v.data(), key_rows, width, ld), static_cast<const T*>(scratch.data()),
                        cview<T>(dctx.data(), rows, width, ld), view(dq.data(), rows, width, ld),
                        view(dk.data(), key_rows, width, ld), view(dv.data(), key_rows, width, ld), bscratch.data());
  out.push_back({name + ".dq", to_host<B, T>(be, dq)});
  out.push_back({name + ".dk", to_host<B, T>(be, dk)});
  out.push_back({name + ".dv", to_host<B, T>(be, dv)});
}

}  // namespace scenario

/// Every primitive of backend_policy on seeded inputs, over strided views (ld > cols) and
/// sizes that are not multiples of any block size.
template <class B, class T>
results primitives(B& be) {
  using namespace scenario;
  using buf = typename B::template buffer<T>;
  results out;
  hat::rng g(7);
  const std::size_t R = 37, C = 45, LD = 50;

  // GEMM, all four transpositions, strided, with beta; and decoding's few-row products.
  const std::size_t K = 45, N = 29;
  for (int t = 0; t < 4; ++t) {
    const bool ta = t & 1, tb = t & 2;
    const std::size_t ar = ta ? K : R, ac = ta ? R : K, br = tb ? N : K, bc = tb ? K : N;
    auto a = to_device(be, random_values<T>(g, ar * (ac + 2))), b = to_device(be, random_values<T>(g, br * (bc + 5)));
    auto c = to_device(be, random_values<T>(g, R * (N + 1)));
    be.gemm(cview<T>(a.data(), ar, ac, ac + 2), ta ? hat::op::transpose : hat::op::none, cview<T>(b.data(), br, bc, bc + 5),
            tb ? hat::op::transpose : hat::op::none, view(c.data(), R, N, N + 1), T(0.75), T(0.5));
    out.push_back({"gemm." + std::to_string(t), to_host<B, T>(be, c)});
  }
  for (std::size_t m : {1, 3, 5}) {
    auto a = to_device(be, random_values<T>(g, m * LD)), w = to_device(be, random_values<T>(g, 70 * LD));
    buf c(m * 70);
    be.gemm(cview<T>(a.data(), m, C, LD), hat::op::none, cview<T>(w.data(), 70, C, LD), hat::op::transpose,
            view(c.data(), m, 70, 70), T(1), T(0));
    out.push_back({"gemm.rows" + std::to_string(m), to_host<B, T>(be, c)});
  }

  const auto x_host = random_values<T>(g, R * LD), y_host = random_values<T>(g, R * LD), bias_host = random_values<T>(g, C);
  auto bias = to_device(be, bias_host);
  for (const bool relu : {false, true}) {
    auto y = to_device(be, y_host);
    be.bias_forward(view(y.data(), R, C, LD), static_cast<const T*>(bias.data()), relu);
    out.push_back({relu ? "bias_forward.relu" : "bias_forward", to_host<B, T>(be, y)});
  }
  {
    auto x = to_device(be, x_host), y = to_device(be, y_host);
    be.add(cview<T>(x.data(), R, C, LD), view(y.data(), R, C, LD));
    out.push_back({"add", to_host<B, T>(be, y)});
    be.copy(cview<T>(x.data(), R - 2, C - 1, LD), view(y.data() + 3, R - 2, C - 1, LD));
    out.push_back({"copy", to_host<B, T>(be, y)});
    be.fill(view(y.data() + 1, R, 7, LD), T(2.5));
    out.push_back({"fill", to_host<B, T>(be, y)});
    be.dropout(view(y.data(), R, C, LD), 0.3f, 99);
    out.push_back({"dropout", to_host<B, T>(be, y)});
    be.relu_backward(view(y.data(), R, C, LD), cview<T>(x.data(), R, C, LD));
    out.push_back({"relu_backward", to_host<B, T>(be, y)});
    be.scale(y.data(), R * LD, T(-1.5));
    out.push_back({"scale", to_host<B, T>(be, y)});
    double ss = 0;
    be.sum_squares(static_cast<const T*>(y.data()), R * LD, ss);
    out.push_back({"sum_squares", {ss}});
  }
  for (const bool acc : {false, true}) {
    auto x = to_device(be, x_host);
    auto grad = to_device(be, bias_host);
    be.bias_backward(cview<T>(x.data(), R, C, LD), grad.data(), acc);
    out.push_back({acc ? "bias_backward.accumulate" : "bias_backward", to_host<B, T>(be, grad)});
  }
  {
    const std::vector<int> ids{3, 0, 3, 36, 5, 5, 5, 1, 20};
    auto x = to_device(be, x_host);
    buf y(ids.size() * C);
    be.gather_rows(cview<T>(x.data(), R, C, LD), ids.data(), view(y.data(), ids.size(), C, C));
    out.push_back({"gather_rows", to_host<B, T>(be, y)});
  }
  {  // embeddings: repeated tokens and padding positions (pos < 0)
    const std::size_t V = 11, P = 9, n = 14;
    const std::vector<int> tokens{1, 4, 4, 10, 2, 4, 1, 0, 7, 7, 3, 9, 4, 6}, pos{0, 1, 2, 3, -1, 4, 5, 0, 1, -1, 2, 8, 3, 4};
    auto table = to_device(be, random_values<T>(g, V * LD)), positions = to_device(be, random_values<T>(g, P * LD));
    buf y(n * C);
    be.embedding_forward(cview<T>(table.data(), V, C, LD), tokens.data(), T(2.0), cview<T>(positions.data(), P, C, LD),
                         pos.data(), view(y.data(), n, C, C));
    out.push_back({"embedding_forward", to_host<B, T>(be, y)});
    auto dy = to_device(be, random_values<T>(g, n * C));
    be.embedding_backward(tokens.data(), pos.data(), T(0.5), cview<T>(dy.data(), n, C, C), view(table.data(), V, C, LD));
    out.push_back({"embedding_backward", to_host<B, T>(be, table)});
  }
  {
    auto x = to_device(be, random_values<T>(g, R * LD, -3, 5)), gamma = to_device(be, random_values<T>(g, C, 0.5, 1.5)),
         beta = to_device(be, random_values<T>(g, C));
    buf y(R * LD);
    be.layernorm_forward(cview<T>(x.data(), R, C, LD), static_cast<const T*>(gamma.data()),
                         static_cast<const T*>(beta.data()), view(y.data(), R, C, LD), T(1e-5));
    out.push_back({"layernorm_forward", to_host<B, T>(be, y)});
    auto dy = to_device(be, random_values<T>(g, R * LD)), dgamma = to_device(be, random_values<T>(g, C)),
         dbeta = to_device(be, random_values<T>(g, C));
    buf dx(R * LD);
    be.layernorm_backward(cview<T>(x.data(), R, C, LD), static_cast<const T*>(gamma.data()), cview<T>(dy.data(), R, C, LD),
                          view(dx.data(), R, C, LD), dgamma.data(), dbeta.data(), T(1e-5));
    out.push_back({"layernorm_backward.dx", to_host<B, T>(be, dx)});
    out.push_back({"layernorm_backward.dgamma", to_host<B, T>(be, dgamma)});
    out.push_back({"layernorm_backward.dbeta", to_host<B, T>(be, dbeta)});
  }
  {  // softmax: plain, causal with an offset, key padding (a row with every key masked)
    const std::size_t tq = 6, tk = 9;
    const auto s_host = random_values<T>(g, tq * 12, -4, 4);
    std::vector<unsigned char> pad(tk, 0);
    pad[0] = pad[1] = pad[5] = 1;
    auto pad_dev = to_device(be, pad);
    const struct {
      const char* name;
      bool causal;
      std::size_t offset;
      bool padded;
    } cases[] = {{"softmax", false, 0, false}, {"softmax.causal", true, 3, false}, {"softmax.padded", true, 0, true}};
    for (const auto& c : cases) {
      auto s = to_device(be, s_host);
      be.softmax_forward(view(s.data(), tq, tk, 12), c.causal, c.offset,
                         c.padded ? static_cast<const unsigned char*>(pad_dev.data()) : nullptr);
      out.push_back({c.name, to_host<B, T>(be, s)});
    }
  }
  {  // label-smoothed loss with ignored rows: loss, gradient in place, backward
    const std::size_t n = 13, V = 301, ldv = 305;
    std::vector<int> targets(n);
    for (std::size_t i = 0; i < n; ++i) targets[i] = i % 5 == 2 ? 1 : static_cast<int>((i * 37) % V);
    const auto logits_host = random_values<T>(g, n * ldv, -6, 6);
    auto logits = to_device(be, logits_host);
    double loss = 0, nll = 0;
    be.label_smoothed_loss(cview<T>(logits.data(), n, V, ldv), targets.data(), 0.1, 1, loss, nll);
    out.push_back({"label_smoothed_loss", {loss, nll}});
    buf d(n * V);
    be.label_smoothed_loss_backward(cview<T>(logits.data(), n, V, ldv), targets.data(), 0.1, 1, T(0.25), view(d.data(), n, V, V));
    out.push_back({"label_smoothed_loss_backward", to_host<B, T>(be, d)});
    be.label_smoothed_loss_gradient(view(logits.data(), n, V, ldv), targets.data(), 0.1, 1, T(0.25), loss, nll);
    out.push_back({"label_smoothed_loss_gradient.sums", {loss, nll}});
    out.push_back({"label_smoothed_loss_gradient", to_host<B, T>(be, logits)});
  }
  {  // Adam, with weight decay, three steps
    const std::size_t n = 1000;
    auto p = to_device(be, random_values<T>(g, n)), m = to_device(be, std::vector<T>(n, T(0))),
         v = to_device(be, std::vector<T>(n, T(0)));
    for (std::size_t step = 1; step <= 3; ++step) {
      auto grad = to_device(be, random_values<T>(g, n, -0.1, 0.1));
      be.adam_step(p.data(), static_cast<const T*>(grad.data()), m.data(), v.data(), p.size(), T(1e-3), T(0.9), T(0.98), T(1e-8),
                   T(1e-4), step);
    }
    out.push_back({"adam.p", to_host<B, T>(be, p)});
    out.push_back({"adam.v", to_host<B, T>(be, v)});
  }
  // Attention: an encoder's (padding, several heads), a causal decoder's with dropout, the
  // encoder-decoder's during beam decoding (one query, kv_group 2, a cache longer than filled).
  hat::attention_shape enc;
  enc.batch = 3, enc.heads = 2, enc.tq = 5, enc.tk = 5, enc.kv_stride = 5, enc.scaling = 0.5f, enc.save_probs = true;
  scenario::attention<B, T>(be, g, "attention.encoder", enc, 8, true, out);
  hat::attention_shape dec = enc;
  dec.tq = dec.tk = dec.kv_stride = 7, dec.causal = true, dec.dropout = 0.2f, dec.dropout_key = 1234;
  scenario::attention<B, T>(be, g, "attention.decoder_dropout", dec, 8, true, out);
  hat::attention_shape beam;
  beam.batch = 4, beam.heads = 4, beam.tq = 1, beam.tk = 6, beam.kv_stride = 9, beam.kv_group = 2, beam.scaling = 0.3f;
  scenario::attention<B, T>(be, g, "attention.beam", beam, 12, false, out);
  hat::attention_shape shared_keys = beam;
  shared_keys.tq = 3, shared_keys.save_probs = true;
  scenario::attention<B, T>(be, g, "attention.shared_keys", shared_keys, 12, true, out);
  return out;
}

namespace scenario {
inline std::vector<hat::transformer_config> tiny_archs() {
  return {
      {8, 8, {16, 16, 16}, {4, 4, 4}, {12, 12}, {4, 4}, {4, 4}, {-1, 1}},  // the maxima, arbitrary ende attention
      {4, 8, {8, 16}, {2, 4}, {6}, {2}, {4}, {2}},                           // narrow encoder, 2 layers
      {8, 4, {16}, {4}, {12, 6}, {1, 2}, {2, 1}, {1, -1}},                   // narrow decoder
  };
}
inline hat::token_batch tiny_source() { return hat::token_batch::pad({{4, 7, 5, 9, 2}, {8, 6, 2}, {11, 2}}, true); }
inline hat::token_batch tiny_target() {
  return hat::token_batch::pad({{5, 4, 8, 2}, {6, 2}, {13, 9, 10, 12, 2}}, false);
}
}  // namespace scenario

/// The whole model in float: evaluation loss and logits, the training forward with dropout and
/// its gradient, incremental decoding and a beam search, for each of three SubTransformers.
template <class B>
results model_pass(B& be) {
  using namespace scenario;
  results out;
  const hat::vocabulary_sizes vocab{17, 17, hat::embedding_sharing::all};
  hat::super_transformer<gpu_tiny, B> model(be, vocab);
  model.init_hat(be, 5);
  const hat::token_batch src = tiny_source(), tgt = tiny_target();
  const auto archs = tiny_archs();
  for (std::size_t a = 0; a < archs.size(); ++a) {
    const auto& c = archs[a];
    const std::string name = "arch" + std::to_string(a);
    hat::model_workspace<B> ws;
    hat::encoder_output<B> enc;
    typename B::template buffer<float> logits;
    const auto sums = model.loss(be, c, src, tgt, 0.1, ws, logits, enc);
    out.push_back({name + ".eval_loss", {sums.loss, sums.nll, static_cast<double>(sums.tokens)}});
    std::vector<double> l = to_host<B, float>(be, logits);
    l.resize(tgt.rows * tgt.cols * vocab.target);
    out.push_back({name + ".logits", l});

    const hat::dropout_rates rates{0.3, 0.1, 0.1, true, true};
    hat::training_tape<B> tape;
    const auto train = hat::training_forward(be, model, c, src, tgt, 0.1, rates, 42 + a, tape);
    out.push_back({name + ".train_loss", {train.loss, train.nll}});
    typename B::template buffer<float> grad(model.size());
    hat::training_backward(be, model, tape, 0.5f, grad.data(), ws);
    out.push_back({name + ".gradient", to_host<B, float>(be, grad)});

    hat::incremental_decoder<gpu_tiny, B> dec;
    const std::size_t group = 2, n = src.rows * group, V = vocab.target;
    dec.begin(be, model, c, enc, group, 5);
    typename B::template buffer<float> step_logits(n * V);
    std::vector<double> steps;
    for (std::size_t t = 0; t < 4; ++t) {
      std::vector<int> tokens(n);
      for (std::size_t i = 0; i < n; ++i) tokens[i] = static_cast<int>(4 + (i * 3 + t) % 13);
      dec.step(be, tokens, hat::dense(step_logits.data(), n, V));
      const std::vector<double> s = to_host<B, float>(be, step_logits);
      steps.insert(steps.end(), s.begin(), s.end());
      std::vector<int> parents(n);
      for (std::size_t i = 0; i < n; ++i) parents[i] = static_cast<int>((i / group) * group + (i + t) % group);
      dec.reorder(be, parents);
    }
    out.push_back({name + ".decoder_steps", steps});

    hat::generation_options opt;
    opt.beam = 3;
    opt.max_len_b = 6;
    const auto hyps = hat::beam_search(be, model, c, src, opt, ws);
    std::vector<double> best;
    for (const auto& h : hyps) {
      best.push_back(h.front().score);
      best.insert(best.end(), h.front().tokens.begin(), h.front().tokens.end());
    }
    out.push_back({name + ".beam", best});
  }
  return out;
}

/// Three Adam updates (gradient clipping on), one SubTransformer each: the losses and the final parameters.
template <class B>
results training_updates(B& be) {
  using namespace scenario;
  const hat::vocabulary_sizes vocab{17, 19, hat::embedding_sharing::none};
  hat::super_transformer<gpu_tiny, B> model(be, vocab);
  model.init_hat(be, 9);
  hat::adam_settings settings;
  settings.clip_norm = 0.5;
  settings.weight_decay = 1e-4;
  // Some gradients are 0 in exact arithmetic and rounding noise in floats (the key bias: softmax
  // cancels it); with eps 1e-8 Adam turns any noise into a full lr-sized step whose sign differs
  // between backends. A larger eps keeps those steps ~lr * 1e-3 and real ones Adam-like.
  settings.eps = 1e-6;
  hat::adam<B> opt(model.size(), settings);
  typename B::template buffer<float> grad(model.size());
  hat::model_workspace<B> ws;
  const hat::token_batch src = tiny_source(), tgt = tiny_target();
  const hat::dropout_rates rates{0.1, 0.1, 0.0, true, true};
  std::vector<double> losses;
  const auto archs = tiny_archs();
  for (std::size_t step = 0; step < 3; ++step) {
    be.fill(hat::dense(grad.data(), 1, model.size()), 0.0f);
    hat::training_tape<B> tape;
    const auto sums = hat::training_forward(be, model, archs[step], src, tgt, 0.1, rates, 1000 + step, tape);
    losses.push_back(sums.loss);
    hat::training_backward(be, model, tape, 1.0f / static_cast<float>(sums.tokens), grad.data(), ws);
    losses.push_back(opt.clip(be, grad.data()));
    opt.step(be, model.data(), grad.data(), 5e-3);
  }
  std::vector<float> params(model.size());
  be.download(model.data(), model.size(), params.data());
  return {{"losses_and_norms", losses}, {"parameters", {params.begin(), params.end()}}};
}

/// Scenario `s` on a fresh backend B.
template <class B>
results run_scenario(scenario_id s) {
  B be;
  switch (s) {
    case scenario_id::primitives_float: return primitives<B, float>(be);
    case scenario_id::primitives_double: return primitives<B, double>(be);
    case scenario_id::model: return model_pass(be);
    case scenario_id::training: return training_updates(be);
  }
  return {};
}

}  // namespace hat_test
