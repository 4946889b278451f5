// SPDX-License-Identifier: MIT
// hat::nccl_communicator on real GPUs: the trainer's gradient summed by NCCL on hat::cuda's stream.
#include <hat/backend/cuda.hpp>
#include <hat/backend/cuda/nccl.hpp>
#include <hat/train/trainer.hpp>

#include <algorithm>
#include <cmath>
#include <optional>

#include "nccl_runs.hpp"
#include "reverse_task.hpp"
#include "thread_ranks.hpp"

namespace hat_test {

gpu_training_run gpu_training(std::size_t gpus, std::size_t F, bool nccl) {
  using trainer_t = hat::trainer<reverse_space, hat::cuda>;
  const auto data = reverse_task(80, 1);
  std::vector<gpu_training_run> each(gpus);
  on_threads(gpus, [&](std::size_t r, thread_rank& host) {
    hat::cuda be(static_cast<int>(r));
    trainer_t::model_type model(be, {reverse_vocab, reverse_vocab, hat::embedding_sharing::all});
    model.init_hat(be, 3);
    const hat::trainer_options o = reverse_options(F, 3);
    std::optional<hat::nccl_communicator> gpu_comm;
    if (nccl) gpu_comm.emplace(host, be);
    hat::communicator* comm = nccl ? static_cast<hat::communicator*>(&*gpu_comm) : gpus > 1 ? &host : nullptr;
    trainer_t t(be, model, data, o, comm);
    each[r].sums_on_device = t.sums_on_device();
    while (!t.done()) each[r].losses.push_back(t.step().loss);
    each[r].weights.resize(model.size());
    be.download(model.data(), model.size(), each[r].weights.data());
  });
  for (std::size_t r = 1; r < gpus; ++r)
    if (each[r].weights != each[0].weights) throw std::runtime_error("gpu_training: the ranks' weights differ");
  return each[0];
}

double nccl_sum_error(std::size_t gpus, std::size_t n) {
  std::vector<double> worst(gpus, 0.0);
  on_threads(gpus, [&](std::size_t r, thread_rank& host) {
    hat::cuda be(static_cast<int>(r));
    hat::cuda::buffer<float> v(n);
    std::vector<float> x(n);
    for (std::size_t i = 0; i < n; ++i) x[i] = static_cast<float>(r + 1) + static_cast<float>(i) / static_cast<float>(n);
    be.upload(x.data(), n, v.data());
    hat::nccl_communicator comm(host, be);
    comm.sum_device(v.data(), n);
    be.download(v.data(), n, x.data());
    for (std::size_t i = 0; i < n; ++i) {
      double exact = 0;
      for (std::size_t k = 0; k < gpus; ++k) exact += static_cast<double>(static_cast<float>(k + 1) + static_cast<float>(i) / static_cast<float>(n));
      worst[r] = std::max(worst[r], std::abs(static_cast<double>(x[i]) - exact));
    }
  });
  return *std::max_element(worst.begin(), worst.end());
}

std::string loaded_nccl_version() { return hat::nccl_version(); }

}  // namespace hat_test
