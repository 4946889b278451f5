// SPDX-License-Identifier: MIT
// trainer: HAT's SuperTransformer training (one random SubTransformer per update) and SubTransformer training, resumable bit for bit.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <hat/backend/concepts.hpp>
#include <hat/backend/dropout_mask.hpp>
#include <hat/config.hpp>
#include <hat/data/parallel_corpus.hpp>
#include <hat/dist/communicator.hpp>
#include <hat/io/checksum.hpp>
#include <hat/nn/checkpoint.hpp>
#include <hat/nn/super_transformer.hpp>
#include <hat/nn/training_pass.hpp>
#include <hat/nn/transformer_config.hpp>
#include <hat/space/arch.hpp>
#include <hat/space/random.hpp>
#include <hat/space/transformer.hpp>
#include <hat/train/lr_schedule.hpp>
#include <hat/train/optimizer.hpp>
#include <hat/train/options.hpp>
#include <hat/train/update_record.hpp>

namespace hat {

/// Thrown when a loss or gradient stops being finite; the message names the update.
struct training_diverged : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Trains model (a SuperTransformer over space S, or any model of its maxima) on `train`.
/// Everything an update depends on is a function of (options, update count, data position),
/// so a run restored from a checkpoint written by save() continues exactly as the run that
/// wrote it would have, on the same backend and thread count.
///
/// Data-parallel (fairseq's distributed training): with a communicator of n ranks, an update
/// reads n x update_freq micro-batches of one global stream of batches, rank r the r-th run of
/// update_freq of them; the ranks sum their gradients, losses and token counts and take the
/// same Adam step, so every rank keeps the same weights. Each micro-batch's gradient is summed
/// into the update's as a whole, so 2 ranks with update_freq 1 give bit for bit what 1 rank with
/// update_freq 2 gives. The data position is global: a run resumes on any number of ranks.
template <transformer_space S, backend_policy Backend>
class trainer {
 public:
  using model_type = super_transformer_for<S, Backend>;
  using arch_type = arch<S>;

  /// `comm`: the ranks of data-parallel training (null: this process alone); it must outlive
  /// the trainer, and every rank constructs its trainer with the same options and corpus.
  trainer(Backend& be, model_type& model, const parallel_corpus& train, trainer_options o, communicator* comm = nullptr)
      : be_(be),
        model_(model),
        train_(train),
        o_(std::move(o)),
        comm_(comm ? comm : &this_process_alone()),
        adam_(model.size(), o_.adam),
        grad_(model.size()),
        corpus_(fingerprint_(train)) {
    if (train_.size() == 0) throw config_error("trainer: the training corpus is empty");
    if (o_.update_freq == 0) throw config_error("trainer: update_freq must be at least 1");
    if (training_precision_of(be_) != o_.products)
      throw config_error("trainer: the options train at " + std::string(precision_name(o_.products)) +
                         " but the backend's products are " + std::string(precision_name(training_precision_of(be_))) +
                         " (backend_training_at makes a CPU backend that trains at the options' precision)");
    // Converted decode weights are a snapshot of the weights training is about to change.
    if constexpr (requires { be.decode_precision(); })
      if (be.decode_precision() != precision::fp32)
        throw config_error("trainer: the backend reads " + std::string(precision_name(be.decode_precision())) +
                           " copies of the weights (set_decode_precision); training needs a backend without them");
    if (o_.sampling == sampling_rule::fixed) model_.check_config(o_.fixed);
    if (o_.update_freq > 1) micro_grad_ = typename Backend::template buffer<float>(model.size());
    if (comm_->size() > 1) {
      require_same_on_every_rank(*comm_, corpus_, "training corpus");
      // Every micro-batch of an update must be another batch of the epoch.
      const std::size_t per_epoch = epoch_batches(train_, o_.batching, 1).size(), wanted = comm_->size() * o_.update_freq;
      if (per_epoch < wanted)
        throw config_error("trainer: the corpus makes " + std::to_string(per_epoch) + " batches of " +
                           std::to_string(o_.batching.max_tokens) + " tokens per epoch, fewer than the " + std::to_string(wanted) +
                           " an update reads (" + std::to_string(comm_->size()) + " ranks x update-freq " +
                           std::to_string(o_.update_freq) + "): lower max-tokens, update-freq or the number of ranks");
    }
  }

  const trainer_options& options() const noexcept { return o_; }
  /// Whether the ranks sum the gradient in the backend's device memory (a GPU communicator on
  /// this backend's device: NCCL), rather than through a copy in host memory.
  bool sums_on_device() const noexcept {
    if constexpr (requires(Backend& b) { { b.runtime().device() } -> std::convertible_to<int>; })
      return comm_->cuda_device() >= 0 && comm_->cuda_device() == be_.runtime().device();
    else
      return false;
  }
  std::size_t updates() const noexcept { return updates_; }
  std::size_t epoch() const noexcept { return epoch_; }
  bool done() const noexcept { return updates_ >= o_.max_update; }
  const std::vector<update_record>& history() const noexcept { return history_; }

  /// The SubTransformers update `u` (0-based) trains.
  std::vector<transformer_config> configs_for(std::size_t u) const {
    switch (o_.sampling) {
      case sampling_rule::fixed:
        return {o_.fixed};
      case sampling_rule::sandwich:
        return {config_of(arch_type::largest()), config_of(arch_type::smallest()), config_of(random_arch(u))};
      case sampling_rule::hat_random:
        break;
    }
    return {config_of(random_arch(u))};
  }
  /// HAT's draw for update u: a generator seeded by the update count alone (so every worker,
  /// and a resumed run, draws the same).
  static arch_type random_arch(std::size_t u) {
    rng g(u);
    return arch_type::sample(g);
  }

  /// One optimiser update: update_freq micro-batches (on every rank) through every
  /// SubTransformer the rule gives, gradients summed and divided by the target tokens
  /// (fairseq's normalisation), clipped, then Adam at the schedule's rate for this update.
  /// Throws training_diverged when the loss or the gradient norm is not finite (the weights are
  /// left as before the update), on every rank alike; an error on one rank becomes rank_failed
  /// on all of them.
  update_record step() {
    const auto start = std::chrono::steady_clock::now();
    const std::vector<transformer_config> configs = configs_for(updates_);
    const std::size_t n = grad_.size(), ranks = comm_->size(), F = o_.update_freq;
    be_.fill(dense(grad_.data(), 1, n), 0.0f);
    loss_sums sum;
    std::size_t sentences = 0;
    const auto work = [&] {
      // Micro-batch j of the update's ranks x F is rank j / F's; the dropout masks follow j, so
      // they do not depend on how many ranks share the update.
      for (std::size_t j = 0; j < ranks * F; ++j) {
        const bool mine = j / F == comm_->rank();
        const corpus_batch* b = next_batch_(mine);
        if (!mine) continue;
        sentences += b->items.size();
        // The first micro-batch's gradient goes straight into grad_ (onto zeros: exact), every
        // other one into its own zeroed buffer and is then added whole: the same additions a
        // sum over ranks makes.
        float* g = grad_.data();
        if (j % F > 0) {
          be_.fill(dense(micro_grad_.data(), 1, n), 0.0f);
          g = micro_grad_.data();
        }
        loss_sums micro;
        for (std::size_t k = 0; k < configs.size(); ++k) {
          const std::uint64_t key = dropout_key(dropout_key(o_.seed, updates_), j * 16 + k);
          const loss_sums s =
              training_forward(be_, model_, configs[k], b->source, b->target, o_.label_smoothing, o_.dropout, key, tape_);
          training_backward(be_, model_, tape_, 1.0f, g, ws_);
          micro.loss += s.loss;
          micro.nll += s.nll;
          micro.tokens += s.tokens;
        }
        if (j % F > 0) be_.add(dense(micro_grad_.data(), 1, n), dense(grad_.data(), 1, n));
        sum.loss += micro.loss;
        sum.nll += micro.nll;
        sum.tokens += micro.tokens;
      }
    };
    if (ranks == 1) {
      work();
    } else {
      std::string error;
      try {
        work();
      } catch (const std::exception& e) {
        error = "update " + std::to_string(updates_ + 1) + ": " + e.what();
      }
      raise_if_any_failed(*comm_, error);
    }
    // A GPU communicator sums even a group of one (what a 1-GPU NCCL run checks); a host group of one has nothing to add.
    if (ranks > 1 || sums_on_device()) reduce_(sum, sentences);
    update_record r;
    r.update = updates_ + 1;
    r.tokens = sum.tokens;
    r.sentences = sentences;
    r.loss = sum.loss / static_cast<double>(sum.tokens) / std::log(2.0);
    r.nll = sum.nll / static_cast<double>(sum.tokens) / std::log(2.0);
    be_.scale(grad_.data(), grad_.size(), 1.0f / static_cast<float>(sum.tokens));
    r.grad_norm = adam_.clip(be_, grad_.data());
    if (!std::isfinite(r.loss) || !std::isfinite(r.grad_norm))
      throw training_diverged("training diverged at update " + std::to_string(r.update) + ": loss " + std::to_string(r.loss) +
                              ", gradient norm " + std::to_string(r.grad_norm) +
                              " (not finite); lower the learning rate or enable clip-norm");
    r.lr = std::visit([&](const auto& s) { return s(updates_); }, o_.schedule);
    adam_.step(be_, model_.data(), grad_.data(), r.lr);
    ++updates_;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // The history as a checkpoint keeps it (floats), so the loss curve written from it is the same
    // whether or not the run was resumed on the way.
    update_record kept = r;
    kept.loss = static_cast<float>(r.loss);
    kept.nll = static_cast<float>(r.nll);
    kept.lr = static_cast<float>(r.lr);
    kept.seconds = static_cast<float>(r.seconds);
    history_.push_back(kept);
    return r;
  }

  /// Writes the model and everything needed to resume (update count, data position, Adam's
  /// moments, the loss history), plus the caller's `more` values, to `path` atomically.
  void save(const std::filesystem::path& path, const checkpoint_extras& more = {}) const {
    checkpoint_extras x = more;
    x.values.insert(x.values.end(), {{"trainer", "1"},
                {"updates", std::to_string(updates_)},
                {"epoch", std::to_string(epoch_)},
                {"batch", std::to_string(position_)},
                {"adam_steps", std::to_string(adam_.steps())},
                {"corpus", corpus_}});
    if (o_.products != precision::fp32) x.values.emplace_back("products", std::string(precision_name(o_.products)));
    x.arrays.emplace_back("adam.m", adam_.first_moment(be_));
    x.arrays.emplace_back("adam.v", adam_.second_moment(be_));
    std::vector<float> h;
    for (const auto& r : history_)
      h.insert(h.end(), {static_cast<float>(r.loss), static_cast<float>(r.nll), static_cast<float>(r.lr),
                         static_cast<float>(r.tokens), static_cast<float>(r.seconds)});
    x.arrays.emplace_back("history", std::move(h));
    save_checkpoint(be_, model_, path, x);
  }

  /// Restores the state save() wrote (the model's weights come from load_checkpoint with the
  /// same extras). Throws config_error naming `file` when the state is missing or inconsistent.
  void restore(const checkpoint_extras& x, const std::string& file) {
    const auto number = [&](const char* key) -> std::size_t {
      const std::string* v = x.value(key);
      if (!v) throw config_error(file + ": no training state ('" + key + "'); it is a model checkpoint, not a training one");
      try {
        std::size_t used = 0;
        const unsigned long long n = std::stoull(*v, &used);
        if (used != v->size()) throw std::invalid_argument(*v);
        return static_cast<std::size_t>(n);
      } catch (const std::exception&) {
        throw config_error(file + ": training state '" + key + "' is not a count: '" + *v + "'");
      }
    };
    const std::size_t updates = number("updates"), epoch = number("epoch"), batch = number("batch"),
                      steps = number("adam_steps");
    // A state without the key is an fp32 run's (files from before bf16 training included).
    const std::string* products = x.value("products");
    const std::string theirs = products ? *products : "fp32";
    if (theirs != precision_name(o_.products))
      throw config_error(file + ": a training state of " + theirs + " products; this trainer's are " +
                         std::string(precision_name(o_.products)) + " (resume at the precision it was trained at)");
    if (const std::string* corpus = x.value("corpus"); corpus && *corpus != corpus_)
      throw config_error(file + ": the run was trained on other data (" + *corpus + "), not this corpus (" + corpus_ +
                         "): its data position would mean other batches");
    const std::vector<float>* m = x.array("adam.m");
    const std::vector<float>* v = x.array("adam.v");
    const std::vector<float>* h = x.array("history");
    if (!m || !v || !h) throw config_error(file + ": the training state lacks Adam's moments or the history");
    if (h->size() != 5 * updates) throw config_error(file + ": the loss history does not match the update count");
    adam_.restore(be_, *m, *v, steps);
    updates_ = updates;
    epoch_ = epoch;
    position_ = batch;
    batches_.clear();
    if (epoch_ > 0) batches_ = epoch_batches(train_, o_.batching, epoch_);
    if (position_ > batches_.size()) throw config_error(file + ": the data position is past the end of its epoch");
    history_.clear();
    for (std::size_t i = 0; i < updates; ++i) {
      update_record r;
      r.update = i + 1;
      r.loss = (*h)[5 * i];
      r.nll = (*h)[5 * i + 1];
      r.lr = (*h)[5 * i + 2];
      r.tokens = static_cast<std::size_t>((*h)[5 * i + 3]);
      r.seconds = (*h)[5 * i + 4];
      history_.push_back(r);
    }
  }

 private:
  // "<pairs> <FNV-1a of every id>": a resumed run must read the same batches.
  static std::string fingerprint_(const parallel_corpus& c) {
    std::uint64_t h = fnv1a("");
    for (const auto* side : {&c.source, &c.target})
      for (const auto& s : *side)
        h = fnv1a(std::string_view(reinterpret_cast<const char*>(s.data()), s.size() * sizeof(int)), h);
    return std::to_string(c.size()) + " pairs, " + std::to_string(h);
  }
  // The next batch of the global stream (epoch after epoch); made only where `mine` (another
  // rank's is only counted).
  const corpus_batch* next_batch_(bool mine) {
    if (epoch_ == 0 || position_ >= batches_.size()) {
      ++epoch_;
      batches_ = epoch_batches(train_, o_.batching, epoch_);
      position_ = 0;
    }
    const std::size_t at = position_++;
    if (!mine) return nullptr;
    batch_ = make_batch(train_, batches_[at]);
    return &batch_;
  }
  // The sums over the ranks: the gradient (on the GPU where the communicator sums device
  // memory, else through host memory), losses, tokens, sentences.
  void reduce_(loss_sums& sum, std::size_t& sentences) {
    const std::size_t n = grad_.size();
    if (sums_on_device()) {
      comm_->sum_device(grad_.data(), n);
    } else {
      host_grad_.resize(n);
      be_.download(grad_.data(), n, host_grad_.data());
      comm_->sum(std::span<float>(host_grad_));
      be_.upload(host_grad_.data(), n, grad_.data());
    }
    double losses[2] = {sum.loss, sum.nll};
    comm_->sum(std::span<double>(losses));
    std::uint64_t counts[2] = {sum.tokens, sentences};
    comm_->sum(std::span<std::uint64_t>(counts));
    sum.loss = losses[0];
    sum.nll = losses[1];
    sum.tokens = static_cast<std::size_t>(counts[0]);
    sentences = static_cast<std::size_t>(counts[1]);
  }

  Backend& be_;
  model_type& model_;
  const parallel_corpus& train_;
  trainer_options o_;
  communicator* comm_;
  adam<Backend, float> adam_;
  typename Backend::template buffer<float> grad_;
  typename Backend::template buffer<float> micro_grad_;  // update_freq > 1: one micro-batch's gradient
  std::vector<float> host_grad_;                         // ranks > 1: the gradient the ranks sum
  training_tape<Backend, float> tape_;
  model_workspace<Backend, float> ws_;
  std::size_t updates_ = 0, epoch_ = 0, position_ = 0;  // epoch 0: not started
  std::vector<std::vector<std::size_t>> batches_;
  corpus_batch batch_;
  std::vector<update_record> history_;
  std::string corpus_;  // fingerprint_(train_), recorded in checkpoints
};

/// fairseq's validation loss of SubTransformer `c` with the model's (inherited) weights: the
/// label-smoothed loss (eps) in base 2 per target token over the first `max_batches` batches
/// of `valid` in length order (0: all), as HAT's search fitness (validate_all in
/// HAT's fairseq/evolution.py). With a communicator of n ranks (collective), rank r scores the
/// batches r, r + n, ... and every rank gets the sums over all batches, added in batch order as
/// one process adds them: the same value to the bit.
template <class M, backend_policy Backend>
loss_sums validation_loss(Backend& be, const super_transformer<M, Backend, float>& model, const transformer_config& c,
                          const parallel_corpus& valid, std::size_t max_tokens, std::size_t max_batches, double eps = 0.1,
                          communicator* comm = nullptr) {
  batching_options o;
  o.max_tokens = max_tokens;
  o.shuffle = false;
  const auto batches = epoch_batches(valid, o, 1);
  const std::size_t n = max_batches == 0 ? batches.size() : std::min(max_batches, batches.size());
  const std::size_t ranks = comm ? comm->size() : 1, rank = comm ? comm->rank() : 0;
  model_workspace<Backend, float> ws;
  typename Backend::template buffer<float> logits;
  encoder_output<Backend, float> enc;
  std::vector<loss_sums> each(n);  // this rank's batches
  on_every_rank(comm ? *comm : this_process_alone(), [&] {
    for (std::size_t i = rank; i < n; i += ranks) {
      const corpus_batch b = make_batch(valid, batches[i]);
      each[i] = model.loss(be, c, b.source, b.target, eps, ws, logits, enc);
    }
  });
  if (ranks > 1) {  // every batch's sums to every rank: loss and nll as they are, tokens as counts
    std::vector<double> values(2 * n, 0.0);
    std::vector<std::uint64_t> tokens(n, 0);
    for (std::size_t i = rank; i < n; i += ranks) {
      values[2 * i] = each[i].loss;
      values[2 * i + 1] = each[i].nll;
      tokens[i] = each[i].tokens;
    }
    // one rank holds each entry, the others add zeros: exact (x + 0 == x)
    comm->sum(std::span<double>(values));
    comm->sum(std::span<std::uint64_t>(tokens));
    for (std::size_t i = 0; i < n; ++i) each[i] = {values[2 * i], values[2 * i + 1], static_cast<std::size_t>(tokens[i])};
  }
  loss_sums total;
  for (const loss_sums& s : each) {
    total.loss += s.loss;
    total.nll += s.nll;
    total.tokens += s.tokens;
  }
  return total;
}

/// A loss sum as fairseq prints it: base 2, per token.
inline double per_token_bits(double nats, std::size_t tokens) {
  return tokens ? nats / static_cast<double>(tokens) / std::log(2.0) : 0.0;
}

}  // namespace hat
