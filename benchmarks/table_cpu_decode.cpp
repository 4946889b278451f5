// SPDX-License-Identifier: MIT
// Decoding: the baseline (1 thread, fp32 weights) against a variant (--threads N: the few-row
// products split their output columns across the worker pool; --precision bf16|int8: they read a
// bf16 or int8 copy of the weights, cpu::set_decode_precision), side by side in one process, baseline and
// variant alternating within every round so drift hits both alike:
//   1. the decoder's few-row products (beam 5 and greedy) at HAT's WMT shapes: GB/s of the bytes
//      each side reads;
//   2. HAT's latency protocol (WMT'14 En-De, |V| 32768, beam 5, L 30) on HAT's Xeon configs and the
//      space0 maximum: decoder and total ms.
// Ratios are medians of per-round ratios. Threads give the same bits as one thread
// (tests/nn/few_rows.cpp); bf16 and int8 are held to fp32 in tests/nn/decode_precision.cpp.
//   table_cpu_decode [--threads N] [--precision fp32|bf16|int8] [--rounds N] [--iters N] [FILE.yml ...]
//   (defaults: --threads 2 --precision fp32)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/latency/measure.hpp>
#include <hat/nn/parameter_list.hpp>
#include <hat/space/hat_spaces.hpp>
#include <hat/space/random.hpp>
#include <hat/yaml/subtransformer.hpp>

#include "support/latency_args.hpp"
#include "support/median.hpp"
#include "support/table_main.hpp"

namespace {

using hat_bench::median;

using wmt_space = hat::hat_wmt_space;
using model_t = hat::super_transformer_for<wmt_space, hat::cpu>;
constexpr std::size_t vocab = 32768;  // HAT's WMT'14 En-De joined dictionary

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

// Seconds per product y [m, n] = x [m, k] W^T through cpu::gemm, best of a few repetitions.
double product_seconds(const hat::cpu& be, std::size_t m, std::size_t n, std::size_t k, const std::vector<float>& w,
                       const std::vector<float>& x, std::vector<float>& y) {
  const int inner = n * k >= (std::size_t{8} << 20) ? 5 : 40;
  double best = 1e30;
  for (int r = 0; r < 5; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < inner; ++i)
      be.gemm(hat::matrix_ref<const float>(hat::dense(x.data(), m, k)), hat::op::none,
              hat::matrix_ref<const float>(hat::dense(w.data(), n, k)), hat::op::transpose, hat::dense(y.data(), m, n),
              1.0f, 0.0f);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / inner);
  }
  return best;
}

// A weight [n, k] as a model of one matrix (set_decode_precision's int8 reads the list).
struct one_matrix {
  const std::vector<float>& w;
  std::vector<hat::parameter_info> info;
  one_matrix(const std::vector<float>& weights, std::size_t n, std::size_t k)
      : w(weights), info{{"w", 0, {n, k}, {}, hat::parameter_init::zero}} {}
  const float* data() const noexcept { return w.data(); }
  std::size_t size() const noexcept { return w.size(); }
  const std::vector<hat::parameter_info>& parameters() const noexcept { return info; }
};

}  // namespace

static int run(int argc, char** argv) {
  hat_bench::latency_args defaults;
  defaults.threads = 2;
  defaults.iters = 5;
  const auto args = hat_bench::parse_latency_args(argc, argv, defaults, HAT_DEFAULT_CONFIG_DIR);
  const hat::precision precision = args.precision;
  if (!args.ok || (args.threads == 1 && precision == hat::precision::fp32)) {
    std::fprintf(stderr, "usage: %s [--threads N] [--precision fp32|bf16|int8] [--iters N] [--rounds N] [FILE.yml ...]\n"
                         "(the variant must differ from the baseline: 1 thread, fp32)\n", argv[0]);
    return 2;
  }
  const int threads = args.threads, rounds = args.rounds;
  const std::size_t iters = args.iters;
  const std::vector<std::string>& files = args.files;
  const std::string variant = std::to_string(threads) + (threads == 1 ? " thread " : " threads ") +
                              std::string(hat::precision_name(precision));
  const double bytes_per_weight = precision == hat::precision::bf16 ? 2.0 : precision == hat::precision::int8 ? 1.0 : 4.0;
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  std::printf("CPU %s, %u hardware threads; OpenBLAS kernels %s (OPENBLAS_CORETYPE=%s); 1 thread fp32 against %s; "
              "medians of %d rounds\n\n",
              cpu_model().c_str(), std::thread::hardware_concurrency(), hat::cpu::blas_core().c_str(),
              coretype ? coretype : "unset", variant.c_str(), rounds);

  hat::cpu base;
  hat::rng g(1);
  struct shape {
    const char* name;
    std::size_t n, k;
  };
  const shape shapes[] = {{"decoder QKV projection", 1536, 512},
                          {"decoder fc1", 3072, 512},
                          {"decoder fc2", 512, 3072},
                          {"vocabulary projection", vocab, 512}};
  // Runs f(backend) once as the baseline and once as the variant, in the order of round r.
  const auto both = [&](int r, const hat::cpu& variant_be, auto&& f) {
    double t_base = 0, t_variant = 0;
    for (int pass = 0; pass < 2; ++pass) {
      const bool baseline = (pass == 0) == (r % 2 == 0);
      hat::cpu::set_threads(baseline ? 1 : threads);
      (baseline ? t_base : t_variant) = f(baseline ? base : variant_be);
    }
    return std::pair{t_base, t_variant};
  };
  std::printf("| product | rows x out x in | fp32 MB | 1 thread fp32 GB/s | %s GB/s | speed-up |\n|---|---|---|---|---|---|\n",
              variant.c_str());
  for (const auto& s : shapes)
    for (std::size_t m : {std::size_t{5}, std::size_t{1}}) {
      std::vector<float> w(s.n * s.k), x(m * s.k), y(m * s.n);
      for (auto& v : w) v = static_cast<float>(g.uniform() - 0.5);
      for (auto& v : x) v = static_cast<float>(g.uniform() - 0.5);
      hat::cpu variant_be;
      variant_be.set_decode_precision(precision, one_matrix{w, s.n, s.k});  // w is its own arena here
      std::vector<double> one, many, ratio;
      for (int r = 0; r < rounds; ++r) {
        const auto [t1, tn] = both(r, variant_be, [&](const hat::cpu& be) { return product_seconds(be, m, s.n, s.k, w, x, y); });
        one.push_back(t1);
        many.push_back(tn);
        ratio.push_back(t1 / tn);
      }
      const double mb = static_cast<double>(s.n * s.k * sizeof(float)) / 1e6;
      std::printf("| %s | %zu x %zu x %zu | %.1f | %.1f | %.1f | %.2fx |\n", s.name, m, s.n, s.k, mb, mb / 1e3 / median(one),
                  mb * bytes_per_weight / 4.0 / 1e3 / median(many), median(ratio));
      std::fflush(stdout);
    }

  model_t super(base, {vocab, vocab, hat::embedding_sharing::all});
  super.init_hat(base, 1);
  hat::cpu variant_be;
  variant_be.set_decode_precision(precision, super);  // converted once, before any clock
  hat::latency_options lo;
  lo.iters = iters;
  std::printf("\nHAT's latency protocol, %zu timed runs per measurement:\n\n", iters);
  std::printf("| config | 1 thread fp32 dec ms | %s dec ms | decoder speed-up | 1 thread fp32 total ms | %s total ms "
              "| total speed-up |\n|---|---|---|---|---|---|---|\n",
              variant.c_str(), variant.c_str());
  for (const auto& file : files) {
    const auto a = file == "max" ? hat::arch<wmt_space>::largest() : hat::read_subtransformer_yaml<wmt_space>(file);
    const auto c = hat::config_of(a);
    std::vector<double> d1, dn, t1, tn, dr, tr;
    for (int r = 0; r < rounds; ++r) {
      hat::latency_result one{}, many{};
      both(r, variant_be, [&](const hat::cpu& be) {
        hat::cpu run = be;
        (&be == &base ? one : many) = hat::measure_latency(run, super, c, lo);
        return 0.0;
      });
      d1.push_back(one.decoder.mean_ms);
      dn.push_back(many.decoder.mean_ms);
      t1.push_back(one.total_ms());
      tn.push_back(many.total_ms());
      dr.push_back(one.decoder.mean_ms / many.decoder.mean_ms);
      tr.push_back(one.total_ms() / many.total_ms());
    }
    const std::string name = hat_bench::config_name(file);
    std::printf("| %s | %.1f | %.1f | %.2fx | %.1f | %.1f | %.2fx |\n", name.c_str(), median(d1), median(dn), median(dr),
                median(t1), median(tn), median(tr));
    std::fflush(stdout);
  }
  return 0;
}

int main(int argc, char** argv) { return hat_bench::table_main("table_cpu_decode", run, argc, argv); }
