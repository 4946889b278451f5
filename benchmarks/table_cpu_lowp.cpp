// SPDX-License-Identifier: MIT
// The few-row decoding kernels on fp32, bf16 and int8 weights, side by side, at the bandwidth
// this machine gives: a decoder step streams every weight once, so each pass here streams
// 512 MB of fp32 weights (256 MB bf16, 128 MB int8: all beyond the last-level cache) as
// consecutive [n, k] matrices of one decoder shape, y = x W^T per matrix, m rows of x (1: greedy,
// 5: HAT's beam). Rounds interleave the precisions and a read-bandwidth measurement; medians.
//   table_cpu_lowp [--rounds N] [--paths] [--threads N] [--rows M,M,...]   (--paths: every kernel path
//   this CPU has, not just the best; --threads: the worker pool's threads, every precision alike;
//   --rows: the row counts, default 1,5)
// The fp32 column is the fp32 few-row kernel (cpu_few_rows.hpp) at its best path. Row counts past
// lowp_many_rows (a batch of beams: hat test's 160) get a second table: OpenBLAS's sgemm on the
// fp32 weights (what cpu::gemm runs there), the few-row kernels, and the tiles for sgemm that
// cpu::gemm runs on bf16 and int8 weights at those rows (cpu_lowp_many_rows.hpp), on 64 MB of
// fp32 weights per pass (bound by arithmetic, not bytes), on the BLAS's --threads threads.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/backend/cpu_few_rows_bf16.hpp>
#include <hat/backend/cpu_few_rows_int8.hpp>
#include <hat/backend/cpu_lowp_many_rows.hpp>
#include <hat/backend/huge_page_allocator.hpp>
#include <hat/space/random.hpp>

#include "support/bandwidth.hpp"
#include "support/median.hpp"

namespace {

using hat_bench::median;

template <class T>
using buffer = std::vector<T, hat::detail::huge_page_allocator<T>>;

double seconds(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct shape {
  const char* name;
  std::size_t n, k;
};

// rows [rows, k] of w in int8 (q), one scale per row: the scales.
std::vector<float> to_int8(const float* w, std::size_t rows, std::size_t k, std::int8_t* q) {
  std::vector<float> scales(rows);
  for (std::size_t r = 0; r < rows; ++r) {
    scales[r] = hat::int8_row_scale(w + r * k, k);
    hat::quantize_int8(w + r * k, k, scales[r], q + r * k);
  }
  return scales;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 5, threads = 1;
  bool all_paths = false;
  std::vector<std::size_t> few{1, 5}, many;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--rounds" && i + 1 < argc) rounds = std::max(1, std::atoi(argv[++i]));
    else if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (a == "--paths") all_paths = true;
    else if (a == "--rows" && i + 1 < argc) {
      few.clear();
      for (const char* t = argv[++i]; *t;) {
        char* end = nullptr;
        const long m = std::strtol(t, &end, 10);
        if (end == t || m < 1 || (*end != ',' && *end != '\0')) {
          threads = 0;
          break;
        }
        (static_cast<std::size_t>(m) > hat::detail::lowp_many_rows ? many : few).push_back(static_cast<std::size_t>(m));
        t = *end == ',' ? end + 1 : end;
      }
    } else
      threads = 0;
    if (threads < 1) {
      std::fprintf(stderr, "usage: table_cpu_lowp [--rounds N] [--paths] [--threads N] [--rows M,M,...]\n");
      return 2;
    }
  }
  hat::detail::worker_pool::instance().set_threads(threads);
  hat::cpu::set_threads(threads);
  using hat::detail::lowp_path;
  std::vector<lowp_path> paths{hat::detail::best_lowp_path()};
  if (all_paths) {
    paths.clear();
    for (lowp_path p : {lowp_path::avx2, lowp_path::avx512, lowp_path::avx512_vnni})
      if (hat::detail::lowp_path_available(p)) paths.push_back(p);
  }

  std::printf("prefetch into %s (HAT_FEW_ROWS_PREFETCH=l1|l2 overrides); %d thread(s)\n", hat::detail::prefetch_to_l2() ? "L2" : "L1",
              hat::detail::worker_pool::instance().threads());
  const std::size_t total = std::size_t{1} << 27;  // weights per pass: 512 MB in fp32
  std::printf("filling %zu MB of fp32 weights and their bf16 and int8 copies...\n", total * 4 >> 20);
  buffer<float> w32(total);
  buffer<hat::bf16> w16(total);
  buffer<std::int8_t> w8(total);
  hat::rng g(1);
  for (std::size_t i = 0; i < total; i += 4096) {  // random rows, cheaply: one draw per 4096 values
    const float base = static_cast<float>(g.uniform() - 0.5);
    for (std::size_t t = i; t < std::min(total, i + 4096); ++t) w32[t] = base + 1e-4f * static_cast<float>(t % 97);
  }
  for (std::size_t i = 0; i < total; ++i) w16[i] = hat::to_bf16(w32[i]);

  const shape shapes[] = {{"self-attn q,k,v (1536 x 512)", 1536, 512},
                          {"fc1 (2048 x 512)", 2048, 512},
                          {"fc2 (512 x 2048)", 512, 2048},
                          {"vocabulary (32768 x 512)", 32768, 512},
                          {"the 128-wide panel of 640-wide weights (32768 x 128)", 32768, 128}};
  std::printf("\n| shape | rows | path | fp32 ms/pass | bf16 ms/pass | int8 ms/pass | fp32 GB/s | bf16 GB/s | int8 GB/s | "
              "read GB/s | bf16 speed-up | int8 speed-up |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const shape& s : shapes) {
    const std::size_t per = s.n * s.k, count = total / per;
    const std::vector<float> scales = to_int8(w32.data(), count * s.n, s.k, w8.data());
    for (std::size_t m : few) {
      std::vector<float> x(m * s.k), y(m * s.n);
      for (auto& v : x) v = static_cast<float>(g.uniform() - 0.5);
      for (lowp_path p : paths) {
        std::vector<double> t32, t16, t8, read;
        for (int r = 0; r < rounds + 1; ++r) {  // round 0 warms up
          const double bw = hat_bench::measure_bandwidth().read_gbs;
          const double a = seconds([&] {
            for (std::size_t c = 0; c < count; ++c)
              hat::detail::few_rows_gemm(m, s.n, s.k, 1.0f, x.data(), s.k, w32.data() + c * per, s.k, 0.0f, y.data(), s.n);
          });
          const double b = seconds([&] {
            for (std::size_t c = 0; c < count; ++c)
              hat::detail::few_rows_gemm_bf16(p, m, s.n, s.k, 1.0f, x.data(), s.k, w16.data() + c * per, s.k, 0.0f, y.data(), s.n);
          });
          const double i8 = seconds([&] {
            for (std::size_t c = 0; c < count; ++c)
              hat::detail::few_rows_gemm_int8(p, m, s.n, s.k, 1.0f, x.data(), s.k, w8.data() + c * per, s.k,
                                              scales.data() + c * s.n, 0.0f, y.data(), s.n);
          });
          if (r == 0) continue;
          t32.push_back(a);
          t16.push_back(b);
          t8.push_back(i8);
          read.push_back(bw);
        }
        const double bytes = static_cast<double>(count * per);
        const double a = median(t32), b = median(t16), i8 = median(t8);
        std::printf("| %s | %zu | %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.2fx | %.2fx |\n", s.name, m,
                    hat::detail::lowp_path_name(p), 1e3 * a, 1e3 * b, 1e3 * i8, 4 * bytes / a / 1e9, 2 * bytes / b / 1e9,
                    (bytes + 4.0 * static_cast<double>(count * s.n)) / i8 / 1e9, median(read), a / b, a / i8);
      }
    }
  }
  if (many.empty()) return 0;
  // Many rows: bound by arithmetic, so one 64 MB pass (in fp32) per shape is enough.
  std::printf("\n| shape | rows | path | fp32 sgemm ms | bf16 few-row ms | bf16 tiles ms | int8 few-row ms | int8 tiles ms | "
              "fp32 GFLOP/s | bf16 tiles / sgemm | int8 tiles / sgemm | bf16 tiles speed-up | int8 tiles speed-up |\n"
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  const hat::detail::blas_sgemm_nt sgemm;
  for (const shape& s : shapes) {
    const std::size_t per = s.n * s.k, count = std::max<std::size_t>(1, (std::size_t{1} << 24) / per);
    const std::vector<float> scales = to_int8(w32.data(), count * s.n, s.k, w8.data());
    for (std::size_t m : many) {
      std::vector<float> x(m * s.k), y(m * s.n);
      for (auto& v : x) v = static_cast<float>(g.uniform() - 0.5);
      for (lowp_path p : paths) {
        std::vector<double> t[5];
        const auto panel16 = [&](std::size_t c) { return hat::detail::few_rows_panel<hat::bf16>{w16.data() + c * per, s.k, s.k}; };
        const auto panel8 = [&](std::size_t c) {
          return hat::detail::int8_panel{w8.data() + c * per, s.k, s.k, scales.data() + c * s.n};
        };
        const std::function<void(std::size_t)> ways[5] = {
            [&](std::size_t c) { sgemm(m, s.n, s.k, 1.0f, x.data(), s.k, w32.data() + c * per, s.k, 0.0f, y.data(), s.n); },
            [&](std::size_t c) {
              const auto w = panel16(c);
              hat::detail::few_rows_gemm_bf16_panels(p, m, s.n, 1.0f, x.data(), s.k, &w, 1, 0.0f, y.data(), s.n);
            },
            [&](std::size_t c) {
              const auto w = panel16(c);
              hat::detail::many_rows_gemm_bf16_panels(p, m, s.n, 1.0f, x.data(), s.k, &w, 1, 0.0f, y.data(), s.n, sgemm);
            },
            [&](std::size_t c) {
              const auto w = panel8(c);
              hat::detail::few_rows_gemm_int8_panels(p, m, s.n, 1.0f, x.data(), s.k, &w, 1, 0.0f, y.data(), s.n);
            },
            [&](std::size_t c) {
              const auto w = panel8(c);
              hat::detail::many_rows_gemm_int8_panels(p, m, s.n, 1.0f, x.data(), s.k, &w, 1, 0.0f, y.data(), s.n, sgemm);
            }};
        for (int r = 0; r < rounds + 1; ++r)  // round 0 warms up
          for (int v = 0; v < 5; ++v) {
            const double sec = seconds([&] {
              for (std::size_t c = 0; c < count; ++c) ways[v](c);
            });
            if (r > 0) t[v].push_back(sec);
          }
        double ms[5];
        for (int v = 0; v < 5; ++v) ms[v] = 1e3 * median(t[v]);
        const double flop = 2.0 * static_cast<double>(m * count * per);
        std::printf("| %s | %zu | %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.1f | %.2f | %.2f | %.2fx | %.2fx |\n", s.name, m,
                    hat::detail::lowp_path_name(p), ms[0], ms[1], ms[2], ms[3], ms[4], flop / ms[0] / 1e6, ms[2] / ms[0],
                    ms[4] / ms[0], ms[1] / ms[2], ms[3] / ms[4]);
      }
    }
  }
  return 0;
}
