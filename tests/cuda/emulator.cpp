// SPDX-License-Identifier: MIT
// hat::cuda's kernels, launches and cuBLAS arguments, run by the host emulator, against hat::cpu:
// every primitive in float and double, the whole model and a few training updates.
#include <catch2/catch.hpp>

#include <hat/backend/cuda_emulator.hpp>
#include <hat/latency/measure.hpp>

#include "compare.hpp"

using namespace hat_test;

TEST_CASE("cuda emulator: every primitive matches the CPU backend", "[cuda][emulator]") {
  SECTION("float") { compare_with_cpu(run_scenario<hat::cuda_emulator>(scenario_id::primitives_float), scenario_id::primitives_float); }
  SECTION("double") {
    compare_with_cpu(run_scenario<hat::cuda_emulator>(scenario_id::primitives_double), scenario_id::primitives_double);
  }
  SECTION("float, 32 threads per block") {
    using wide = hat::basic_cuda<hat::cuda_detail::host_runtime<32>>;
    compare_with_cpu(run_scenario<wide>(scenario_id::primitives_float), scenario_id::primitives_float);
  }
}

TEST_CASE("cuda emulator: the whole model (loss, gradient, decoding, beam search) matches the CPU", "[cuda][emulator]") {
  compare_with_cpu(run_scenario<hat::cuda_emulator>(scenario_id::model), scenario_id::model);
}

TEST_CASE("cuda emulator: training updates match the CPU and repeat exactly", "[cuda][emulator]") {
  const results first = run_scenario<hat::cuda_emulator>(scenario_id::training);
  compare_with_cpu(first, scenario_id::training);
  compare(run_scenario<hat::cuda_emulator>(scenario_id::training), first, 0, 0);  // no atomics: the same bits every run
}

TEST_CASE("cuda emulator: what a GPU would refuse is refused", "[cuda][emulator]") {
  CHECK_THROWS_AS(hat::cuda_emulator(1), hat::cuda_error);  // no such device
  hat::cuda_emulator be;
  hat::cuda_emulator::buffer<float> a(64), c(16);
  // A leading dimension below the row width is not a matrix cuBLAS accepts.
  CHECK_THROWS_AS(be.gemm(hat::matrix_ref<const float>{a.data(), 4, 8, 4}, hat::op::none,
                          hat::matrix_ref<const float>{a.data(), 4, 8, 8}, hat::op::transpose, hat::dense(c.data(), 4, 4),
                          1.0f, 0.0f),
                  hat::cuda_error);
  // Attention over more keys than shared memory holds fails loudly rather than corrupting memory.
  hat::attention_shape s;
  s.tk = s.kv_stride = 20000;
  hat::cuda_emulator::buffer<float> q(4), k(4 * 20000), ctx(4), scratch(20000);
  CHECK_THROWS_AS(be.attention_forward(s, hat::dense<const float>(q.data(), 1, 4), hat::dense<const float>(k.data(), 20000, 4),
                                       hat::dense<const float>(k.data(), 20000, 4), nullptr, hat::dense(ctx.data(), 1, 4),
                                       scratch.data()),
                  hat::cuda_error);
}

namespace {
/// The emulator with a device clock that always reads 2.5 ms: measure_latency must use it
/// (on hat::cuda that clock is CUDA events, HAT's GPU protocol) instead of the wall clock.
struct fixed_clock : hat::cuda_emulator {
  int timed = 0;
  template <class F>
  double elapsed_ms(F&& f) {
    f();
    ++timed;
    return 2.5;
  }
};
}  // namespace

TEST_CASE("measure_latency times with the backend's device clock where it has one", "[cuda][emulator][latency]") {
  fixed_clock be;
  hat::super_transformer<gpu_tiny, fixed_clock> model(be, {17, 17, hat::embedding_sharing::all});
  model.init_hat(be, 1);
  hat::latency_options lo;
  lo.source_length = 4, lo.beam = 2, lo.warmup = 1, lo.iters = 3;
  const auto r = hat::measure_latency(be, model, scenario::tiny_archs()[1], lo);
  CHECK(be.timed == 6);  // every timed encoder forward and decoder loop, nothing else
  CHECK(r.encoder.mean_ms == 2.5);
  CHECK(r.decoder.mean_ms == 2.5);
}
