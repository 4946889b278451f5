// SPDX-License-Identifier: MIT
// The products inside the model against raw OpenBLAS at the same shapes, side by side:
//   model : the layer as the model runs it (elastic_linear::forward: the corner view of the
//           640-wide super weight, ld = the super width, plus the bias; few-row products take
//           the weight-streaming kernel)
//   BLAS  : cblas_sgemm on a dense contiguous copy of the same weights, no bias
// Shapes: a SubTransformer of width 512 with FFN 3072 (HAT_wmt14ende_xeon@450.9ms), encoder
// (30 rows: one WMT sentence) and beam-5 decoding (5 rows), plus the vocabulary projection.
//   table_cpu_gemm [--reps N] [--threads N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/nn/elastic_linear.hpp>
#include <hat/space/random.hpp>

namespace {

template <std::size_t MaxIn, std::size_t MaxOut>
void row(const char* name, std::size_t m, std::size_t in, std::size_t out, int reps) {
  using layer_t = hat::elastic_linear<MaxIn, MaxOut, hat::cpu>;
  hat::cpu be, blas;
  blas.few_rows = false;
  hat::rng g(1);
  hat::cpu::buffer<float> params(layer_t::param_count), dense(in * out), x(m * in), y(m * out);
  for (auto& v : params) v = static_cast<float>(g.uniform() - 0.5);
  for (auto& v : x) v = static_cast<float>(g.uniform() - 0.5);
  const layer_t layer(params.data());
  for (std::size_t r = 0; r < out; ++r)
    std::copy(params.data() + r * MaxIn, params.data() + r * MaxIn + in, dense.data() + r * in);
  const auto xv = hat::matrix_ref<const float>(hat::dense(x.data(), m, in));
  const auto yv = hat::dense(y.data(), m, out);
  // Interleaved repetitions; the best of each (the machine is shared: the best is the least disturbed).
  const auto time = [](auto&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  double model_s = 1e30, blas_s = 1e30;
  const int inner = m <= 16 ? 20 : 50;
  for (int r = 0; r < reps; ++r) {
    model_s = std::min(model_s, time([&] {
                         for (int i = 0; i < inner; ++i) layer.forward(be, xv, yv);
                       }) / inner);
    blas_s = std::min(blas_s, time([&] {
                        for (int i = 0; i < inner; ++i)
                          blas.gemm(xv, hat::op::none, hat::matrix_ref<const float>(hat::dense(dense.data(), out, in)),
                                    hat::op::transpose, yv, 1.0f, 0.0f);
                      }) / inner);
  }
  const double flop = 2.0 * static_cast<double>(m * in * out);
  std::printf("| %s | %zu x %zu x %zu | %.1f | %.1f | %.0f %% |\n", name, m, out, in, flop / model_s / 1e9,
              flop / blas_s / 1e9, 100.0 * blas_s / model_s);
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 30, threads = 1;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--reps") reps = std::atoi(argv[i + 1]);
    if (std::string(argv[i]) == "--threads") threads = std::atoi(argv[i + 1]);
  }
  hat::cpu::set_threads(threads);  // the few-row kernel runs on one thread: compare like with like
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  std::printf("OpenBLAS kernels %s (OPENBLAS_CORETYPE=%s), threads %d; best of %d\n\n", hat::cpu::blas_core().c_str(),
              coretype ? coretype : "unset", hat::cpu::threads(), reps);
  std::printf("| product | rows x out x in | model GFLOP/s | OpenBLAS GFLOP/s | model / OpenBLAS |\n|---|---|---|---|---|\n");
  row<640, 1536>("encoder QKV projection", 30, 512, 1536, reps);
  row<512, 640>("encoder out_proj", 30, 512, 512, reps);
  row<640, 3072>("encoder fc1", 30, 512, 3072, reps);
  row<3072, 640>("encoder fc2", 30, 3072, 512, reps);
  row<640, 1536>("decoder QKV projection", 5, 512, 1536, reps);
  row<640, 3072>("decoder fc1", 5, 512, 3072, reps);
  row<3072, 640>("decoder fc2", 5, 3072, 512, reps);
  row<640, 32768>("vocabulary projection", 5, 512, 32768, reps / 3 + 1);
}
