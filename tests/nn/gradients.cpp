// SPDX-License-Identifier: MIT
// Backward passes against central finite differences, in double, on tiny shapes. Each check
// uses L = sum(c * y) for a random c, so dL/dy = c; every parameter the sub-layer must not read
// must get exactly zero gradient.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/nn/elastic_attention.hpp>
#include <hat/nn/elastic_ffn.hpp>
#include <hat/nn/elastic_layernorm.hpp>
#include <hat/nn/elastic_linear.hpp>
#include <hat/nn/transformer_layers.hpp>
#include <hat/space/random.hpp>

namespace {

using vec = std::vector<double>;

vec random_vec(hat::rng& g, std::size_t n, double scale = 1.0) {
  vec v(n);
  for (auto& x : v) x = scale * (2.0 * g.uniform() - 1.0);
  return v;
}

double dot(const vec& a, const vec& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// Central differences of f at every entry of v that `active` marks; inactive entries must
// have analytic gradient exactly 0.
void check_gradient(vec& v, const vec& analytic, const std::function<double()>& f, const std::function<bool(std::size_t)>& active,
                    const char* what) {
  const double h = 1e-6;
  for (std::size_t i = 0; i < v.size(); ++i) {
    INFO(what << " entry " << i);
    if (!active(i)) {
      REQUIRE(analytic[i] == 0.0);
      continue;
    }
    const double keep = v[i];
    v[i] = keep + h;
    const double up = f();
    v[i] = keep - h;
    const double down = f();
    v[i] = keep;
    REQUIRE(analytic[i] == Approx((up - down) / (2 * h)).margin(1e-7).epsilon(1e-6));
  }
}

}  // namespace

TEST_CASE("elastic_linear backward: paneled slices, finite differences", "[nn][grad]") {
  hat::cpu be;
  hat::rng g(8);
  constexpr std::size_t max_in = 7, max_out = 5, n = 3;
  using layer_t = hat::elastic_linear<max_in, max_out, hat::cpu, double>;
  for (const std::vector<std::size_t>& panels : {std::vector<std::size_t>{}, std::vector<std::size_t>{3, 5, 7}}) {
    for (const auto& [in, out] : {std::pair<std::size_t, std::size_t>{5, 4}, {7, 5}, {2, 1}}) {
      INFO("panels " << panels.size() << " in " << in << " out " << out);
      vec params = random_vec(g, layer_t::param_count), x = random_vec(g, n * in), c = random_vec(g, n * out);
      const layer_t layer(params.data(), max_in, max_out, panels);
      const auto loss = [&] {
        vec y(n * out);
        layer.forward(be, hat::matrix_ref<const double>(hat::dense(x.data(), n, in)), hat::dense(y.data(), n, out));
        return dot(y, c);
      };
      vec grad(layer_t::param_count, 0.0), dx(n * in, 0.0);
      layer.backward(be, hat::matrix_ref<const double>(hat::dense(x.data(), n, in)),
                     hat::matrix_ref<const double>(hat::dense(c.data(), n, out)), hat::dense(dx.data(), n, in), grad.data());
      // Which stored entries the sub-layer reads: logical W[r, col] with r < out, col < in, and b[:out].
      const hat::paneled_matrix<double> w(nullptr, max_out, panels.empty() ? std::vector<std::size_t>{max_in} : panels);
      std::vector<bool> used(layer_t::param_count, false);
      for (std::size_t r = 0; r < out; ++r) {
        for (std::size_t col = 0; col < in; ++col) used[w.index(r, col)] = true;
        used[max_out * max_in + r] = true;
      }
      check_gradient(params, grad, loss, [&](std::size_t i) { return bool(used[i]); }, "params");
      check_gradient(x, dx, loss, [](std::size_t) { return true; }, "x");
    }
  }
}

TEST_CASE("elastic_layernorm backward: finite differences, gamma[:d] and beta[:d] only", "[nn][grad]") {
  hat::cpu be;
  hat::rng g(9);
  constexpr std::size_t max_dim = 6, n = 3, d = 5;
  using norm_t = hat::elastic_layernorm<max_dim, hat::cpu, double>;
  vec params = random_vec(g, norm_t::param_count), x = random_vec(g, n * d, 2.0), c = random_vec(g, n * d);
  const norm_t norm(params.data());
  const auto loss = [&] {
    vec y(n * d);
    norm.forward(be, hat::matrix_ref<const double>(hat::dense(x.data(), n, d)), hat::dense(y.data(), n, d));
    return dot(y, c);
  };
  vec grad(norm_t::param_count, 0.0), dx(n * d);
  norm.backward(be, hat::matrix_ref<const double>(hat::dense(x.data(), n, d)),
                hat::matrix_ref<const double>(hat::dense(c.data(), n, d)), hat::dense(dx.data(), n, d), grad.data());
  check_gradient(params, grad, loss, [&](std::size_t i) { return i % max_dim < d; }, "gamma/beta");
  check_gradient(x, dx, loss, [](std::size_t) { return true; }, "x");
}

TEST_CASE("label-smoothed loss backward: finite differences; ignored rows get nothing", "[nn][grad]") {
  hat::cpu be;
  hat::rng g(10);
  constexpr std::size_t n = 4, V = 6;
  vec logits = random_vec(g, n * V, 3.0);
  const std::vector<int> targets{3, 1, 0, 5};  // row 1 is padding (ignored)
  const double eps = 0.1;
  const auto loss = [&] {
    double l = 0, nll = 0;
    be.label_smoothed_loss(hat::matrix_ref<const double>(hat::dense(logits.data(), n, V)), targets.data(), eps, 1, l, nll);
    return 0.5 * l;
  };
  vec grad(n * V);
  be.label_smoothed_loss_backward(hat::matrix_ref<const double>(hat::dense(logits.data(), n, V)), targets.data(), eps, 1,
                                  0.5, hat::dense(grad.data(), n, V));
  check_gradient(logits, grad, loss, [&](std::size_t i) { return i / V != 1; }, "logits");
}

TEST_CASE("embedding backward: scatter-add of scale * dy, padding skipped", "[nn][grad]") {
  hat::cpu be;
  hat::rng g(11);
  constexpr std::size_t V = 6, d = 4, n = 5;
  vec table = random_vec(g, V * d), c = random_vec(g, n * d), pos_table(8 * d, 0.0);
  const std::vector<int> tokens{2, 4, 1, 4, 5}, pos{0, 1, -1, 2, 3};  // token 1 = padding
  const double scale = 2.0;
  const auto loss = [&] {
    vec y(n * d);
    be.embedding_forward(hat::matrix_ref<const double>(hat::dense(table.data(), V, d)), tokens.data(), scale,
                         hat::matrix_ref<const double>(hat::dense(pos_table.data(), 8, d)), pos.data(), hat::dense(y.data(), n, d));
    return dot(y, c);
  };
  vec grad(V * d, 0.0);
  be.embedding_backward(tokens.data(), pos.data(), scale, hat::matrix_ref<const double>(hat::dense(c.data(), n, d)),
                        hat::dense(grad.data(), V, d));
  check_gradient(table, grad, loss, [&](std::size_t i) { const auto t = i / d; return t == 2 || t == 4 || t == 5; }, "table");
}

TEST_CASE("elastic_attention backward: self (causal, padding) and cross, finite differences", "[nn][grad]") {
  hat::cpu be;
  hat::rng g(12);
  constexpr std::size_t max_embed = 6, qkv = 4;
  using attn_t = hat::elastic_attention<max_embed, qkv, hat::cpu, double>;
  const std::vector<std::size_t> panels{3, 5, 6};
  const attn_t probe(nullptr, max_embed, max_embed, panels);
  // Which stored entries a sub-layer with input width `in` and output width `out` reads.
  const auto used = [&](std::size_t in, std::size_t out) {
    const hat::paneled_matrix<double> w(nullptr, 3 * qkv, panels);
    std::vector<bool> u(attn_t::param_count, false);
    for (std::size_t r = 0; r < 3 * qkv; ++r) {
      for (std::size_t c = 0; c < in; ++c) u[w.index(r, c)] = true;
      u[3 * qkv * max_embed + r] = true;
    }
    const std::size_t ow = 3 * qkv * max_embed + 3 * qkv;
    for (std::size_t r = 0; r < out; ++r) {
      for (std::size_t c = 0; c < qkv; ++c) u[ow + r * qkv + c] = true;
      u[ow + max_embed * qkv + r] = true;
    }
    return u;
  };
  SECTION("self-attention, 2 sentences of 3, causal, key padding, 2 heads") {
    const std::size_t batch = 2, t = 3, n = batch * t, d = 5;
    vec params = random_vec(g, attn_t::param_count), x = random_vec(g, n * d), c = random_vec(g, n * d);
    const std::vector<unsigned char> pad{0, 0, 1, 0, 0, 0};
    const attn_t attn(params.data(), max_embed, max_embed, panels);
    hat::attention_tape<hat::cpu, double> tape;
    hat::attention_workspace<hat::cpu, double> ws;
    const auto loss = [&] {
      vec y(n * d);
      attn.self_forward(be, hat::dense(x.data(), n, d), batch, 2, hat::masking::causal, pad.data(),
                        hat::dense(y.data(), n, d), ws);
      return dot(y, c);
    };
    vec y(n * d), grad(attn_t::param_count, 0.0), dx(n * d);
    attn.self_forward_train(be, hat::dense(x.data(), n, d), batch, 2, hat::masking::causal, pad.data(),
                            hat::dense(y.data(), n, d), tape);
    CHECK(dot(y, c) == Approx(loss()).epsilon(1e-12));  // the training forward computes the same
    attn.self_backward(be, hat::matrix_ref<const double>(hat::dense(x.data(), n, d)), tape,
                       hat::matrix_ref<const double>(hat::dense(c.data(), n, d)), hat::dense(dx.data(), n, d), grad.data(), ws);
    const auto u = used(d, d);
    check_gradient(params, grad, loss, [&](std::size_t i) { return bool(u[i]); }, "params");
    check_gradient(x, dx, loss, [](std::size_t) { return true; }, "x");
  }
  SECTION("encoder-decoder attention: query width 4, memory width 6 with padding") {
    const std::size_t batch = 2, tq = 2, tk = 3, dq = 4, dkv = 6;
    vec params = random_vec(g, attn_t::param_count), x = random_vec(g, batch * tq * dq), m = random_vec(g, batch * tk * dkv),
        c = random_vec(g, batch * tq * dq);
    const std::vector<unsigned char> pad{1, 0, 0, 0, 0, 0};
    const attn_t attn(params.data(), max_embed, max_embed, panels);
    hat::attention_tape<hat::cpu, double> tape;
    hat::attention_workspace<hat::cpu, double> ws;
    const auto xv = [&] { return hat::matrix_ref<const double>(hat::dense(x.data(), batch * tq, dq)); };
    const auto mv = [&] { return hat::matrix_ref<const double>(hat::dense(m.data(), batch * tk, dkv)); };
    const auto loss = [&] {
      vec y(batch * tq * dq);
      attn.forward(be, xv(), mv(), batch, 1, hat::masking::none, pad.data(), hat::dense(y.data(), batch * tq, dq), ws);
      return dot(y, c);
    };
    vec y(batch * tq * dq), grad(attn_t::param_count, 0.0), dx(batch * tq * dq), dm(batch * tk * dkv, 0.0);
    attn.forward_train(be, xv(), mv(), batch, 1, hat::masking::none, pad.data(), hat::dense(y.data(), batch * tq, dq), tape);
    attn.backward(be, xv(), mv(), tape, hat::matrix_ref<const double>(hat::dense(c.data(), batch * tq, dq)),
                  hat::dense(dx.data(), batch * tq, dq), hat::dense(dm.data(), batch * tk, dkv), grad.data(), ws);
    // Q rows read dq columns, K/V rows dkv columns.
    const auto u_q = used(dq, dq), u_kv = used(dkv, dq);
    const hat::paneled_matrix<double> w(nullptr, 3 * qkv, panels);
    const auto active = [&](std::size_t i) {
      for (std::size_t r = 0; r < 3 * qkv; ++r)
        for (std::size_t col = 0; col < max_embed; ++col)
          if (w.index(r, col) == i) return r < qkv ? col < dq : col < dkv;
      return bool(u_kv[i]) && bool(u_q[i] || i >= 3 * qkv * max_embed);
    };
    check_gradient(params, grad, loss, active, "params");
    check_gradient(x, dx, loss, [](std::size_t) { return true; }, "query");
    check_gradient(m, dm, loss, [&](std::size_t i) { return i / dkv != 0; }, "memory");  // key 0 of sentence 0 is padding
  }
}

TEST_CASE("elastic_ffn backward: fc2(relu(fc1 x)) on paneled slices, finite differences", "[nn][grad]") {
  hat::cpu be;
  hat::rng g(13);
  constexpr std::size_t max_embed = 5, max_ffn = 8, n = 3, d = 4, f = 6;
  using ffn_t = hat::elastic_ffn<max_embed, max_ffn, hat::cpu, double>;
  vec params = random_vec(g, ffn_t::param_count), x = random_vec(g, n * d), c = random_vec(g, n * d);
  const std::vector<std::size_t> embed_panels{4, 5}, ffn_panels{2, 6, 8};
  const ffn_t ffn(params.data(), max_embed, max_ffn, embed_panels, ffn_panels);
  hat::ffn_workspace<hat::cpu, double> ws;
  hat::ffn_tape<hat::cpu, double> tape;
  const auto xv = [&] { return hat::matrix_ref<const double>(hat::dense(x.data(), n, d)); };
  const auto loss = [&] {
    vec y(n * d);
    ffn.forward(be, xv(), f, hat::dense(y.data(), n, d), ws);
    return dot(y, c);
  };
  vec y(n * d), grad(ffn_t::param_count, 0.0), dx(n * d);
  ffn.forward_train(be, xv(), f, hat::dense(y.data(), n, d), tape);
  ffn.backward(be, xv(), tape, f, hat::matrix_ref<const double>(hat::dense(c.data(), n, d)), hat::dense(dx.data(), n, d),
               grad.data(), ws);
  const hat::paneled_matrix<double> w1(nullptr, max_ffn, embed_panels), w2(nullptr, max_embed, ffn_panels);
  std::vector<bool> used(ffn_t::param_count, false);
  const std::size_t fc2 = max_ffn * max_embed + max_ffn;
  for (std::size_t r = 0; r < f; ++r) {
    for (std::size_t col = 0; col < d; ++col) used[w1.index(r, col)] = true;
    used[max_ffn * max_embed + r] = true;
  }
  for (std::size_t r = 0; r < d; ++r) {
    for (std::size_t col = 0; col < f; ++col) used[fc2 + w2.index(r, col)] = true;
    used[fc2 + max_embed * max_ffn + r] = true;
  }
  check_gradient(params, grad, loss, [&](std::size_t i) { return bool(used[i]); }, "params");
  check_gradient(x, dx, loss, [](std::size_t) { return true; }, "x");
}

TEST_CASE("encoder_layer backward: post-norm residual block, finite differences", "[nn][grad]") {
  hat::cpu be;
  hat::rng g(14);
  constexpr std::size_t D = 6, F = 8, Q = 4;
  using layer_t = hat::encoder_layer<D, F, Q, hat::cpu, double>;
  const std::size_t batch = 2, t = 3, n = batch * t, d = 5, f = 6, heads = 2;
  const std::vector<std::size_t> embed_choices{5, 6}, ffn_choices{2, 6, 8};
  vec params = random_vec(g, layer_t::param_count, 0.7), x = random_vec(g, n * d), c = random_vec(g, n * d);
  const layer_t layer(params.data(), D, F, embed_choices, ffn_choices);
  const std::vector<unsigned char> pad{0, 0, 0, 1, 0, 0};
  hat::layer_workspace<hat::cpu, double> ws;
  hat::layer_tape<hat::cpu, double> tape;
  const auto xv = [&] { return hat::matrix_ref<const double>(hat::dense(x.data(), n, d)); };
  const auto loss = [&] {
    vec y(n * d);
    hat::layer_workspace<hat::cpu, double> w2;
    layer.forward(be, xv(), batch, {f, heads}, pad.data(), hat::dense(y.data(), n, d), w2);
    return dot(y, c);
  };
  vec y(n * d), grad(layer_t::param_count, 0.0), dx(n * d);
  layer.forward_train(be, xv(), batch, {f, heads}, pad.data(), hat::dense(y.data(), n, d), tape);
  CHECK(dot(y, c) == Approx(loss()).epsilon(1e-12));
  layer.backward(be, xv(), tape, {f, heads}, hat::dense(c.data(), n, d), hat::dense(dx.data(), n, d), grad.data(), ws);
  // Every parameter matches its finite difference (zero for those the sub-layer never reads).
  check_gradient(params, grad, loss, [](std::size_t) { return true; }, "params");
  std::size_t zero = 0;
  for (double v : grad) zero += v == 0.0;
  CHECK(zero > 0);  // the unread slices (width 6, FFN 7-8) got none
  check_gradient(x, dx, loss, [](std::size_t) { return true; }, "x");
}

TEST_CASE("decoder_layer backward: causal self, encoder-decoder and FFN blocks, finite differences", "[nn][grad]") {
  hat::cpu be;
  hat::rng g(15);
  constexpr std::size_t D = 6, F = 8, Q = 4;
  using layer_t = hat::decoder_layer<D, F, Q, hat::cpu, double>;
  const std::size_t batch = 2, t = 2, tm = 3, n = batch * t, d = 5, de = 6, f = 8;
  const std::vector<std::size_t> embed_choices{5, 6}, ffn_choices{4, 8};
  vec params = random_vec(g, layer_t::param_count, 0.7), x = random_vec(g, n * d), m = random_vec(g, batch * tm * de),
      c = random_vec(g, n * d);
  const layer_t layer(params.data(), D, F, D, embed_choices, ffn_choices);
  const std::vector<unsigned char> pad{0, 0, 0, 1, 0, 0};
  hat::layer_workspace<hat::cpu, double> ws;
  hat::layer_tape<hat::cpu, double> tape;
  const auto xv = [&] { return hat::matrix_ref<const double>(hat::dense(x.data(), n, d)); };
  const auto mv = [&] { return hat::matrix_ref<const double>(hat::dense(m.data(), batch * tm, de)); };
  const auto loss = [&] {
    vec y(n * d);
    hat::layer_workspace<hat::cpu, double> w2;
    layer.forward(be, xv(), batch, mv(), pad.data(), {f, 2, 1}, hat::dense(y.data(), n, d), w2);
    return dot(y, c);
  };
  vec y(n * d), grad(layer_t::param_count, 0.0), dx(n * d), dm(batch * tm * de, 0.0);
  layer.forward_train(be, xv(), batch, mv(), pad.data(), {f, 2, 1}, hat::dense(y.data(), n, d), tape);
  CHECK(dot(y, c) == Approx(loss()).epsilon(1e-12));
  layer.backward(be, xv(), mv(), tape, {f, 2, 1}, hat::dense(c.data(), n, d), hat::dense(dx.data(), n, d),
                 hat::dense(dm.data(), batch * tm, de), grad.data(), ws);
  check_gradient(params, grad, loss, [](std::size_t) { return true; }, "params");
  check_gradient(x, dx, loss, [](std::size_t) { return true; }, "x");
  check_gradient(m, dm, loss, [](std::size_t) { return true; }, "memory");
}
