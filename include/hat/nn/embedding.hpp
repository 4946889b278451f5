// SPDX-License-Identifier: MIT
// HAT's token embedding: sqrt(d) * E[token, :d] plus the super-width sinusoid cut to d (HAT's
// EmbeddingSuper and TransformerEncoder.forward in fairseq/models/transformer_super.py).
#pragma once

#include <cmath>
#include <cstddef>
#include <span>
#include <utility>
#include <vector>

#include <hat/backend/concepts.hpp>
#include <hat/config.hpp>
#include <hat/nn/paneled_matrix.hpp>
#include <hat/nn/parameter_list.hpp>

namespace hat {

/// fairseq's sinusoidal embedding of position `pos` (positions start at padding_idx + 1 = 2),
/// channel `c`, computed at the super width `max_dim`: sin in [0, max_dim/2), cos in
/// [max_dim/2, max_dim), frequency exp(-i ln(10000) / (max_dim/2 - 1)). A d-wide sub-layer reads
/// channels [0, d): a 512-wide SubTransformer of a 640-wide SuperTransformer gets 320 sin and
/// 192 cos channels, not a fresh 512-wide sinusoid (HAT's TransformerEncoder.forward slices
/// `positions[..., :sample_embed_dim]`).
inline double sinusoid(std::size_t pos, std::size_t c, std::size_t max_dim) noexcept {
  const std::size_t half = max_dim / 2;
  const std::size_t i = c < half ? c : c - half;
  const double freq = std::exp(-static_cast<double>(i) * std::log(10000.0) / static_cast<double>(half - 1));
  const double a = static_cast<double>(pos) * freq;
  return c < half ? std::sin(a) : std::cos(a);
}

/// fairseq's make_positions for a row-major batch [rows, cols] of token ids: the 0-based
/// position of each token among the non-padding tokens of its row (so left and right padding
/// give the same positions), -1 for padding.
inline std::vector<int> positions_of(std::span<const int> tokens, std::size_t rows, std::size_t cols, int padding_idx = 1) {
  HAT_ASSERT(tokens.size() == rows * cols, "positions_of: tokens must be [rows, cols]");
  std::vector<int> pos(tokens.size());
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0, n = 0; c < cols; ++c) {
      const bool pad = tokens[r * cols + c] == padding_idx;
      pos[r * cols + c] = pad ? -1 : static_cast<int>(n++);
    }
  return pos;
}

/// EmbeddingSuper plus positions: a table E [vocab, MaxDim] in the arena, of which a part of
/// width d reads E[:, :d] (the encoder and decoder may read one shared table at different
/// widths), scaled by sqrt(d) (the sampled width, not MaxDim), plus the sinusoid. The position
/// table [MaxPositions, MaxDim] is computed once into backend memory.
template <std::size_t MaxDim, std::size_t MaxPositions, backend_policy Backend, class T = float>
class elastic_embedding {
 public:
  static constexpr int padding_idx = 1;  // fairseq's <pad>: zero row, no position

  /// Declares the table "weight" [vocab, width] (width <= MaxDim: the maximum in a
  /// SuperTransformer, less in a dense exported model), columns paneled at `panel_choices`.
  static void declare(const parameter_scope& p, std::size_t vocab, std::size_t width,
                      std::span<const std::size_t> panel_choices = {}) {
    p.add("weight", {vocab, width}, parameter_init::vocabulary_table, panel_choices);
  }

  /// Takes the table declare() declared. The sinusoid is always computed at MaxDim, the super
  /// width.
  elastic_embedding(Backend& be, parameter_cursor<T>& c)
      : table_(c.take("weight").matrix()), vocab_(table_.rows()), width_(table_.cols()), positions_(MaxPositions * MaxDim) {
    HAT_ASSERT(width_ <= MaxDim, "elastic_embedding: table wider than the maximum");
    std::vector<T> host(MaxPositions * MaxDim);
    for (std::size_t p = 0; p < MaxPositions; ++p)
      for (std::size_t c = 0; c < MaxDim; ++c)
        host[p * MaxDim + c] = static_cast<T>(sinusoid(p + padding_idx + 1, c, MaxDim));
    be.upload(host.data(), host.size(), positions_.data());
  }
  elastic_embedding(Backend& be, parameter_cursor<T>&& c) : elastic_embedding(be, c) {}

  /// `table`: [vocab, width] in backend memory, columns in panels ending at `panels` (see
  /// paneled_matrix; one panel by default).
  elastic_embedding(Backend& be, T* table, std::size_t vocab, std::size_t width = MaxDim,
                    const std::vector<std::size_t>& panels = {})
      : elastic_embedding(be, parameter_cursor<T>(table, declared_layout<elastic_embedding>(vocab, width, std::span(panels)))) {
    HAT_ASSERT(panels.empty() || table_.bounds() == panels, "elastic_embedding: panels must end at the table width");
  }

  std::size_t vocab() const noexcept { return vocab_; }
  T* table() const noexcept { return table_.data(); }
  std::size_t width() const noexcept { return width_; }
  const paneled_matrix<T>& weights() const noexcept { return table_; }

  /// y [n, d] = sqrt(d) * E[tokens[i], :d] + sinusoid(first + i, :d) for host token ids [n]
  /// of one sentence without padding; `first` is the 0-based index of tokens[0] (> 0 when an
  /// incremental decoder embeds only its newest token).
  void forward(Backend& be, std::span<const int> tokens, std::size_t first, matrix_ref<T> y) const {
    std::vector<int> pos(tokens.size());
    for (std::size_t i = 0; i < pos.size(); ++i) pos[i] = static_cast<int>(first + i);
    for (int t : tokens) HAT_ASSERT(t != padding_idx, "elastic_embedding: padding in a sentence without padding");
    forward(be, tokens, pos, y);
  }

  /// The batched form: y [n, d] row i = sqrt(d) * E[tokens[i], :d] + sinusoid(pos[i], :d) for
  /// host arrays [n]; padding tokens (pos[i] < 0, see positions_of) give zero rows.
  void forward(Backend& be, std::span<const int> tokens, std::span<const int> pos, matrix_ref<T> y) const {
    HAT_ASSERT(y.cols <= width_ && tokens.size() == y.rows && pos.size() == y.rows,
               "elastic_embedding: y must be [tokens, d <= table width]");
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      const int t = tokens[i];
      HAT_ASSERT(t >= 0 && static_cast<std::size_t>(t) < vocab_, "elastic_embedding: token id out of range");
      HAT_ASSERT(pos[i] < static_cast<int>(MaxPositions), "elastic_embedding: sentence longer than MaxPositions");
      HAT_ASSERT((t == padding_idx) == (pos[i] < 0), "elastic_embedding: padding tokens and positions disagree");
    }
    const T scale = static_cast<T>(std::sqrt(static_cast<double>(y.cols)));
    for (std::size_t p = 0; p < table_.panels() && table_.panel_start(p) < y.cols; ++p) {
      const std::size_t s = table_.panel_start(p), w = (y.cols < table_.bounds()[p] ? y.cols : table_.bounds()[p]) - s;
      be.embedding_forward(table_.panel(p, 0, vocab_, w), tokens.data(), scale,
                           matrix_ref<const T>{positions_.data() + s, MaxPositions, w, MaxDim}, pos.data(),
                           matrix_ref<T>{y.data + s, y.rows, w, y.ld});
    }
  }

  /// The backward of forward(tokens, pos, y) given dy [n, d]: grad_table (laid out as the
  /// table, panels included) rows tokens[i] accumulate sqrt(d) dy[i, :d]; padding rows give nothing.
  void backward(Backend& be, std::span<const int> tokens, std::span<const int> pos, matrix_ref<const T> dy, T* grad_table) const {
    HAT_ASSERT(dy.cols <= width_ && tokens.size() == dy.rows && pos.size() == dy.rows,
               "elastic_embedding::backward: dy must be [tokens, d <= table width]");
    const T scale = static_cast<T>(std::sqrt(static_cast<double>(dy.cols)));
    const paneled_matrix<T> g = table_.on(grad_table);
    for (std::size_t p = 0; p < g.panels() && g.panel_start(p) < dy.cols; ++p) {
      const std::size_t s = g.panel_start(p), w = (dy.cols < g.bounds()[p] ? dy.cols : g.bounds()[p]) - s;
      be.embedding_backward(tokens.data(), pos.data(), scale, matrix_ref<const T>{dy.data + s, dy.rows, w, dy.ld},
                            g.panel(p, 0, vocab_, w));
    }
  }

 private:
  paneled_matrix<T> table_;  // [vocab, width_]
  std::size_t vocab_, width_;
  typename Backend::template buffer<T> positions_;  // [MaxPositions, MaxDim]
};

}  // namespace hat
