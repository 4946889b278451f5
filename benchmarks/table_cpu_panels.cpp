// SPDX-License-Identifier: MIT
// Decoding products on paneled weights (nn/paneled_matrix.hpp), three ways side by side:
//   one pass  : cpu::gemm_panels, the few-row kernel over every panel of a block at once (hat's path)
//   per panel : one few-row product per panel, accumulated (hat's path before gemm_panels)
//   dense     : the same weights copied into one panel, as an exported dense SubTransformer has them
// at HAT space0's widest shapes, whose inputs span panels: 640 = 512 + 128 (QKV, fc1, the
// vocabulary) and the FFN's 3072 = 1024 + 1024 + 1024 (fc2). Each product streams more weights
// than the last-level cache holds (the shape is repeated over consecutive copies), rounds
// interleave the three ways (each first in turn), and the ratios are medians of per-round ratios.
// --precision bf16 or int8 runs the three ways on the weights' bf16 or int8 copies
// (cpu::set_decode_precision over each layout; int8 with its scales per panel).
//   table_cpu_panels [--rounds N] [--rows M] [--precision fp32|bf16|int8]
//   (defaults: 7 rounds, 5 rows: HAT's beam, fp32)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/backend/precision.hpp>
#include <hat/nn/paneled_matrix.hpp>
#include <hat/nn/parameter_list.hpp>
#include <hat/space/random.hpp>

#include "support/median.hpp"
#include "support/table_main.hpp"

namespace {

using hat_bench::median;
template <class T>
using buffer = std::vector<T, hat::detail::huge_page_allocator<T>>;

struct shape {
  const char* name;
  std::size_t n;                    // output columns (rows of W)
  std::vector<std::size_t> bounds;  // panel ends; the last is the input width
};

// The weights of every copy as a model's parameter arena (what set_decode_precision converts).
struct arena {
  const float* p;
  std::size_t n;
  std::vector<hat::parameter_info> info;
  const float* data() const noexcept { return p; }
  std::size_t size() const noexcept { return n; }
  const std::vector<hat::parameter_info>& parameters() const noexcept { return info; }
};

template <class F>
double ms(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

static int run(int argc, char** argv) {
  int rounds = 7;
  std::size_t m = 5;
  hat::precision precision = hat::precision::fp32;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--rounds" && i + 1 < argc) rounds = std::max(1, std::atoi(argv[++i]));
    else if (a == "--rows" && i + 1 < argc) m = static_cast<std::size_t>(std::clamp(std::atoi(argv[++i]), 1, 16));
    else if (a == "--precision" && i + 1 < argc) precision = hat::parse_precision(argv[++i], "--precision");
    else {
      std::fprintf(stderr, "usage: table_cpu_panels [--rounds N] [--rows M (1-16)] [--precision fp32|bf16|int8]\n");
      return 2;
    }
  }
  hat::cpu::set_threads(1);
  hat::cpu be;
#ifdef HAT_FEW_ROWS_X86
  const char* into = hat::detail::prefetch_to_l2() ? "L2" : "L1";
#else
  const char* into = "- (no few-row kernel on this CPU: every way is OpenBLAS)";
#endif
  std::printf("few-row kernel prefetching into %s; 1 thread; %zu rows of x; %s weights; medians of %d rounds\n\n", into, m,
              std::string(hat::precision_name(precision)).c_str(), rounds);
  const std::size_t bytes = precision == hat::precision::fp32 ? 4 : precision == hat::precision::bf16 ? 2 : 1;
  const shape shapes[] = {{"self-attn q,k,v (1536 x 640)", 1536, {512, 640}},
                          {"fc1 (3072 x 640)", 3072, {512, 640}},
                          {"fc2 (640 x 3072)", 640, {1024, 2048, 3072}},
                          {"vocabulary (32768 x 640)", 32768, {512, 640}}};
  std::printf("| product | panels | MB | one pass ms | per panel ms | dense ms | one pass / dense | per panel / dense "
              "| one pass GB/s | dense GB/s |\n|---|---|---|---|---|---|---|---|---|---|\n");
  for (const shape& s : shapes) {
    const std::size_t k = s.bounds.back(), size = s.n * k;
    const std::size_t copies = std::max<std::size_t>(1, (std::size_t{256} << 20) / (size * sizeof(float)));  // >= 256 MB
    buffer<float> paneled(copies * size), dense(copies * size), x(m * k), y(m * s.n);
    hat::rng g(1);
    for (auto& v : x) v = static_cast<float>(g.uniform() - 0.5);
    for (std::size_t i = 0; i < paneled.size(); ++i) paneled[i] = 1e-3f * static_cast<float>(i % 101) - 0.05f;
    std::vector<hat::paneled_matrix<float>> pw, dw;
    for (std::size_t c = 0; c < copies; ++c) {
      pw.emplace_back(paneled.data() + c * size, s.n, s.bounds);
      dw.emplace_back(dense.data() + c * size, s.n, std::vector<std::size_t>{k});
      for (std::size_t r = 0; r < s.n; ++r)
        for (std::size_t col = 0; col < k; ++col) dense[c * size + r * k + col] = paneled[c * size + pw.back().index(r, col)];
    }
    // Each layout as a model, converted to the precision asked (fp32: the weights themselves).
    arena pa{paneled.data(), paneled.size(), {}}, da{dense.data(), dense.size(), {}};
    for (std::size_t c = 0; c < copies; ++c) {
      pa.info.push_back({"w" + std::to_string(c), c * size, {s.n, k}, s.bounds, hat::parameter_init::zero});
      da.info.push_back({"w" + std::to_string(c), c * size, {s.n, k}, {}, hat::parameter_init::zero});
    }
    hat::cpu be_p = be, be_d = be;
    be_p.set_decode_precision(precision, pa);
    be_d.set_decode_precision(precision, da);
    const hat::matrix_ref<const float> xv{x.data(), m, k, k};
    const hat::matrix_ref<float> yv{y.data(), m, s.n, s.n};
    const auto one_pass = [&] {
      for (const auto& w : pw) w.product(be_p, xv, 0, yv);
    };
    const auto per_panel = [&] {
      for (const auto& w : pw)
        for (std::size_t p = 0; p < w.panels(); ++p) {
          const std::size_t start = w.panel_start(p), width = w.panel_width(p, k);
          be_p.gemm(hat::matrix_ref<const float>{x.data() + start, m, width, k}, hat::op::none, w.panel(p, 0, s.n, width),
                  hat::op::transpose, yv, 1.0f, p == 0 ? 0.0f : 1.0f);
        }
    };
    const auto whole = [&] {
      for (const auto& w : dw) w.product(be_d, xv, 0, yv);
    };
    one_pass();  // first touch of every page, outside the timings
    per_panel();
    whole();
    std::vector<double> t1, t2, t3, r1, r2;
    for (int r = 0; r < rounds; ++r) {  // each way first in turn
      double t[3];
      for (int i = 0; i < 3; ++i) {
        const int way = (i + r) % 3;
        t[way] = way == 0 ? ms(one_pass) : way == 1 ? ms(per_panel) : ms(whole);
      }
      t1.push_back(t[0]);
      t2.push_back(t[1]);
      t3.push_back(t[2]);
      r1.push_back(t[0] / t[2]);
      r2.push_back(t[1] / t[2]);
    }
    const double mb = static_cast<double>(copies * size * bytes) / 1e6;
    std::printf("| %s | %zu | %.0f | %.1f | %.1f | %.1f | %.3f | %.3f | %.1f | %.1f |\n", s.name, s.bounds.size(), mb,
                median(t1), median(t2), median(t3), median(r1), median(r2), mb / median(t1), mb / median(t3));
    std::fflush(stdout);
  }
  return 0;
}

int main(int argc, char** argv) { return hat_bench::table_main("table_cpu_panels", run, argc, argv); }
