// SPDX-License-Identifier: MIT
// The trainer's gradient sum in device memory (communicator::sum_device: an NCCL all-reduce on a
// GPU), run on the CUDA emulator with ranks as threads, each rank its own emulated GPU: the same
// results as one rank, bit for bit, and no copy of the gradient through host memory. NCCL itself
// runs in test_cuda (tests/cuda/nccl.cu) where there is a GPU.
#include <catch2/catch.hpp>

#include <cstddef>
#include <vector>

#include <hat/backend/cuda_emulator.hpp>
#include <hat/train/trainer.hpp>

#include "reverse_task.hpp"
#include "thread_ranks.hpp"

namespace {

using trainer_t = hat::trainer<hat_test::reverse_space, hat::cuda_emulator>;
const hat::vocabulary_sizes vocab{hat_test::reverse_vocab, hat_test::reverse_vocab, hat::embedding_sharing::all};

struct run_result {
  std::vector<float> weights;
  std::vector<double> losses;
  std::vector<std::size_t> device_sums;  // per rank
  bool on_device = false;
};

// `ranks` threads with update_freq F, each rank's communicator summing `device` memory (-1: host
// memory only); with `alone`, one rank trains with no communicator at all.
run_result train(std::size_t ranks, std::size_t F, int device, bool alone = false) {
  const auto data = hat_test::reverse_task(80, 1);
  std::vector<run_result> each(ranks);
  hat_test::on_threads(
      ranks,
      [&](std::size_t r, hat_test::thread_rank& comm) {
        hat::cuda_emulator be;
        trainer_t::model_type model(be, vocab);
        model.init_hat(be, 3);
        const hat::trainer_options o = hat_test::reverse_options(F, 2);
        trainer_t t(be, model, data, o, alone ? nullptr : &comm);
        each[r].on_device = t.sums_on_device();
        while (!t.done()) each[r].losses.push_back(t.step().loss);
        each[r].weights.resize(model.size());
        be.download(model.data(), model.size(), each[r].weights.data());
        each[r].device_sums = {comm.device_sums};
      },
      device);
  for (std::size_t r = 1; r < ranks; ++r) REQUIRE(each[r].weights == each[0].weights);
  for (std::size_t r = 1; r < ranks; ++r) each[0].device_sums.push_back(each[r].device_sums[0]);
  return each[0];
}

}  // namespace

TEST_CASE("cuda emulator: ranks summing the gradient in device memory equal one rank, bit for bit", "[cuda][emulator][dist]") {
  const run_result one = train(1, 2, -1, true);
  CHECK_FALSE(one.on_device);

  const run_result two = train(2, 1, 0);  // each update: one sum_device per rank, no host copy
  CHECK(two.on_device);
  CHECK(two.device_sums == std::vector<std::size_t>{2, 2});
  CHECK(two.losses == one.losses);
  CHECK(two.weights == one.weights);

  // A group of one on a GPU communicator still sums (the path a 1-GPU NCCL run takes): unchanged results.
  const run_result single = train(1, 2, 0);
  CHECK(single.device_sums == std::vector<std::size_t>{2});
  CHECK(single.weights == one.weights);

}

TEST_CASE("cuda emulator: a communicator of another device sums through host memory", "[cuda][emulator][dist]") {
  hat_test::on_threads(
      1,
      [](std::size_t, hat_test::thread_rank& comm) {
        hat::cuda_emulator be;
        trainer_t::model_type model(be, vocab);
        const hat::parallel_corpus data = hat_test::reverse_task(8, 1);
        const trainer_t t(be, model, data, hat_test::reverse_options(1, 1), &comm);
        CHECK_FALSE(t.sums_on_device());  // device 1, the backend's is 0
      },
      1);
}
