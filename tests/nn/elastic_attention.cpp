// SPDX-License-Identifier: MIT
// elastic_attention against a direct transcription of HAT's MultiheadAttentionSuper in double, with every
// weight the sub-layer must not read poisoned with NaN.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/nn/elastic_attention.hpp>
#include <hat/space/random.hpp>
#include <hat/tensor/arena.hpp>

namespace {

constexpr std::size_t max_embed = 24, qkv = 8;
using attn_t = hat::elastic_attention<max_embed, qkv, hat::cpu>;

struct reference_params {
  std::vector<double> in_w, in_b, out_w, out_b;  // [3 qkv, max_embed], [3 qkv], [max_embed, qkv], [max_embed]
};

// HAT's MultiheadAttentionSuper step by step: project with the sliced in_proj, split heads, scaled
// dot product, masks, softmax, concatenate, sliced out_proj.
std::vector<double> reference(const reference_params& p, const std::vector<float>& x, std::size_t tq, std::size_t dq,
                              const std::vector<float>& m, std::size_t tk, std::size_t dkv, std::size_t heads,
                              bool causal, const std::vector<unsigned char>& pad) {
  const auto project = [&](const std::vector<float>& in, std::size_t rows, std::size_t d, std::size_t part) {
    std::vector<double> y(rows * qkv);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t o = 0; o < qkv; ++o) {
        double acc = p.in_b[part * qkv + o];
        for (std::size_t i = 0; i < d; ++i) acc += in[r * d + i] * p.in_w[(part * qkv + o) * max_embed + i];
        y[r * qkv + o] = acc;
      }
    return y;
  };
  const auto q = project(x, tq, dq, 0), k = project(m, tk, dkv, 1), v = project(m, tk, dkv, 2);
  const std::size_t hd = qkv / heads;
  std::vector<double> ctx(tq * qkv, 0.0);
  for (std::size_t h = 0; h < heads; ++h)
    for (std::size_t i = 0; i < tq; ++i) {
      std::vector<double> w(tk, 0.0);
      double mx = -1e300, sum = 0;
      for (std::size_t j = 0; j < tk; ++j) {
        const bool masked = (causal && j > i + (tk - tq)) || (!pad.empty() && pad[j]);
        if (masked) continue;
        double s = 0;
        for (std::size_t c = 0; c < hd; ++c) s += q[i * qkv + h * hd + c] / std::sqrt(double(hd)) * k[j * qkv + h * hd + c];
        w[j] = s;
        mx = std::max(mx, s);
      }
      for (std::size_t j = 0; j < tk; ++j) {
        const bool masked = (causal && j > i + (tk - tq)) || (!pad.empty() && pad[j]);
        w[j] = masked ? 0.0 : std::exp(w[j] - mx);
        sum += w[j];
      }
      for (std::size_t j = 0; j < tk; ++j)
        for (std::size_t c = 0; c < hd; ++c) ctx[i * qkv + h * hd + c] += w[j] / sum * v[j * qkv + h * hd + c];
    }
  std::vector<double> out(tq * dq);
  for (std::size_t i = 0; i < tq; ++i)
    for (std::size_t o = 0; o < dq; ++o) {
      double acc = p.out_b[o];
      for (std::size_t c = 0; c < qkv; ++c) acc += ctx[i * qkv + c] * p.out_w[o * qkv + c];
      out[i * dq + o] = acc;
    }
  return out;
}

}  // namespace

TEST_CASE("elastic_attention: sliced sub-layers match HAT's MultiheadAttentionSuper slicing in double", "[nn][cpu][attention]") {
  hat::cpu be;
  hat::rng g(21);
  hat::arena<hat::cpu> arena(attn_t::param_count);
  const attn_t attn(arena.take(attn_t::param_count));
  reference_params p;
  const auto fill = [&](float* dst, std::vector<double>& ref, std::size_t n) {
    ref.resize(n);
    for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<float>(ref[i] = g.uniform() - 0.5);
  };
  fill(attn.in_proj_weight(), p.in_w, 3 * qkv * max_embed);
  fill(attn.in_proj_bias(), p.in_b, 3 * qkv);
  fill(attn.out_proj_weight(), p.out_w, max_embed * qkv);
  fill(attn.out_proj_bias(), p.out_b, max_embed);
  hat::attention_workspace<hat::cpu> ws;

  struct config {
    std::size_t tq, dq, tk, dkv, heads;
    bool causal, padding;
  };
  for (const config c : {config{5, 24, 5, 24, 2, false, false},   // full width, self-attention
                         config{5, 16, 5, 16, 4, true, false},    // narrower, causal
                         config{3, 16, 7, 24, 2, false, true},    // enc-dec: d_kv is the encoder's width
                         config{1, 16, 6, 16, 8, true, false},    // one incremental decoder step
                         config{4, 12, 9, 20, 1, false, true}}) {  // one head, arbitrary widths
    INFO("tq " << c.tq << " dq " << c.dq << " tk " << c.tk << " dkv " << c.dkv << " heads " << c.heads);
    // Poison what this sub-layer must not read: in_proj columns past d_q (Q rows) or d_kv
    // (K/V rows), out_proj rows and bias past d_q. The in_proj bias is never sliced.
    const float poison = std::numeric_limits<float>::quiet_NaN();
    for (std::size_t r = 0; r < 3 * qkv; ++r)
      for (std::size_t i = 0; i < max_embed; ++i)
        attn.in_proj_weight()[r * max_embed + i] = i < (r < qkv ? c.dq : c.dkv) ? float(p.in_w[r * max_embed + i]) : poison;
    for (std::size_t o = 0; o < max_embed; ++o) {
      for (std::size_t i = 0; i < qkv; ++i) attn.out_proj_weight()[o * qkv + i] = o < c.dq ? float(p.out_w[o * qkv + i]) : poison;
      attn.out_proj_bias()[o] = o < c.dq ? float(p.out_b[o]) : poison;
    }
    std::vector<float> x(c.tq * c.dq), m(c.tk * c.dkv), out(c.tq * c.dq);
    for (auto& v : x) v = static_cast<float>(2 * g.uniform() - 1);
    for (auto& v : m) v = static_cast<float>(2 * g.uniform() - 1);
    std::vector<unsigned char> pad;
    if (c.padding) {
      pad.assign(c.tk, 0);
      pad[c.tk - 1] = pad[c.tk - 2] = 1;
    }
    attn.forward(be, hat::dense(static_cast<const float*>(x.data()), c.tq, c.dq),
                 hat::dense(static_cast<const float*>(m.data()), c.tk, c.dkv), c.heads,
                 c.causal ? hat::masking::causal : hat::masking::none,
                 pad.empty() ? nullptr : pad.data(), hat::dense(out.data(), c.tq, c.dq), ws);
    const auto ref = reference(p, x, c.tq, c.dq, m, c.tk, c.dkv, c.heads, c.causal, pad);
    for (std::size_t i = 0; i < out.size(); ++i) {
      REQUIRE(std::isfinite(out[i]));
      CHECK(out[i] == Approx(ref[i]).margin(1e-5));
    }
  }
}

TEST_CASE("elastic_attention: the head count changes the function, not the weights", "[nn][cpu][attention]") {
  hat::cpu be;
  hat::rng g(22);
  hat::arena<hat::cpu> arena(attn_t::param_count);
  const attn_t attn(arena.take(attn_t::param_count));
  for (std::size_t i = 0; i < arena.size(); ++i) arena.data()[i] = static_cast<float>(g.uniform() - 0.5);
  hat::attention_workspace<hat::cpu> ws;
  std::vector<float> x(4 * 16), a(4 * 16), b(4 * 16);
  for (auto& v : x) v = static_cast<float>(2 * g.uniform() - 1);
  const auto xv = hat::dense(static_cast<const float*>(x.data()), 4, 16);
  attn.forward(be, xv, xv, 2, hat::masking::none, nullptr, hat::dense(a.data(), 4, 16), ws);
  attn.forward(be, xv, xv, 4, hat::masking::none, nullptr, hat::dense(b.data(), 4, 16), ws);
  CHECK(a != b);
  CHECK_THROWS_AS(attn.forward(be, xv, xv, 3, hat::masking::none, nullptr, hat::dense(b.data(), 4, 16), ws), std::logic_error);
}
