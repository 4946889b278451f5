// SPDX-License-Identifier: MIT
// HAT's learning-rate schedules (cosine for WMT, inverse_sqrt for IWSLT) at known updates, and Adam
// with clipping.
#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/train/lr_schedule.hpp>
#include <hat/train/optimizer.hpp>

TEST_CASE("inverse_sqrt: HAT's IWSLT schedule", "[train][schedule]") {
  const hat::inverse_sqrt_schedule s;  // 1e-7 -> 5e-4 over 10,000 updates
  CHECK(s(0) == Approx(1e-7));
  CHECK(s(5000) == Approx(1e-7 + 0.5 * (5e-4 - 1e-7)));
  CHECK(s(10000) == Approx(5e-4));
  CHECK(s(40000) == Approx(5e-4 * 100.0 / 200.0));  // sqrt(10000) / sqrt(40000)
  CHECK(s(10001) < s(10000));
}

TEST_CASE("cosine: HAT's WMT schedule, warm-up then one half-cosine per period", "[train][schedule]") {
  const hat::cosine_schedule s;  // 1e-7 -> 1e-3 over 10,000, period 30,000
  CHECK(s(0) == Approx(1e-7));
  CHECK(s(10000) == Approx(1e-3));
  for (std::size_t u : {12345u, 25000u, 39999u}) {
    const double t = double(u - 10000);
    CHECK(s(u) == Approx(1e-7 + 0.5 * (1e-3 - 1e-7) * (1 + std::cos(std::numbers::pi * t / 30000))));
  }
  CHECK(s(25000) == Approx((1e-3 + 1e-7) / 2));
  CHECK(s(40000) == Approx(1e-3));  // t_mult 1: the next period restarts at max_lr
  hat::cosine_schedule shrink = s;
  shrink.lr_shrink = 0.5;
  CHECK(shrink(40000) == Approx(0.5 * 1e-3 + 0 * 1e-7).epsilon(1e-3));
  hat::cosine_schedule mult = s;
  mult.t_mult = 2;  // periods 30,000 then 60,000
  CHECK(mult(10000 + 30000 + 30000) == Approx(1e-7 + 0.5 * (1e-3 - 1e-7) * (1 + std::cos(std::numbers::pi * 0.5))));
}

TEST_CASE("adam: one step by hand, decoupled weight decay, untouched slices keep decaying", "[train][adam]") {
  hat::cpu be;
  hat::adam_settings st;
  st.weight_decay = 0.01;
  hat::adam<hat::cpu> opt(3, st);
  std::vector<float> p{1.0f, -2.0f, 0.5f}, g{0.1f, 0.0f, -0.3f};
  opt.step(be, p.data(), g.data(), 1e-3);
  for (std::size_t i = 0; i < 3; ++i) {
    const double m = 0.1 * g[i], v = 0.02 * g[i] * g[i];
    const double mhat = m / 0.1, vhat = v / 0.02;
    const double start[3] = {1.0, -2.0, 0.5};
    const double want = start[i] * (1 - 0.01 * 1e-3) - 1e-3 * mhat / (std::sqrt(vhat) + 1e-8);
    CHECK(p[i] == Approx(want).epsilon(1e-6));
  }
  CHECK(opt.steps() == 1);
}

TEST_CASE("adam: fairseq's eps (outside the bias correction) against PyTorch's", "[train][adam]") {
  hat::cpu be;
  const double lr = 1e-3, g = 1e-8, eps = 1e-8;  // at eps's scale the two differ: 0.124 lr against 0.5 lr
  for (const auto style : {hat::adam_settings::eps_style::fairseq, hat::adam_settings::eps_style::pytorch}) {
    hat::adam_settings st;
    st.style = style;
    hat::adam<hat::cpu> opt(1, st);
    std::vector<float> p{0.0f}, gr{static_cast<float>(g)};
    opt.step(be, p.data(), gr.data(), lr);
    const double m = 0.1 * g, v = 0.02 * g * g, c1 = 0.1, c2 = 0.02;
    const double want = style == hat::adam_settings::eps_style::fairseq
                            ? -lr * std::sqrt(c2) / c1 * m / (std::sqrt(v) + eps)     // fairseq/optim/adam.py
                            : -lr / c1 * m / (std::sqrt(v / c2) + eps);               // torch.optim.Adam
    CHECK(p[0] == Approx(want).epsilon(1e-5));
  }
}

TEST_CASE("adam: the state round-trips for a resumed run", "[train][adam]") {
  hat::cpu be;
  hat::adam<hat::cpu> a(4), b(4);
  std::vector<float> pa{1, 2, 3, 4}, pb = pa, g{0.5f, -0.25f, 0.125f, 1.0f};
  a.step(be, pa.data(), g.data(), 1e-2);
  b.restore(be, a.first_moment(be), a.second_moment(be), a.steps());
  pb = pa;
  a.step(be, pa.data(), g.data(), 1e-2);
  b.step(be, pb.data(), g.data(), 1e-2);
  CHECK(pa == pb);
  CHECK_THROWS_AS(b.restore(be, std::vector<float>(3), std::vector<float>(4), 1), hat::config_error);
}

TEST_CASE("adam::clip: fairseq's clip_grad_norm_", "[train][adam]") {
  hat::cpu be;
  hat::adam_settings st;
  st.clip_norm = 1.0;
  const hat::adam<hat::cpu> opt(2, st);
  std::vector<float> g{3.0f, 4.0f};
  CHECK(opt.clip(be, g.data()) == Approx(5.0));
  CHECK(g[0] == Approx(3.0 / (5.0 + 1e-6)));
  CHECK(g[1] == Approx(4.0 / (5.0 + 1e-6)));
  std::vector<float> small{0.3f, 0.4f};
  CHECK(opt.clip(be, small.data()) == Approx(0.5));
  CHECK(small[0] == 0.3f);  // under the limit: untouched
  hat::adam_settings off;
  const hat::adam<hat::cpu> none(2, off);
  CHECK(none.clip(be, g.data()) == Approx(1.0).epsilon(1e-5));  // clip_norm 0: measured, not clipped
}
