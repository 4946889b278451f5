// SPDX-License-Identifier: MIT
// HAT-protocol latency (latency_dataset.py) of SubTransformers on this CPU, with the roofline of
// memory-bound decoding and the elastic overhead, side by side in one run:
//   super   : the SubTransformer as slices of the SuperTransformer (hat's default)
//   dense   : the exported dense SubTransformer (elastic overhead = super / dense)
//   blas    : super weights with every product sent to OpenBLAS (no few-row kernel)
// Roofline: each decoder step reads every active decoder weight and the vocabulary table
// once; bytes/step over this machine's bandwidth (a STREAM-like triad and a read-only stream,
// measured before each round) is the floor, and `roofline` = floor / measured ms per step. The overhead and speed-up
// columns are medians of per-round ratios (the variants run back to back within a round, super
// and dense in turns first).
// --precision bf16 or int8: super and dense decode on their own bf16 or int8 copies
// (cpu::set_decode_precision; int8 with its scales per panel), the bytes counted in that
// precision; the OpenBLAS-only column is then not run (OpenBLAS has no such products).
//   table_cpu_latency [--threads N] [--precision fp32|bf16|int8] [--iters N] [--rounds N] [FILE.yml ...]
// Files default to HAT's released WMT'14 En-De Xeon configs; "max" is the space0 maximum.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/yaml/subtransformer.hpp>
#include <hat/nn/dense_export.hpp>
#include <hat/latency/measure.hpp>
#include <hat/space/hat_spaces.hpp>

#include "support/bandwidth.hpp"
#include "support/latency_args.hpp"
#include "support/median.hpp"
#include "support/table_main.hpp"

namespace {

using hat_bench::median;

using wmt_space = hat::hat_wmt_space;
using model_t = hat::super_transformer_for<wmt_space, hat::cpu>;
constexpr std::size_t vocab = 32768;  // HAT's WMT'14 En-De joined dictionary

// Bytes one incremental decoder step reads: every active decoder weight (in the weights'
// precision; int8 with one 4-byte scale per row: a row split in panels reads one per panel,
// under 1 % more, not counted) and bias, the layer norms, the vocabulary slice, and the
// self-attention KV cache (average over the L steps); all but the weights are fp32.
double bytes_per_step(const hat::transformer_config& c, std::size_t beam, std::size_t steps, hat::precision p) {
  const double d = static_cast<double>(c.decoder_embed_dim), q = 512;
  const double wbytes = p == hat::precision::int8 ? 1 : p == hat::precision::bf16 ? 2 : 4;
  const double scale = p == hat::precision::int8 ? 4 : 0;  // bytes per weight row
  double weights = static_cast<double>(vocab) * d, rows = static_cast<double>(vocab), floats = 0;
  for (std::size_t l = 0; l < c.decoder_layers(); ++l) {
    const double f = static_cast<double>(c.decoder_ffn[l]);
    weights += 3 * q * d + d * q + q * d + d * q + f * d + d * f;  // self- and enc-dec attention (K/V once), FFN
    rows += 3 * q + d + q + d + f + d;
    floats += 3 * q + d + q + d + f + d + 6 * d;  // biases, three LayerNorms
    floats += static_cast<double>(beam) * 2 * q * static_cast<double>(steps + 1) / 2;  // cache
  }
  return weights * wbytes + rows * scale + floats * 4;
}

}  // namespace

static int run(int argc, char** argv) {
  const auto args = hat_bench::parse_latency_args(argc, argv, {}, HAT_DEFAULT_CONFIG_DIR);
  if (!args.ok) {
    std::fprintf(stderr, "usage: %s [--threads N] [--precision fp32|bf16|int8] [--iters N] [--rounds N] [FILE.yml ...]\n",
                 argv[0]);
    return 2;
  }
  const int threads = args.threads, rounds = args.rounds;
  const std::size_t iters = args.iters;
  const std::vector<std::string>& files = args.files;
  hat::cpu::set_threads(threads);
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  std::printf("OpenBLAS kernels %s (OPENBLAS_CORETYPE=%s), threads %d; few-row kernel: %s, prefetching into %s\n",
              hat::cpu::blas_core().c_str(), coretype ? coretype : "unset", threads,
#ifdef HAT_FEW_ROWS_X86
              hat::detail::simd() == hat::detail::simd_level::avx512 ? "AVX-512"
              : hat::detail::simd() == hat::detail::simd_level::avx2 ? "AVX2"
                                                                     : "none (BLAS)"
#else
              "none (BLAS)"
#endif
              ,
#ifdef HAT_FEW_ROWS_X86
              hat::detail::prefetch_to_l2() ? "L2" : "L1"
#else
              "-"
#endif
  );
  const hat::precision precision = args.precision;
  const bool fp32 = precision == hat::precision::fp32;
  std::printf("medians of %d rounds x %zu timed runs; WMT'14 En-De, |V| = %zu, beam 5, L = 30; %s weights\n\n", rounds,
              iters, vocab, std::string(hat::precision_name(precision)).c_str());

  hat::cpu be, blas;
  blas.few_rows = false;
  model_t super(be, {vocab, vocab, hat::embedding_sharing::all});
  super.init_hat(be, 1);
  hat::cpu super_be = be;  // super's weights in the precision asked, converted once before any clock
  super_be.set_decode_precision(precision, super);
  hat::latency_options lo;
  lo.iters = iters;
  std::printf("| config | enc ms | dec ms | total ms | dense total | elastic overhead | OpenBLAS-only total | speed-up vs OpenBLAS "
              "| MB/step | ms/step | GB/s | triad GB/s | roofline (triad) | read GB/s | roofline (read) |\n"
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& file : files) {
    const auto a = file == "max" ? hat::arch<wmt_space>::largest() : hat::read_subtransformer_yaml<wmt_space>(file);
    const auto c = hat::config_of(a);
    const model_t dense = hat::export_dense(be, super, c);
    hat::cpu dense_be = be;
    dense_be.set_decode_precision(precision, dense);
    std::vector<double> enc, dec, tot, dtot, btot, overhead, speedup, triad, read, roof_triad, roof_read;
    const double mb = bytes_per_step(c, 5, 30, precision) / 1e6;
    for (int r = 0; r < rounds; ++r) {  // interleaved, so drift hits every variant alike
      const hat_bench::bandwidth bw = hat_bench::measure_bandwidth();
      // Super and dense take turns at going first: whichever ran right after the bandwidth
      // measurement (a cold last-level cache, freshly freed memory) would otherwise carry that
      // alone into the overhead column.
      hat::latency_result s, d;
      if (r % 2 == 0) {
        s = hat::measure_latency(super_be, super, c, lo);
        d = hat::measure_latency(dense_be, dense, c, lo);
      } else {
        d = hat::measure_latency(dense_be, dense, c, lo);
        s = hat::measure_latency(super_be, super, c, lo);
      }
      const auto b = fp32 ? hat::measure_latency(blas, super, c, lo) : hat::latency_result{};
      enc.push_back(s.encoder.mean_ms);
      dec.push_back(s.decoder.mean_ms);
      tot.push_back(s.total_ms());
      dtot.push_back(d.total_ms());
      btot.push_back(b.total_ms());
      overhead.push_back(s.total_ms() / d.total_ms() - 1.0);  // per round: drift cancels within a round
      speedup.push_back(b.total_ms() / s.total_ms());
      const double step_ms = s.decoder.mean_ms / 30.0;
      triad.push_back(bw.triad_gbs);
      read.push_back(bw.read_gbs);
      roof_triad.push_back(mb / bw.triad_gbs / step_ms);  // floor time / measured time (MB / GB/s = ms)
      roof_read.push_back(mb / bw.read_gbs / step_ms);
    }
    const double step_ms = median(dec) / 30.0;
    const std::string name = hat_bench::config_name(file);
    char blas_cols[64] = "- | -";  // not run at bf16 or int8
    if (fp32) std::snprintf(blas_cols, sizeof blas_cols, "%.1f | %.2fx", median(btot), median(speedup));
    std::printf("| %s | %.1f | %.1f | %.1f | %.1f | %+.1f %% | %s | %.0f | %.2f | %.1f | %.1f | %.0f %% | %.1f | %.0f %% |\n",
                name.c_str(), median(enc), median(dec), median(tot), median(dtot), 100.0 * median(overhead), blas_cols, mb,
                step_ms, mb / step_ms, median(triad), 100.0 * median(roof_triad), median(read), 100.0 * median(roof_read));
    std::fflush(stdout);
  }
  return 0;
}

int main(int argc, char** argv) { return hat_bench::table_main("table_cpu_latency", run, argc, argv); }
