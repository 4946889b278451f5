// SPDX-License-Identifier: MIT
// super_transformer: HAT's weight-shared encoder-decoder in one arena; any SubTransformer runs on its slices.
#pragma once

#include <cmath>
#include <cstddef>
#include <algorithm>  // std::max, std::fill
#include <cstdint>
#include <span>
#include <string>
#include <utility>  // std::swap
#include <vector>

#include <hat/backend/concepts.hpp>
#include <hat/config.hpp>
#include <hat/nn/embedding.hpp>
#include <hat/nn/paneled_matrix.hpp>
#include <hat/nn/parameter_list.hpp>
#include <hat/data/token_batch.hpp>
#include <hat/nn/transformer_config.hpp>
#include <hat/nn/transformer_layers.hpp>
#include <hat/space/random.hpp>
#include <hat/tensor/arena.hpp>

namespace hat {

/// Which vocabulary tables exist: `all` = one joined table for encoder input, decoder input
/// and output projection (HAT's WMT tasks: `share-all-embeddings` in their supertransformer
/// configs); `decoder` = a source table and one target table used for decoder input and output;
/// `none` = source table, target table and a separate output projection `embed_out` (HAT's
/// IWSLT task).
enum class embedding_sharing { all, decoder, none };

/// The name files give an embedding sharing: "all", "decoder", "none".
inline const char* sharing_name(embedding_sharing s) {
  return s == embedding_sharing::all ? "all" : s == embedding_sharing::decoder ? "decoder" : "none";
}

struct vocabulary_sizes {
  std::size_t source = 0;
  std::size_t target = 0;
  embedding_sharing sharing = embedding_sharing::all;
};

/// How a model stores its weights: at the maxima (a SuperTransformer, every SubTransformer a
/// slice of it) or at one SubTransformer's own sizes (a dense exported model, which holds
/// only the slices that SubTransformer reads and runs it, or anything smaller, unchanged).
struct model_storage {
  bool dense = false;
  transformer_config arch;  // the stored sizes when dense

  static model_storage super() { return {}; }
  static model_storage dense_for(transformer_config c) { return {true, std::move(c)}; }
};

/// What encode() returns: every super layer's output (identity layers repeat their input, as
/// HAT's encoder_out_all does), sentence-major [batch time, d_enc], and the padding mask.
template <backend_policy Backend, class T = float>
struct encoder_output {
  std::size_t batch = 0, time = 0, dim = 0;
  std::vector<typename Backend::template buffer<T>> layers;  // one per *active* layer: [batch time, d]
  std::vector<std::size_t> layer_of;                         // super layer -> index into layers
  std::vector<unsigned char> host_padding;                   // [batch time], 1 = padding
  typename Backend::template buffer<unsigned char> padding;  // the same in backend memory (empty: none)

  /// Super layer l's output (l counts from 0; identity layers give the last active output).
  matrix_ref<const T> out(std::size_t l) const {
    return dense(static_cast<const T*>(layers[layer_of[l]].data()), batch * time, dim);
  }
  const unsigned char* padding_mask() const noexcept { return padding.size() ? padding.data() : nullptr; }
};

/// fairseq's label-smoothed loss and NLL summed over a batch's target tokens, in nats, and the
/// token count: divide by tokens and ln 2 for what fairseq prints (HAT's fitness).
struct loss_sums {
  double loss = 0, nll = 0;
  std::size_t tokens = 0;
};

/// Scratch of the model's forward passes; one per concurrent caller.
template <backend_policy Backend, class T = float>
struct model_workspace {
  layer_workspace<Backend, T> layer;
  typename Backend::template buffer<T> x, y, memory;
  typename Backend::template buffer<unsigned char> memory_padding;
};

/// HAT's SuperTransformer (TransformerSuperModel in HAT's fairseq/models/transformer_super.py):
/// encoder and decoder of M::encoder_layers / M::decoder_layers post-norm layers at the widths
/// M gives, weights in one arena laid out in the order parameters() lists (fairseq's names, as
/// each layer's declare() gives them). A SubTransformer (transformer_config) runs on corner
/// slices of them; layers past its layer count are identity.
template <class M, backend_policy Backend, class T = float>
class super_transformer {
 public:
  using maxima = M;
  using embedding_type = elastic_embedding<M::embed, M::positions, Backend, T>;
  using encoder_layer_type = encoder_layer<M::embed, M::encoder_ffn, M::qkv, Backend, T>;
  using decoder_layer_type = decoder_layer<M::embed, M::decoder_ffn, M::qkv, Backend, T>;
  /// Every super parameter but the vocabulary tables: a compile-time constant of the maxima.
  static constexpr std::size_t layer_param_count =
      M::encoder_layers * encoder_layer_type::param_count + M::decoder_layers * decoder_layer_type::param_count;
  static_assert(encoder_layer_type::params_for(M::embed, M::encoder_ffn) == encoder_layer_type::param_count);

  /// Parameters of a model with vocabulary v stored as s.
  static std::size_t param_count(const vocabulary_sizes& v, const model_storage& s = {}) {
    return count_(layout_(v, s));
  }

  /// Every layer takes its tensors, in the order the layout declared them, through one cursor
  /// over the arena: offsets come from the declarations, never from searching names.
  super_transformer(Backend& be, vocabulary_sizes v, model_storage s = {})
      : vocab_(check_(v)), storage_(check_storage_(std::move(s))), info_(layout_(v, storage_)), params_(count_(info_)) {
    T* base = params_.data();
    for (const auto& p : info_) HAT_ASSERT(params_.take(p.size()) == base + p.offset, "super_transformer: arena layout");
    parameter_cursor<T> c(base, info_);
    source_offset_ = target_offset_ = c.offset();
    src_embed_.emplace_back(be, c / "encoder.embed_tokens.");
    if (v.sharing != embedding_sharing::all) {
      target_offset_ = c.offset();
      tgt_embed_.emplace_back(be, c / "decoder.embed_tokens.");
    }
    output_offset_ = target_offset_;
    out_table_ = target_embedding().weights();
    if (v.sharing == embedding_sharing::none) {
      output_offset_ = c.offset();
      out_table_ = c.take("decoder.embed_out").matrix();
    }
    for (std::size_t l = 0; l < encoder_layers_(storage_); ++l) {
      encoder_offsets_.push_back(c.offset());
      encoder_.emplace_back(c / layer_name_("encoder", l));
    }
    for (std::size_t l = 0; l < decoder_layers_(storage_); ++l) {
      decoder_offsets_.push_back(c.offset());
      decoder_.emplace_back(c / layer_name_("decoder", l));
    }
    HAT_ASSERT(c.done(), "super_transformer: a declared parameter that no layer takes");
  }

  const model_storage& storage() const noexcept { return storage_; }
  const vocabulary_sizes& vocabulary() const noexcept { return vocab_; }
  /// Every parameter tensor, in arena order.
  const std::vector<parameter_info>& parameters() const noexcept { return info_; }
  T* data() noexcept { return params_.data(); }
  const T* data() const noexcept { return params_.data(); }
  std::size_t size() const noexcept { return params_.size(); }
  /// A parameter by its fairseq name; throws config_error when there is none.
  const parameter_info& parameter(const std::string& name) const { return find_(info_, name); }

  /// Sets a parameter from host values in PyTorch's layout (row-major over its shape),
  /// wherever its panels put them. Throws config_error on an unknown name or a wrong size.
  void set_parameter(Backend& be, const std::string& name, std::span<const T> values) {
    const parameter_info& p = find_(info_, name);
    if (values.size() != p.size())
      throw config_error("super_transformer: '" + name + "' has " + std::to_string(p.size()) + " values, not " +
                         std::to_string(values.size()));
    std::vector<T> stored(p.size());
    for (std::size_t i = 0; i < p.size(); ++i) stored[p.index(i)] = values[i];
    be.upload(stored.data(), stored.size(), params_.data() + p.offset);
  }
  /// A parameter's values on the host, in PyTorch's layout.
  std::vector<T> parameter_values(Backend& be, const std::string& name) const {
    const parameter_info& p = find_(info_, name);
    std::vector<T> stored(p.size()), out(p.size());
    be.download(params_.data() + p.offset, p.size(), stored.data());
    for (std::size_t i = 0; i < p.size(); ++i) out[i] = stored[p.index(i)];
    return out;
  }
  /// Where encoder / decoder layer l's parameters start in the arena (the layout of a
  /// gradient of the same shape).
  std::size_t encoder_offset(std::size_t l) const { return encoder_offsets_.at(l); }
  std::size_t decoder_offset(std::size_t l) const { return decoder_offsets_.at(l); }
  /// Where the source table, the target table (decoder input) and the output projection start.
  std::size_t source_table_offset() const noexcept { return source_offset_; }
  std::size_t target_table_offset() const noexcept { return target_offset_; }
  std::size_t output_table_offset() const noexcept { return output_offset_; }
  const encoder_layer_type& encoder(std::size_t l) const { return encoder_.at(l); }
  const decoder_layer_type& decoder(std::size_t l) const { return decoder_.at(l); }
  const embedding_type& source_embedding() const noexcept { return src_embed_.front(); }
  const embedding_type& target_embedding() const noexcept {
    return vocab_.sharing == embedding_sharing::all ? src_embed_.front() : tgt_embed_.front();
  }
  /// The output projection's table [target vocab, width] (no bias).
  const paneled_matrix<T>& output_table() const noexcept { return out_table_; }

  /// HAT's initialisation (build_init, fairseq/init.py): Xavier-uniform on every full super
  /// weight matrix (in_proj, out_proj, fc1, fc2), zero biases, N(0, embed^-1/2) vocabulary tables with a zero
  /// padding row, LayerNorm gamma 1 and beta 0. Deterministic by seed.
  void init_hat(Backend& be, std::uint64_t seed) {
    std::vector<T> host(params_.size());
    rng g(seed);
    std::vector<T> logical;
    for (const auto& p : info_) {
      logical.assign(p.size(), T(0));
      T* dst = logical.data();
      switch (p.init) {
        case parameter_init::vocabulary_table: {
          const double sd = 1.0 / std::sqrt(static_cast<double>(M::embed));
          for (std::size_t i = 0; i < p.size(); ++i) dst[i] = static_cast<T>(sd * normal_(g));
          for (std::size_t c = 0; c < p.shape[1]; ++c) dst[special_tokens::pad * p.shape[1] + c] = T(0);
          break;
        }
        case parameter_init::xavier_uniform: {
          const double a = std::sqrt(6.0 / static_cast<double>(p.shape[0] + p.shape[1]));
          for (std::size_t i = 0; i < p.size(); ++i) dst[i] = static_cast<T>(a * (2.0 * g.uniform() - 1.0));
          break;
        }
        case parameter_init::one: std::fill(logical.begin(), logical.end(), T(1)); break;
        case parameter_init::zero: break;
      }
      for (std::size_t i = 0; i < p.size(); ++i) host[p.offset + p.index(i)] = logical[i];
    }
    be.upload(host.data(), host.size(), params_.data());
  }

  /// Throws invalid_arch unless `c` fits the maxima and, for a dense model, its stored sizes.
  void check_config(const transformer_config& c) const {
    c.template check<M>();
    if (!storage_.dense) return;
    const transformer_config& a = storage_.arch;
    const auto fail = [](const std::string& what) {
      throw invalid_arch("hat: this dense model cannot run the configuration: " + what);
    };
    if (c.encoder_embed_dim > a.encoder_embed_dim || c.decoder_embed_dim > a.decoder_embed_dim) fail("wider embeddings");
    if (c.encoder_layers() > a.encoder_layers() || c.decoder_layers() > a.decoder_layers()) fail("more layers");
    for (std::size_t l = 0; l < c.encoder_layers(); ++l)
      if (c.encoder_ffn[l] > a.encoder_ffn[l]) fail("encoder layer " + std::to_string(l) + " has a wider FFN");
    for (std::size_t l = 0; l < c.decoder_layers(); ++l)
      if (c.decoder_ffn[l] > a.decoder_ffn[l]) fail("decoder layer " + std::to_string(l) + " has a wider FFN");
  }

  /// Runs the encoder of `c` on a batch of source sentences (padded either side).
  void encode(Backend& be, const transformer_config& c, const token_batch& src, encoder_output<Backend, T>& out,
              model_workspace<Backend, T>& ws) const {
    prepare_encoder_output(be, c, src, out);
    const std::size_t n = src.rows * src.cols, d = c.encoder_embed_dim, active = c.encoder_layers();
    const matrix_ref<T> x = dense(detail::reserve<Backend, T>(ws.x, n * d), n, d);
    source_embedding().forward(be, src.tokens, positions_of(src.tokens, src.rows, src.cols), x);
    for (std::size_t l = 0; l < active; ++l) {
      const matrix_ref<const T> in = l == 0 ? matrix_ref<const T>(x) : out.out(l - 1);
      encoder_[l].forward(be, in, src.rows, c.encoder_layer(l), out.padding_mask(),
                          dense(out.layers[l].data(), n, d), ws.layer);
    }
  }

  /// Shapes `out` for the encoder of `c` on `src`: sizes, the padding mask, one [batch time,
  /// d_enc] buffer per active layer and the super-layer map (identity layers repeat the last).
  void prepare_encoder_output(Backend& be, const transformer_config& c, const token_batch& src,
                              encoder_output<Backend, T>& out) const {
    check_config(c);
    const std::size_t n = src.rows * src.cols, d = c.encoder_embed_dim;
    out.batch = src.rows;
    out.time = src.cols;
    out.dim = d;
    out.host_padding.assign(n, 0);
    bool any = false;
    for (std::size_t i = 0; i < n; ++i) any |= (out.host_padding[i] = src.tokens[i] == special_tokens::pad) != 0;
    out.padding = typename Backend::template buffer<unsigned char>(any ? n : 0);
    if (any) be.upload(out.host_padding.data(), n, out.padding.data());
    const std::size_t active = c.encoder_layers();
    out.layers.resize(active);
    for (auto& l : out.layers)  // grow only: batches of other shapes reuse the memory
      detail::reserve<Backend, T>(l, n * d);
    out.layer_of.resize(M::encoder_layers);
    for (std::size_t l = 0; l < M::encoder_layers; ++l) out.layer_of[l] = l < active ? l : active - 1;
  }

  /// The memory decoder layer l attends to, per sentence: the outputs of the last 1, 2 or 3
  /// super encoder layers concatenated along time, last first (HAT's
  /// TransformerDecoder.extract_features), as [batch m time, d_enc] in `memory`, and its padding
  /// mask repeated m times.
  std::size_t memory(Backend& be, const transformer_config& c, std::size_t l, const encoder_output<Backend, T>& enc,
                     typename Backend::template buffer<T>& memory,
                     typename Backend::template buffer<unsigned char>& padding) const {
    const std::size_t m = static_cast<std::size_t>(attended_encoder_layers(c.decoder_arbitrary[l]));
    const std::size_t t = enc.time, d = enc.dim, tm = m * t;
    T* mem = detail::reserve<Backend, T>(memory, enc.batch * tm * d);
    for (std::size_t b = 0; b < enc.batch; ++b)
      for (std::size_t j = 0; j < m; ++j) {
        const matrix_ref<const T> src = enc.out(M::encoder_layers - 1 - j);
        be.copy(matrix_ref<const T>{src.data + b * t * d, t, d, d}, matrix_ref<T>{mem + (b * tm + j * t) * d, t, d, d});
      }
    if (enc.padding_mask()) {
      std::vector<unsigned char> host(enc.batch * tm);
      for (std::size_t b = 0; b < enc.batch; ++b)
        for (std::size_t j = 0; j < m; ++j)
          for (std::size_t i = 0; i < t; ++i) host[b * tm + j * t + i] = enc.host_padding[b * t + i];
      padding = typename Backend::template buffer<unsigned char>(host.size());
      be.upload(host.data(), host.size(), padding.data());
    } else {
      padding = typename Backend::template buffer<unsigned char>();
    }
    return tm;
  }

  /// Teacher-forced decoder: logits [batch t, target vocab] for prev_output_tokens
  /// [batch, t] (right-padded) given the encoder's output.
  void decode(Backend& be, const transformer_config& c, const encoder_output<Backend, T>& enc,
              const token_batch& prev, matrix_ref<T> logits, model_workspace<Backend, T>& ws) const {
    check_config(c);
    HAT_ASSERT(prev.rows == enc.batch, "super_transformer::decode: target and source batches differ");
    const std::size_t n = prev.rows * prev.cols, d = c.decoder_embed_dim;
    HAT_ASSERT(logits.rows == n && logits.cols == vocab_.target, "super_transformer::decode: logits must be [batch t, V]");
    matrix_ref<T> x = dense(detail::reserve<Backend, T>(ws.x, n * d), n, d);
    matrix_ref<T> y = dense(detail::reserve<Backend, T>(ws.y, n * d), n, d);
    target_embedding().forward(be, prev.tokens, positions_of(prev.tokens, prev.rows, prev.cols), x);
    for (std::size_t l = 0; l < c.decoder_layers(); ++l) {
      const std::size_t tm = memory(be, c, l, enc, ws.memory, ws.memory_padding);
      decoder_[l].forward(be, x, prev.rows, dense(static_cast<const T*>(ws.memory.data()), enc.batch * tm, enc.dim),
                          ws.memory_padding.size() ? ws.memory_padding.data() : nullptr, c.decoder_layer(l), y,
                          ws.layer);
      std::swap(x, y);
    }
    project(be, x, logits);
  }

  /// logits [n, V] = x [n, d_dec] table[:, :d_dec]^T (no bias).
  void project(Backend& be, matrix_ref<const T> x, matrix_ref<T> logits) const {
    out_table_.product(be, x, 0, logits);
  }

  /// fairseq's validation loss of `c` on one batch: label-smoothed cross-entropy (eps) and
  /// NLL summed over target tokens, in nats, and the token count; divide by tokens and ln 2
  /// for what fairseq prints (see loss_meter).
  loss_sums loss(Backend& be, const transformer_config& c, const token_batch& src, const token_batch& tgt, double eps,
                 model_workspace<Backend, T>& ws, typename Backend::template buffer<T>& logits,
                 encoder_output<Backend, T>& enc) const {
    encode(be, c, src, enc, ws);
    const token_batch prev = tgt.shifted_right();
    const std::size_t n = tgt.rows * tgt.cols;
    const matrix_ref<T> lg = dense(detail::reserve<Backend, T>(logits, n * vocab_.target), n, vocab_.target);
    decode(be, c, enc, prev, lg, ws);
    loss_sums s;
    be.label_smoothed_loss(matrix_ref<const T>(lg), tgt.tokens.data(), eps, special_tokens::pad, s.loss, s.nll);
    for (int t : tgt.tokens) s.tokens += t != special_tokens::pad;
    return s;
  }

 private:
  static vocabulary_sizes check_(vocabulary_sizes v) {
    if (v.source <= static_cast<std::size_t>(special_tokens::unk) || v.target <= static_cast<std::size_t>(special_tokens::unk))
      throw config_error("super_transformer: a vocabulary needs more than fairseq's 4 special symbols");
    if (v.sharing == embedding_sharing::all && v.source != v.target)
      throw config_error("super_transformer: a joined vocabulary (sharing all) needs equal source and target sizes, got " +
                         std::to_string(v.source) + " and " + std::to_string(v.target));
    return v;
  }
  static std::string layer_name_(const char* part, std::size_t l) {
    return std::string(part) + ".layers." + std::to_string(l) + ".";
  }
  static const parameter_info& find_(const std::vector<parameter_info>& info, const std::string& name) {
    for (const auto& p : info)
      if (p.name == name) return p;
    throw config_error("super_transformer: no parameter named '" + name + "'");
  }
  static double normal_(rng& g) {  // Box-Muller; one draw per call keeps the stream simple
    const double u1 = 1.0 - g.uniform(), u2 = g.uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  static model_storage check_storage_(model_storage s) {
    if (s.dense) s.arch.template check<M>();
    return s;
  }
  static std::size_t encoder_layers_(const model_storage& s) {
    return s.dense ? s.arch.encoder_layers() : M::encoder_layers;
  }
  static std::size_t decoder_layers_(const model_storage& s) {
    return s.dense ? s.arch.decoder_layers() : M::decoder_layers;
  }
  static std::size_t count_(const std::vector<parameter_info>& info) {
    return info.empty() ? 0 : info.back().offset + info.back().size();
  }
  // The arena layout, as the layers declare it. A dense model stores every tensor as the corner
  // its SubTransformer reads (the leading rows and columns, as HAT's LinearSuper, EmbeddingSuper
  // and MultiheadAttentionSuper slice), without panels: tables at the widths that read them, a
  // shared table at the wider of the two parts.
  static std::vector<parameter_info> layout_(const vocabulary_sizes& v, const model_storage& s) {
    parameter_list list;
    const parameter_scope root(list);
    const auto choices = [&](std::span<const std::size_t> c) { return s.dense ? std::span<const std::size_t>() : c; };
    const std::span<const std::size_t> embed = choices(M::embed_choices), enc_ffn = choices(M::encoder_ffn_choices),
                                       dec_ffn = choices(M::decoder_ffn_choices);
    const std::size_t de = s.dense ? s.arch.encoder_embed_dim : M::embed;
    const std::size_t dd = s.dense ? s.arch.decoder_embed_dim : M::embed;
    embedding_type::declare(root / "encoder.embed_tokens.", v.source,
                            v.sharing == embedding_sharing::all ? std::max(de, dd) : de, embed);
    if (v.sharing != embedding_sharing::all) embedding_type::declare(root / "decoder.embed_tokens.", v.target, dd, embed);
    if (v.sharing == embedding_sharing::none)
      root.add("decoder.embed_out", {v.target, dd}, parameter_init::vocabulary_table, embed);
    for (std::size_t l = 0; l < encoder_layers_(s); ++l)
      encoder_layer_type::declare(root / layer_name_("encoder", l), de, s.dense ? s.arch.encoder_ffn[l] : M::encoder_ffn,
                                  embed, enc_ffn);
    for (std::size_t l = 0; l < decoder_layers_(s); ++l)
      decoder_layer_type::declare(root / layer_name_("decoder", l), dd, s.dense ? s.arch.decoder_ffn[l] : M::decoder_ffn,
                                  std::max(dd, de), embed, dec_ffn);
    return std::move(list).release();
  }

  vocabulary_sizes vocab_;
  model_storage storage_;
  std::vector<parameter_info> info_;
  arena<Backend, T> params_;
  std::size_t source_offset_ = 0, target_offset_ = 0, output_offset_ = 0;
  std::vector<std::size_t> encoder_offsets_, decoder_offsets_;
  std::vector<embedding_type> src_embed_, tgt_embed_;  // 1 or 0 entries (embedding_type is not default-constructible)
  paneled_matrix<T> out_table_;
  std::vector<encoder_layer_type> encoder_;
  std::vector<decoder_layer_type> decoder_;
};

/// The SuperTransformer of a transformer space.
template <transformer_space S, backend_policy Backend, class T = float>
using super_transformer_for = super_transformer<maxima_of<S>, Backend, T>;

}  // namespace hat
