// SPDX-License-Identifier: MIT
// Training's products at bf16, side by side on the Multi30k SuperTransformer's largest shapes
// (4096-token batches, width 256, FFN 1024, 8000 subwords):
//   fp32        : hat::cpu's gemm (OpenBLAS sgemm)
//   bf16 round  : hat::cpu with set_training_precision(bf16) and onednn = false: both operands
//                 rounded to bf16 in a scratch copy, then sgemm (the portable path)
//   hat oneDNN  : oneDNN's matmul as hat::cpu runs it for `hat train --precision bf16`, loaded at
//                 run time (cpu_onednn.hpp), conversion included, at every size (cpu::gemm itself
//                 keeps products under 2^17 multiply-adds on the rounding path), on --threads
//                 threads (one below 2^26 multiply-adds, as hat runs them) and on one
//   oneDNN bf16 : oneDNN's matmul called directly with fixed sizes, the fp32 -> bf16 conversion
//                 of both operands by oneDNN's reorder included (a backend converts per product,
//                 the weights change every update), and the matmul alone; with its kernel
// OpenBLAS 0.3.21 as Debian ships it exports no sbgemm, so it has no row here. The direct oneDNN
// columns need libdnnl-dev at configure time (Debian 12: oneDNN 2.6); without it they are absent.
// Every column runs on --threads threads (oneDNN's OpenMP threads too).
//   table_cpu_bf16_gemm [--reps N] [--threads N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/space/random.hpp>

#ifdef HAT_BENCH_WITH_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

struct shape {
  const char* name;
  std::size_t m, n, k;
  hat::op ta, tb;
};

template <class F>
double best_ms(int reps, F&& f) {
  double best = 1e30;
  f();  // warm-up (first-touch pages, oneDNN's kernel generation)
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 7, threads = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--reps") reps = std::atoi(argv[i + 1]);
    else if (a == "--threads") threads = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: table_cpu_bf16_gemm [--reps N] [--threads N]\n");
      return 2;
    }
  }
  hat::cpu::set_threads(threads);
#ifdef _OPENMP
  omp_set_num_threads(threads);  // the direct oneDNN columns' threads: all cores otherwise
#endif
  const shape shapes[] = {
      {"attention projection x W^T", 4096, 256, 256, hat::op::none, hat::op::transpose},
      {"fc1 x W^T", 4096, 1024, 256, hat::op::none, hat::op::transpose},
      {"fc2 x W^T", 4096, 256, 1024, hat::op::none, hat::op::transpose},
      {"vocabulary projection x E^T", 4096, 8000, 256, hat::op::none, hat::op::transpose},
      {"fc1 weight gradient dY^T X", 1024, 256, 4096, hat::op::transpose, hat::op::none},
      {"vocabulary input gradient dY E", 4096, 256, 8000, hat::op::none, hat::op::none},
      // attention's per-head products and other small ones, about onednn_min_work (2^17), and
      // about onednn_split_min_work (2^26)
      {"small: scores q k^T, one head", 32, 32, 64, hat::op::none, hat::op::transpose},
      {"small", 64, 64, 64, hat::op::none, hat::op::transpose},
      {"small", 128, 128, 64, hat::op::none, hat::op::transpose},
      {"medium", 256, 256, 64, hat::op::none, hat::op::transpose},
      {"medium", 512, 256, 256, hat::op::none, hat::op::transpose},
      {"medium", 1024, 256, 256, hat::op::none, hat::op::transpose},
  };
  std::printf("threads %d, best of %d; GFLOP/s, and the time relative to fp32\nhat's bf16 products: %s\n\n", threads, reps,
              hat::cpu{}.bf16_products_engine().c_str());
  std::printf("| product | m x n x k | fp32 | bf16 round | hat oneDNN | hat oneDNN, 1 thread | oneDNN bf16 (with conversion) | oneDNN matmul alone | oneDNN kernel |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
#ifdef HAT_BENCH_WITH_DNNL
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
#endif
  for (const shape& s : shapes) {
    const std::size_t ar = s.ta == hat::op::none ? s.m : s.k, ac = s.ta == hat::op::none ? s.k : s.m;
    const std::size_t br = s.tb == hat::op::none ? s.k : s.n, bc = s.tb == hat::op::none ? s.n : s.k;
    hat::rng g(1);
    std::vector<float> a(ar * ac), b(br * bc), c(s.m * s.n);
    for (auto& v : a) v = static_cast<float>(g.uniform() - 0.5);
    for (auto& v : b) v = static_cast<float>(g.uniform() - 0.5);
    hat::cpu fp32, bf16, onednn;  // onednn: where oneDNN is missing, the column repeats the rounding path
    bf16.set_training_precision(hat::precision::bf16);
    bf16.onednn = false;
    onednn.set_training_precision(hat::precision::bf16);
    const hat::matrix_ref<const float> av = hat::dense(a.data(), ar, ac), bv = hat::dense(b.data(), br, bc);
    const auto cv = hat::dense(c.data(), s.m, s.n);
    const double flop = 2.0 * static_cast<double>(s.m * s.n * s.k);
    const double t32 = best_ms(reps, [&] { fp32.gemm(av, s.ta, bv, s.tb, cv, 1.0f, 0.0f); });
    const double t16 = best_ms(reps, [&] { bf16.gemm(av, s.ta, bv, s.tb, cv, 1.0f, 0.0f); });
    // oneDNN through hat at every size (cpu::gemm keeps products under onednn_min_work on the
    // rounding path: the small rows show why), on t threads
    const auto through_hat = [&](int t) {
      return best_ms(reps, [&] {
        if (!hat::detail::onednn_bf16_gemm(av, s.ta == hat::op::transpose, bv, s.tb == hat::op::transpose, cv, 1.0f, 0.0f, t))
          onednn.gemm(av, s.ta, bv, s.tb, cv, 1.0f, 0.0f);
      });
    };
    const double tdnnl = through_hat(threads);
    const double tdnnl1 = through_hat(1);  // whatever --threads says: where a product is too small to split
    std::printf("| %s | %zu x %zu x %zu | %.0f | %.0f, %.2fx | %.0f, %.2fx | %.0f, %.2fx |", s.name, s.m, s.n, s.k,
                flop / t32 / 1e6, flop / t16 / 1e6, t16 / t32, flop / tdnnl / 1e6, tdnnl / t32, flop / tdnnl1 / 1e6, tdnnl1 / t32);
#ifdef HAT_BENCH_WITH_DNNL
    using dt = dnnl::memory::data_type;
    const auto dim = [](std::size_t v) { return static_cast<dnnl::memory::dim>(v); };
    // op(A) [m, k] and op(B) [k, n] as strided views of the row-major fp32 operands
    const dnnl::memory::dims a_strides = s.ta == hat::op::none ? dnnl::memory::dims{dim(ac), 1} : dnnl::memory::dims{1, dim(ac)};
    const dnnl::memory::dims b_strides = s.tb == hat::op::none ? dnnl::memory::dims{dim(bc), 1} : dnnl::memory::dims{1, dim(bc)};
    const dnnl::memory::desc a32_md({dim(s.m), dim(s.k)}, dt::f32, a_strides), b32_md({dim(s.k), dim(s.n)}, dt::f32, b_strides);
    const dnnl::memory::desc a16_md({dim(s.m), dim(s.k)}, dt::bf16, a_strides), b16_md({dim(s.k), dim(s.n)}, dt::bf16, b_strides);
    const dnnl::memory::desc c_md({dim(s.m), dim(s.n)}, dt::f32, dnnl::memory::dims{dim(s.n), 1});
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a16_md, b16_md, c_md), engine);
    const dnnl::matmul mm(pd);
    dnnl::memory a32(a32_md, engine, a.data()), b32(b32_md, engine, b.data()), a16(a16_md, engine), b16(b16_md, engine),
        c32(c_md, engine, c.data());
    dnnl::reorder to_a16(a32, a16), to_b16(b32, b16);
    const auto multiply = [&] {
      mm.execute(stream, {{DNNL_ARG_SRC, a16}, {DNNL_ARG_WEIGHTS, b16}, {DNNL_ARG_DST, c32}});
      stream.wait();
    };
    const double tconv = best_ms(reps, [&] {
      to_a16.execute(stream, a32, a16);
      to_b16.execute(stream, b32, b16);
      multiply();
    });
    const double tmm = best_ms(reps, multiply);
    std::printf(" %.0f, %.2fx | %.0f, %.2fx | %s |\n", flop / tconv / 1e6, tconv / t32, flop / tmm / 1e6, tmm / t32, pd.impl_info_str());
#else
    std::printf(" - | - | (built without oneDNN's C++ API) |\n");
#endif
  }
  return 0;
}
