// SPDX-License-Identifier: MIT
// Decoding on one thread against N (cpu::set_threads: the few-row products split their output
// columns across the worker pool), side by side in one process, the thread count alternating
// within every round so drift hits both alike:
//   1. the decoder's few-row products (beam 5 and greedy) at HAT's WMT shapes: GB/s of weights read;
//   2. HAT's latency protocol (WMT'14 En-De, |V| 32768, beam 5, L 30) on HAT's Xeon configs and the
//      space0 maximum: decoder and total ms.
// Ratios are medians of per-round ratios. The outputs are the same bits on any thread count
// (tests/nn/few_rows.cpp), so only time is compared.
//   table_cpu_threads [--threads N] [--rounds N] [--iters N] [FILE.yml ...]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/latency/measure.hpp>
#include <hat/space/hat_spaces.hpp>
#include <hat/space/random.hpp>
#include <hat/yaml/subtransformer.hpp>

namespace {

using wmt_space = hat::hat_wmt_space;
using model_t = hat::super_transformer_for<wmt_space, hat::cpu>;
constexpr std::size_t vocab = 32768;  // HAT's WMT'14 En-De joined dictionary

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

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

}  // namespace

static int run(int argc, char** argv) {
  int threads = 2, rounds = 3;
  std::size_t iters = 5;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (a == "--iters" && i + 1 < argc) iters = static_cast<std::size_t>(std::atoi(argv[++i]));
    else if (a == "--rounds" && i + 1 < argc) rounds = std::atoi(argv[++i]);
    else if (!a.empty() && a[0] == '-') {  // an unknown flag: the usage line below
      threads = 0;
      break;
    } else
      files.push_back(a);
  }
  if (threads < 2 || iters < 1 || rounds < 1) {
    std::fprintf(stderr, "usage: %s [--threads N (2 or more)] [--iters N] [--rounds N] [FILE.yml ...]\n", argv[0]);
    return 2;
  }
  if (files.empty()) {
    const std::filesystem::path dir = HAT_DEFAULT_CONFIG_DIR;
    if (std::filesystem::is_directory(dir))
      for (const auto& e : std::filesystem::directory_iterator(dir))
        if (e.path().filename().string().find("xeon") != std::string::npos) files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    files.push_back("max");
  }
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  std::printf("CPU %s, %u hardware threads; OpenBLAS kernels %s (OPENBLAS_CORETYPE=%s); 1 thread against %d; medians of %d rounds\n\n",
              cpu_model().c_str(), std::thread::hardware_concurrency(), hat::cpu::blas_core().c_str(),
              coretype ? coretype : "unset", threads, rounds);

  hat::cpu be;
  hat::rng g(1);
  struct shape {
    const char* name;
    std::size_t n, k;
  };
  const shape shapes[] = {{"decoder QKV projection", 1536, 512},
                          {"decoder fc1", 3072, 512},
                          {"decoder fc2", 512, 3072},
                          {"vocabulary projection", vocab, 512}};
  std::printf("| product | rows x out x in | MB | 1 thread GB/s | %d threads GB/s | speed-up |\n|---|---|---|---|---|---|\n",
              threads);
  for (const auto& s : shapes)
    for (std::size_t m : {std::size_t{5}, std::size_t{1}}) {
      std::vector<float> w(s.n * s.k), x(m * s.k), y(m * s.n);
      for (auto& v : w) v = static_cast<float>(g.uniform() - 0.5);
      for (auto& v : x) v = static_cast<float>(g.uniform() - 0.5);
      std::vector<double> one, many, ratio;
      for (int r = 0; r < rounds; ++r) {
        const bool one_first = r % 2 == 0;  // alternate the order too
        double t1 = 0, tn = 0;
        for (int pass = 0; pass < 2; ++pass) {
          const bool single = (pass == 0) == one_first;
          hat::cpu::set_threads(single ? 1 : threads);
          (single ? t1 : tn) = product_seconds(be, m, s.n, s.k, w, x, y);
        }
        one.push_back(t1);
        many.push_back(tn);
        ratio.push_back(t1 / tn);
      }
      const double mb = static_cast<double>(s.n * s.k * sizeof(float)) / 1e6;
      std::printf("| %s | %zu x %zu x %zu | %.1f | %.1f | %.1f | %.2fx |\n", s.name, m, s.n, s.k, mb,
                  mb / 1e3 / median(one), mb / 1e3 / median(many), median(ratio));
      std::fflush(stdout);
    }

  model_t super(be, {vocab, vocab, hat::embedding_sharing::all});
  super.init_hat(be, 1);
  hat::latency_options lo;
  lo.iters = iters;
  std::printf("\nHAT's latency protocol, %zu timed runs per measurement:\n\n", iters);
  std::printf("| config | 1 thread dec ms | %d threads dec ms | decoder speed-up | 1 thread total ms | %d threads total ms "
              "| total speed-up |\n|---|---|---|---|---|---|---|\n",
              threads, threads);
  for (const auto& file : files) {
    const auto a = file == "max" ? hat::arch<wmt_space>::largest() : hat::read_subtransformer_yaml<wmt_space>(file);
    const auto c = hat::config_of(a);
    std::vector<double> d1, dn, t1, tn, dr, tr;
    for (int r = 0; r < rounds; ++r) {
      const bool one_first = r % 2 == 0;
      hat::latency_result one{}, many{};
      for (int pass = 0; pass < 2; ++pass) {
        const bool single = (pass == 0) == one_first;
        hat::cpu::set_threads(single ? 1 : threads);
        (single ? one : many) = hat::measure_latency(be, super, c, lo);
      }
      d1.push_back(one.decoder.mean_ms);
      dn.push_back(many.decoder.mean_ms);
      t1.push_back(one.total_ms());
      tn.push_back(many.total_ms());
      dr.push_back(one.decoder.mean_ms / many.decoder.mean_ms);
      tr.push_back(one.total_ms() / many.total_ms());
    }
    const std::string name = file == "max" ? "space0 max" : std::filesystem::path(file).stem().string();
    std::printf("| %s | %.1f | %.1f | %.2fx | %.1f | %.1f | %.2fx |\n", name.c_str(), median(d1), median(dn), median(dr),
                median(t1), median(tn), median(tr));
    std::fflush(stdout);
  }
  return 0;
}

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {  // a config that does not read: its message, not a crash
    std::fprintf(stderr, "table_cpu_threads: %s\n", e.what());
    return 1;
  }
}
