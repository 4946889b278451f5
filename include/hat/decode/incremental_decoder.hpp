// SPDX-License-Identifier: MIT
// incremental_decoder: one decoder step at a time, with a self-attention KV cache and enc-dec K/V computed once.
#pragma once

#include <cstddef>
#include <span>
#include <utility>  // std::swap
#include <vector>

#include <hat/backend/concepts.hpp>
#include <hat/config.hpp>
#include <hat/nn/super_transformer.hpp>

namespace hat {

/// Decodes `group` hypotheses per source sentence (a beam) step by step, as fairseq's
/// incremental_state does: each step embeds only the newest token at its position, appends
/// its self-attention K/V to a per-layer cache, and reads encoder-decoder K/V projected once
/// per *sentence* in begin() (the hypotheses of a sentence share them instead of holding
/// `group` copies). Every step ends with the vocabulary projection. Buffers are kept across
/// begin() calls, so a reused decoder allocates nothing.
template <class M, backend_policy Backend, class T = float>
class incremental_decoder {
 public:
  using model_type = super_transformer<M, Backend, T>;

  /// Prepares `enc.batch * group` hypotheses (hypothesis i belongs to sentence i / group) for
  /// up to `capacity` steps.
  void begin(Backend& be, const model_type& model, const transformer_config& c, const encoder_output<Backend, T>& enc,
             std::size_t group, std::size_t capacity) {
    c.template check<M>();
    HAT_ASSERT(group > 0 && capacity > 0 && capacity <= M::positions, "incremental_decoder: group and capacity must be > 0");
    model_ = &model;
    config_ = c;
    group_ = group;
    capacity_ = capacity;
    n_ = enc.batch * group;
    step_ = 0;
    const std::size_t layers = c.decoder_layers(), cache = n_ * capacity * 2 * M::qkv;
    cache_.resize(layers);
    spare_.resize(layers);
    memory_kv_.resize(layers);
    memory_padding_.resize(layers);
    memory_len_.resize(layers);
    for (std::size_t l = 0; l < layers; ++l) {
      detail::reserve<Backend, T>(cache_[l], cache);
      memory_len_[l] = model.memory(be, c, l, enc, ws_.memory, memory_padding_[l]);
      const std::size_t rows = enc.batch * memory_len_[l];
      const matrix_ref<T> kv = dense(detail::reserve<Backend, T>(memory_kv_[l], rows * 2 * M::qkv), rows, 2 * M::qkv);
      model.decoder(l).ende_attn().project(be, dense(static_cast<const T*>(ws_.memory.data()), rows, enc.dim), 1, 2, kv);
    }
  }

  std::size_t hypotheses() const noexcept { return n_; }
  std::size_t steps() const noexcept { return step_; }

  /// One step: `tokens` [hypotheses] host ids of the newest token of each hypothesis (at
  /// position steps()); logits [hypotheses, target vocab].
  void step(Backend& be, std::span<const int> tokens, matrix_ref<T> logits) {
    HAT_ASSERT(model_ && tokens.size() == n_, "incremental_decoder::step: one token per hypothesis, after begin()");
    HAT_ASSERT(step_ < capacity_, "incremental_decoder::step: more steps than the capacity given to begin()");
    const transformer_config& c = config_;
    const std::size_t d = c.decoder_embed_dim;
    matrix_ref<T> x = dense(detail::reserve<Backend, T>(ws_.x, n_ * d), n_, d);
    matrix_ref<T> y = dense(detail::reserve<Backend, T>(ws_.y, n_ * d), n_, d);
    positions_.assign(n_, static_cast<int>(step_));
    model_->target_embedding().forward(be, tokens, positions_, x);
    for (std::size_t l = 0; l < c.decoder_layers(); ++l) {
      const std::size_t tm = memory_len_[l];
      const step_memory<T> memory{
          dense(static_cast<const T*>(memory_kv_[l].data()), n_ / group_ * tm, 2 * M::qkv), tm, group_,
          memory_padding_[l].size() ? memory_padding_[l].data() : nullptr};
      model_->decoder(l).step(be, x, {cache_[l].data(), capacity_, step_}, memory, c.decoder_layer(l), y, ws_.layer);
      std::swap(x, y);
    }
    model_->project(be, x, logits);
    ++step_;
  }

  /// Beam bookkeeping: hypothesis i continues what hypothesis parents[i] (of the same
  /// sentence) decoded so far; copies the filled part of every self-attention cache.
  void reorder(Backend& be, std::span<const int> parents) {
    HAT_ASSERT(parents.size() == n_, "incremental_decoder::reorder: one parent per hypothesis");
    const std::size_t row = capacity_ * 2 * M::qkv;
    for (std::size_t l = 0; l < cache_.size(); ++l) {
      detail::reserve<Backend, T>(spare_[l], n_ * row);
      be.gather_rows(matrix_ref<const T>{cache_[l].data(), n_, step_ * 2 * M::qkv, row}, parents.data(),
                     matrix_ref<T>{spare_[l].data(), n_, step_ * 2 * M::qkv, row});
      std::swap(cache_[l], spare_[l]);
    }
  }

 private:
  const model_type* model_ = nullptr;
  transformer_config config_;
  std::size_t group_ = 1, capacity_ = 0, n_ = 0, step_ = 0;
  std::vector<typename Backend::template buffer<T>> cache_, spare_;  // per layer [n, capacity, 2 Q]
  std::vector<typename Backend::template buffer<T>> memory_kv_;     // per layer [batch tm, 2 Q]
  std::vector<typename Backend::template buffer<unsigned char>> memory_padding_;  // per layer [batch tm] or empty
  std::vector<std::size_t> memory_len_;
  std::vector<int> positions_;
  model_workspace<Backend, T> ws_;
};

}  // namespace hat
