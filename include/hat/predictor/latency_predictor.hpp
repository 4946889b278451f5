// SPDX-License-Identifier: MIT
// latency_predictor: HAT's feature normalisation + an MLP ensemble (or a linear model), fit, predict, save, load.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <numbers>
#include <numeric>  // std::iota
#include <utility>  // std::forward
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <hat/backend/concepts.hpp>
#include <hat/backend/precision.hpp>
#include <hat/config.hpp>
#include <hat/io/atomic_file.hpp>
#include <hat/io/latency_csv.hpp>
#include <hat/io/checksum.hpp>
#include <hat/io/read_file.hpp>
#include <hat/predictor/cost_terms.hpp>
#include <hat/predictor/linear_model.hpp>
#include <hat/predictor/mlp.hpp>
#include <hat/predictor/ridge_loo.hpp>
#include <hat/predictor/split.hpp>
#include <hat/space/encode.hpp>

namespace hat {

/// A predictor whose fit produced numbers that are not finite (latencies far too large for its
/// lat_norm, say); nothing was saved.
struct predictor_diverged : config_error {
  using config_error::config_error;
};

/// How a predictor is trained. `hat()` is HAT's recipe (LatencyPredictor in HAT's
/// latency_predictor.py); the defaults are ours (docs/results.md compares both on HAT's six
/// latency datasets).
struct predictor_train_options {
  std::size_t steps = 1000;      // Adam updates per network
  std::size_t batch = 128;
  double lr = 3e-4;              // peak learning rate
  bool cosine = true;            // cosine decay to lr_final after `warmup` steps; else constant
  double lr_final = 1e-5;
  std::size_t warmup = 50;
  bool hat_sampling = false;     // each step draws `batch` rows without replacement (HAT); else shuffled epochs
  std::size_t ensemble = 1;      // networks averaged
  bool log_target = false;       // regress log(latency / lat_norm) instead of latency / lat_norm
  std::uint64_t seed = 1;
  /// The linear and quadratic models' least-squares solver; null: their normal equations
  /// (interop/xtensor.hpp's lapack_least_squares solves through LAPACK instead).
  least_squares_solver least_squares = nullptr;

  static predictor_train_options hat() {
    predictor_train_options o;
    o.steps = 5000;
    o.lr = 1e-5;
    o.cosine = false;
    o.warmup = 0;
    o.hat_sampling = true;
    return o;
  }
};

/// mlp: the network ensemble. linear: least squares on the normalised features.
/// quadratic: least squares on the features and their pairwise products (latency is a sum
/// of per-layer costs, so layer count x width terms carry most of it). cost: ridge regression
/// on the cost terms (hat/predictor/cost_terms.hpp) with its penalty chosen by leave-one-out
/// error, made for a few rows; with a source predictor's prediction as one more, unpenalised
/// term it is an adapted predictor (latency_predictor::adapt).
enum class predictor_model : std::uint32_t { mlp = 1, linear = 2, quadratic = 3, cost = 4 };

/// Inputs of the quadratic model: the features and their pairwise products (65 for HAT's 10).
template <std::size_t In>
inline constexpr std::size_t quadratic_size = In + In * (In + 1) / 2;

/// [In] normalised features -> the features, then f_i * f_j for i <= j.
template <std::size_t In>
std::array<double, quadratic_size<In>> quadratic_expansion(const std::array<double, In>& f) {
  std::array<double, quadratic_size<In>> q{};
  std::size_t k = 0;
  for (double v : f) q[k++] = v;
  for (std::size_t i = 0; i < In; ++i)
    for (std::size_t j = i; j < In; ++j) q[k++] = f[i] * f[j];
  return q;
}

/// Feature divisors: HAT's fixed norms for its 10 features, 1 otherwise (`gene_features` are
/// already scaled to [-1, 1]).
template <std::size_t In>
constexpr std::array<double, In> default_feature_norm() {
  std::array<double, In> n{};
  for (std::size_t i = 0; i < In; ++i) n[i] = In == 10 ? hat_feature_norm[i % 10] : 1.0;
  return n;
}

/// Predicts total latency (ms) from `In` raw features of an architecture: HAT's 10
/// (`hat_features`, the default) or any space's `gene_features` (In = gene count). Features are
/// divided by `feature_norm` (HAT's fixed norms by default), the target by `lat_norm` (HAT:
/// 200 GPU, 300 Xeon, 5000 Raspberry Pi).
template <backend_policy Backend, std::size_t Hidden = 400, std::size_t HiddenLayers = 3, std::size_t In = 10>
class latency_predictor {
 public:
  using network = mlp<Backend, In, Hidden, HiddenLayers, float>;
  using features = std::array<double, In>;
  /// 2 records the weights' precision the latencies were measured at; version 1 files (before
  /// it) still load, as fp32.
  static constexpr std::uint32_t format_version = 2;

  latency_predictor(Backend& be, double lat_norm, predictor_model model = predictor_model::mlp,
                    const features& feature_norm = default_feature_norm<In>())
      : be_(&be), lat_norm_(lat_norm), model_(model), norm_(feature_norm) {
    if (!(lat_norm > 0) || !std::isfinite(lat_norm))
      throw config_error("latency predictor: lat_norm must be a positive number (the latency divisor), got " + std::to_string(lat_norm));
    for (double v : norm_)
      if (v == 0 || !std::isfinite(v)) throw config_error("latency predictor: feature norms must be finite and non-zero");
  }

  /// Trains on the rows `rows` of a HAT latency table (In = 10), and takes its precision.
  /// `on_step(step, total, loss)` reports progress; it may be omitted.
  template <class Progress = std::nullptr_t>
    requires(In == 10)
  void fit(const latency_table& data, std::span<const std::size_t> rows, const predictor_train_options& o,
           Progress&& on_step = nullptr) {
    std::vector<features> x;
    std::vector<double> ms;
    for (auto r : rows) {
      x.push_back(data.rows[r].features);
      ms.push_back(data.rows[r].total_ms());
    }
    fit(std::span<const features>(x), std::span<const double>(ms), o, std::forward<Progress>(on_step));
    measured_at_ = data.weights;
  }

  /// Trains on raw features `raw` [n] and measured total latencies `total_ms` [n].
  template <class Progress = std::nullptr_t>
  void fit(std::span<const features> raw, std::span<const double> total_ms, const predictor_train_options& o,
           Progress&& on_step = nullptr) {
    HAT_ASSERT(!raw.empty() && raw.size() == total_ms.size(), "latency_predictor::fit: needs n > 0 rows and n latencies");
    log_target_ = o.log_target;
    std::vector<double> x(raw.size() * In), y(raw.size());
    for (std::size_t r = 0; r < raw.size(); ++r) {
      const auto f = normalized_(raw[r]);
      std::copy(f.begin(), f.end(), x.begin() + static_cast<std::ptrdiff_t>(r * In));
      y[r] = target_(total_ms[r]);
    }
    const auto diverged = [&](const std::string& what) {
      double largest = 0;
      for (double v : total_ms) largest = std::max(largest, v);
      return predictor_diverged("latency predictor: " + what + " (the largest latency is " + std::to_string(largest) +
                                " ms against lat_norm " + std::to_string(lat_norm_) + "); nothing was saved");
    };
    const auto require_finite = [&](std::span<const double> w) {
      for (double v : w)
        if (!std::isfinite(v)) throw diverged("the least-squares fit gave a coefficient that is not a finite number");
    };
    if (model_ == predictor_model::linear) {
      linear_.fit(x, y, 1e-8, o.least_squares);
      require_finite(linear_.coefficients());
      return;
    }
    if (model_ == predictor_model::cost) {
      fit_cost_(raw, total_ms);
      return;
    }
    if (model_ == predictor_model::quadratic) {
      std::vector<double> q;
      q.reserve(raw.size() * quadratic_size<In>);
      for (std::size_t r = 0; r < raw.size(); ++r) {
        features f{};
        std::copy_n(x.begin() + static_cast<std::ptrdiff_t>(r * In), In, f.begin());
        const auto e = quadratic_expansion(f);
        q.insert(q.end(), e.begin(), e.end());
      }
      quadratic_.fit(q, y, 1e-8, o.least_squares);
      require_finite(quadratic_.coefficients());
      return;
    }
    nets_.clear();
    rng g(o.seed);
    const std::size_t total = o.steps * o.ensemble;
    std::vector<float> bx, by;
    std::vector<std::size_t> order(raw.size());
    for (std::size_t e = 0; e < o.ensemble; ++e) {
      auto& net = *nets_.emplace_back(std::make_unique<network>(*be_));
      net.init(g);
      std::iota(order.begin(), order.end(), std::size_t{0});
      std::size_t cursor = order.size();
      for (std::size_t s = 0; s < o.steps; ++s) {
        const std::size_t b = std::min(o.batch, order.size());
        if (o.hat_sampling || cursor + b > order.size()) {  // HAT: a fresh sample each step; else a new epoch
          for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[static_cast<std::size_t>(g.below(i))]);
          cursor = 0;
        }
        bx.resize(b * In);
        by.resize(b);
        for (std::size_t i = 0; i < b; ++i) {
          const std::size_t r = order[cursor + i];
          for (std::size_t j = 0; j < In; ++j) bx[i * In + j] = static_cast<float>(x[r * In + j]);
          by[i] = static_cast<float>(y[r]);
        }
        cursor += b;
        const double loss = net.train_batch(bx, by, {.lr = lr_at_(o, s)});
        if (!std::isfinite(loss))
          throw diverged("the MLP's loss is not a finite number at step " + std::to_string(s + 1) + " of " +
                         std::to_string(o.steps));
        if constexpr (!std::is_same_v<std::decay_t<Progress>, std::nullptr_t>) on_step(e * o.steps + s + 1, total, loss);
      }
    }
  }

  /// Adapts `source` (a predictor of another device) to this one from a few measurements: raw
  /// features [n] and total latencies [n] of this device. The result predicts
  /// c + a * source(x) + w . cost_terms(x): `a` and `c` rescale what the source knows, `w`
  /// (ridge-penalised, penalty chosen by leave-one-out error) learns what differs. With few rows
  /// the penalty keeps it near the rescaled source; with more, the terms take over.
  static latency_predictor adapt(latency_predictor source, std::span<const features> raw,
                                 std::span<const double> total_ms) {
    if (raw.size() < min_adapt_rows)
      throw config_error("latency predictor: " + std::to_string(raw.size()) + " rows; adapting needs at least " +
                         std::to_string(min_adapt_rows) + " measured architectures (10-50 is the intended use)");
    std::size_t depth = 1;
    for (const latency_predictor* q = source.base_.get(); q; q = q->base_.get()) ++depth;
    if (depth > max_source_depth)
      throw config_error("latency predictor: the source was adapted " + std::to_string(depth - 1) +
                         " times already; a file nests at most " + std::to_string(max_source_depth) +
                         " (adapt the original predictor instead)");
    latency_predictor p(*source.be_, source.lat_norm_, predictor_model::cost, source.norm_);
    p.base_ = std::make_unique<latency_predictor>(std::move(source));
    p.fit_cost_(raw, total_ms);
    return p;
  }
  static constexpr std::size_t min_adapt_rows = 5;
  static constexpr std::size_t max_source_depth = 4;  // adapted from adapted from ...: a file nests this many

  /// Predicted total latency (ms) of each row of raw features [n][In].
  std::vector<double> predict_ms(std::span<const features> rows) {
    std::vector<double> out(rows.size(), 0.0);
    if (model_ == predictor_model::cost) {
      std::vector<double> base(rows.size(), 0.0);
      if (base_) base = base_->predict_ms(rows);
      for (std::size_t i = 0; i < rows.size(); ++i) out[i] = cost_predict_(rows[i], base[i]);
      return out;
    }
    if (model_ == predictor_model::linear) {
      for (std::size_t i = 0; i < rows.size(); ++i) out[i] = latency_(linear_.predict(normalized_(rows[i])));
      return out;
    }
    if (model_ == predictor_model::quadratic) {
      for (std::size_t i = 0; i < rows.size(); ++i)
        out[i] = latency_(quadratic_.predict(quadratic_expansion(normalized_(rows[i]))));
      return out;
    }
    HAT_ASSERT(!nets_.empty(), "latency_predictor: not trained or loaded");
    std::vector<float> x(rows.size() * In), y(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto f = normalized_(rows[i]);
      for (std::size_t j = 0; j < In; ++j) x[i * In + j] = static_cast<float>(f[j]);
    }
    for (auto& net : nets_) {
      net->predict(x, y);
      for (std::size_t i = 0; i < y.size(); ++i) out[i] += y[i];
    }
    for (auto& v : out) v = latency_(v / static_cast<double>(nets_.size()));
    return out;
  }
  double predict_ms(const features& f) { return predict_ms(std::span<const features>(&f, 1))[0]; }

  /// Predicted latency of an architecture: HAT's 10 features for a transformer space when
  /// In = 10, else the space's gene features (In must equal its gene count).
  template <class S>
  double operator()(const arch<S>& a) {
    if constexpr (In == 10 && transformer_space<S>) {
      return predict_ms(hat_features(a));
    } else {
      static_assert(In == S::gene_count,
                    "hat::latency_predictor: In must be 10 (HAT's features) or the space's gene count");
      return predict_ms(gene_features(a));
    }
  }

  /// An MLP predictor with the given network parameters (`network::param_count` values in the
  /// network's layout: each layer's PyTorch weight [out, in] then its bias [out]): how HAT's
  /// shipped predictors are imported (hat/predictor/from_torch.hpp).
  static latency_predictor from_parameters(Backend& be, double lat_norm, std::span<const float> params,
                                           const features& feature_norm = default_feature_norm<In>()) {
    if (params.size() != network::param_count)
      throw config_error("latency predictor: " + std::to_string(params.size()) + " parameters given, the network has " +
                         std::to_string(network::param_count));
    for (float v : params)
      if (!std::isfinite(v)) throw config_error("latency predictor: a weight is not a finite number (it would predict garbage)");
    latency_predictor p(be, lat_norm, predictor_model::mlp, feature_norm);
    p.nets_.emplace_back(std::make_unique<network>(be))->set_parameters(params);
    return p;
  }

  double lat_norm() const noexcept { return lat_norm_; }
  /// The weights' precision of the latencies it predicts (its dataset's: latency_table::weights);
  /// fp32 unless set. An adapted predictor states its own rows', whatever its source's.
  precision measured_at() const noexcept { return measured_at_; }
  void set_measured_at(precision p) noexcept { measured_at_ = p; }
  const features& feature_norm() const noexcept { return norm_; }
  predictor_model model() const noexcept { return model_; }
  std::size_t ensemble_size() const noexcept { return nets_.size(); }
  /// The source predictor an adapted predictor builds on; null otherwise.
  const latency_predictor* source() const noexcept { return base_.get(); }
  /// Of the cost model: the weight on the source's prediction (0 without one) and the penalty
  /// its leave-one-out error chose.
  double source_weight() const noexcept { return cost_w_[1]; }
  double cost_penalty() const noexcept { return cost_penalty_; }
  /// Of a cost model just fitted: each fitting row's prediction by the fit without that row
  /// (an honest error estimate when every measured row was used to fit); empty after load.
  const std::vector<double>& leave_one_out_ms() const noexcept { return loo_; }

  // --- files: "HATPRED\0", version, model, sizes, settings, parameters, FNV-1a checksum ---
  void save(const std::filesystem::path& path) const { write_file_atomic(path, to_bytes_(path.string())); }

  static latency_predictor load(Backend& be, const std::filesystem::path& path) {
    return from_bytes(be, read_file(path, model_file_limit), path.string());
  }

  /// load on a predictor file's bytes; `name` stands for the file in errors.
  static latency_predictor from_bytes(Backend& be, std::string_view data, const std::string& name) {
    return from_bytes_(be, data, name, 0);
  }

 private:

  std::string to_bytes_(const std::string& name) const {
    const auto finite = [&](auto v) {
      if (!std::isfinite(static_cast<double>(v)))
        throw predictor_diverged(name + ": refusing to save a predictor with a weight that is not a finite number");
    };
    if (model_ == predictor_model::linear) for (double w : linear_.coefficients()) finite(w);
    else if (model_ == predictor_model::cost) for (double w : cost_w_) finite(w);
    else if (model_ == predictor_model::quadratic) for (double w : quadratic_.coefficients()) finite(w);
    else for (const auto& net : nets_) for (float p : net->parameters()) finite(p);
    std::string out("HATPRED", 8);
    put_(out, format_version);
    put_(out, static_cast<std::uint32_t>(model_));
    put_(out, static_cast<std::uint32_t>(Hidden));
    put_(out, static_cast<std::uint32_t>(HiddenLayers));
    put_(out, static_cast<std::uint32_t>(log_target_));
    put_(out, static_cast<std::uint32_t>(In));
    put_(out, static_cast<std::uint32_t>(measured_at_));
    put_(out, lat_norm_);
    for (double v : norm_) put_(out, v);
    if (model_ == predictor_model::linear) {
      for (double w : linear_.coefficients()) put_(out, w);
    } else if (model_ == predictor_model::quadratic) {
      for (double w : quadratic_.coefficients()) put_(out, w);
    } else if (model_ == predictor_model::cost) {
      put_(out, static_cast<std::uint32_t>(base_ ? 1 : 0));
      if (base_) {
        const std::string inner = base_->to_bytes_(name);
        put_(out, static_cast<std::uint64_t>(inner.size()));
        out += inner;
      }
      for (double v : cost_mean_) put_(out, v);
      for (double v : cost_scale_) put_(out, v);
      for (double w : cost_w_) put_(out, w);
      put_(out, cost_penalty_);
    } else {
      put_(out, static_cast<std::uint32_t>(nets_.size()));
      for (const auto& net : nets_)
        for (float p : net->parameters()) put_(out, p);
    }
    put_(out, fnv1a(out));
    return out;
  }

  static latency_predictor from_bytes_(Backend& be, std::string_view data, const std::string& name, int depth) {
    if (data.size() < 8 + 8 || data.compare(0, 8, std::string("HATPRED", 8)) != 0)
      throw config_error(name + ": not a hat latency predictor (bad magic)");
    std::uint64_t stored = 0;
    std::memcpy(&stored, data.data() + data.size() - 8, 8);
    if (stored != fnv1a(std::string_view(data).substr(0, data.size() - 8)))
      throw config_error(name + ": checksum mismatch (the file is corrupted or truncated)");
    std::size_t pos = 8;
    const auto get = [&]<class V>(V& v) {
      if (pos + sizeof(V) > data.size() - 8) throw config_error(name + ": truncated predictor file");
      std::memcpy(&v, data.data() + pos, sizeof(V));
      pos += sizeof(V);
    };
    std::uint32_t version = 0, model = 0, hidden = 0, layers = 0, log_target = 0, inputs = 0, measured_at = 0;
    double lat_norm = 0;
    features norm{};
    get(version);
    if (version < 1 || version > format_version)
      throw config_error(name + ": predictor format version " + std::to_string(version) + ", this build reads 1 to " +
                         std::to_string(format_version));
    get(model);
    get(hidden);
    get(layers);
    get(log_target);
    get(inputs);
    if (inputs != In)
      throw config_error(name + ": the predictor reads " + std::to_string(inputs) + " features, this program " +
                         std::to_string(In));
    if (version >= 2) get(measured_at);
    if (measured_at > static_cast<std::uint32_t>(precision::int8))
      throw config_error(name + ": unknown precision code " + std::to_string(measured_at));
    get(lat_norm);
    for (double& v : norm) get(v);
    if (model < 1 || model > 4) throw config_error(name + ": unknown model kind " + std::to_string(model));
    if (model == 1 && (hidden != Hidden || layers != HiddenLayers))
      throw config_error(name + ": the network is " + std::to_string(In) + " -> " + std::to_string(hidden) + " x " +
                         std::to_string(layers + 1) + " -> 1, this program expects " + std::to_string(In) + " -> " +
                         std::to_string(Hidden) + " x " +
                         std::to_string(HiddenLayers + 1) + " -> 1");
    if (!(lat_norm > 0) || !std::isfinite(lat_norm)) throw config_error(name + ": lat_norm must be a positive number");
    for (double v : norm)
      if (v == 0 || !std::isfinite(v)) throw config_error(name + ": a feature norm is zero or not finite");
    latency_predictor p(be, lat_norm, static_cast<predictor_model>(model), norm);
    p.log_target_ = log_target != 0;
    p.measured_at_ = static_cast<precision>(measured_at);
    const auto finite = [&](double v) {
      if (!std::isfinite(v)) throw config_error(name + ": a weight is not a finite number (the file would predict garbage)");
    };
    if (p.model_ == predictor_model::linear) {
      for (double& w : p.linear_.coefficients()) get(w), finite(w);
    } else if (p.model_ == predictor_model::quadratic) {
      for (double& w : p.quadratic_.coefficients()) get(w), finite(w);
    } else if (p.model_ == predictor_model::cost) {
      if constexpr (In != 10) throw config_error(name + ": a cost model reads HAT's 10 features, this program " + std::to_string(In));
      std::uint32_t has_source = 0;
      get(has_source);
      if (has_source > 1) throw config_error(name + ": bad source flag " + std::to_string(has_source));
      if (has_source) {
        std::uint64_t size = 0;
        get(size);
        if (size > data.size() - 8 - pos) throw config_error(name + ": truncated predictor file (its source predictor)");
        if (depth >= static_cast<int>(max_source_depth))
          throw config_error(name + ": source predictors nested more than " + std::to_string(max_source_depth) + " deep");
        p.base_ = std::make_unique<latency_predictor>(
            from_bytes_(be, data.substr(pos, static_cast<std::size_t>(size)), name + " (its source predictor)", depth + 1));
        pos += static_cast<std::size_t>(size);
      }
      for (double& v : p.cost_mean_) get(v), finite(v);
      for (double& v : p.cost_scale_) {
        get(v), finite(v);
        if (!(v > 0)) throw config_error(name + ": a cost term's scale is not positive");
      }
      for (double& w : p.cost_w_) get(w), finite(w);
      if (!has_source && p.cost_w_[1] != 0) throw config_error(name + ": a weight on a source predictor the file does not hold");
      get(p.cost_penalty_);
      if (!(p.cost_penalty_ >= 0) || !std::isfinite(p.cost_penalty_)) throw config_error(name + ": bad ridge penalty");
    } else {
      std::uint32_t count = 0;
      get(count);
      if (count == 0 || count > 1024) throw config_error(name + ": bad ensemble size " + std::to_string(count));
      std::vector<float> params(network::param_count);
      for (std::uint32_t e = 0; e < count; ++e) {
        for (float& v : params) get(v), finite(v);
        p.nets_.emplace_back(std::make_unique<network>(be))->set_parameters(params);
      }
    }
    if (pos != data.size() - 8) throw config_error(name + ": unexpected trailing data");
    return p;
  }

  /// The cost model on rows raw [n] / total_ms [n] (a source predictor, when set, gives one more
  /// column). Terms are centred and scaled over the rows, so the penalty means the same on any
  /// space and device; a constant term (HAT's fixed encoder depth) becomes 0 and drops out.
  void fit_cost_(std::span<const features> raw, std::span<const double> total_ms) {
    if constexpr (In != 10) {
      throw config_error("latency predictor: the cost model reads HAT's 10 features; this one reads " + std::to_string(In));
    } else {
      const std::size_t n = raw.size(), free = 2, cols = free + cost_term_count;
      std::vector<std::array<double, cost_term_count>> t(n);
      for (std::size_t r = 0; r < n; ++r) t[r] = cost_terms(raw[r]);
      for (std::size_t k = 0; k < cost_term_count; ++k) {
        double mean = 0, var = 0;
        for (const auto& row : t) mean += row[k];
        mean /= static_cast<double>(n);
        for (const auto& row : t) var += (row[k] - mean) * (row[k] - mean);
        const double sd = std::sqrt(var / static_cast<double>(n));
        cost_mean_[k] = mean;
        cost_scale_[k] = sd > 1e-12 * (1 + std::abs(mean)) ? sd : 1.0;
      }
      std::vector<double> base(n, 0.0);
      if (base_) base = base_->predict_ms(raw);
      std::vector<double> x(n * cols);
      for (std::size_t r = 0; r < n; ++r) {
        x[r * cols] = 1.0;
        x[r * cols + 1] = base[r];  // 0 without a source: the jitter keeps the system solvable, its weight 0
        for (std::size_t k = 0; k < cost_term_count; ++k)
          x[r * cols + free + k] = (t[r][k] - cost_mean_[k]) / cost_scale_[k];
      }
      auto fit = ridge_loo(x, total_ms, cols, free);
      if (base_) {  // the source may mislead (another kind of device): keep it only if it lowers the leave-one-out error
        for (std::size_t r = 0; r < n; ++r) x[r * cols + 1] = 0;
        if (auto without = ridge_loo(x, total_ms, cols, free); without.loo_mse < fit.loo_mse) fit = std::move(without);
      }
      fit.w[1] = base_ ? fit.w[1] : 0;
      std::copy(fit.w.begin(), fit.w.end(), cost_w_.begin());
      for (double w : cost_w_)
        if (!std::isfinite(w)) throw predictor_diverged("latency predictor: the cost model's fit is not a finite number; nothing was saved");
      cost_penalty_ = fit.penalty;
      loo_ = std::move(fit.loo_predictions);
    }
  }

  double cost_predict_(const features& f, double base) const {
    if constexpr (In != 10) {
      return 0;  // unreachable: fit_cost_ and load refuse a cost model of other features
    } else {
      const auto t = cost_terms(f);
      double y = cost_w_[0] + cost_w_[1] * base;
      for (std::size_t k = 0; k < cost_term_count; ++k) y += cost_w_[2 + k] * (t[k] - cost_mean_[k]) / cost_scale_[k];
      return y;
    }
  }

  features normalized_(const features& f) const {
    features n{};
    for (std::size_t i = 0; i < In; ++i) n[i] = f[i] / norm_[i];
    return n;
  }
  double target_(double ms) const { return log_target_ ? std::log(ms / lat_norm_) : ms / lat_norm_; }
  double latency_(double t) const { return log_target_ ? std::exp(t) * lat_norm_ : t * lat_norm_; }

  static double lr_at_(const predictor_train_options& o, std::size_t step) {
    if (!o.cosine) return o.lr;
    if (step < o.warmup) return o.lr * static_cast<double>(step + 1) / static_cast<double>(o.warmup);
    const double t = static_cast<double>(step - o.warmup) / static_cast<double>(std::max<std::size_t>(1, o.steps - o.warmup));
    return o.lr_final + 0.5 * (o.lr - o.lr_final) * (1 + std::cos(std::numbers::pi * t));
  }

  template <class V>
  static void put_(std::string& out, V v) {
    char b[sizeof(V)];
    std::memcpy(b, &v, sizeof(V));
    out.append(b, sizeof(V));
  }

  Backend* be_;
  double lat_norm_;
  predictor_model model_;
  bool log_target_ = false;
  precision measured_at_ = precision::fp32;
  features norm_;
  linear_model<In> linear_;
  linear_model<quadratic_size<In>> quadratic_;
  std::vector<std::unique_ptr<network>> nets_;
  std::unique_ptr<latency_predictor> base_;  // cost model: the source predictor it adapts (or null)
  std::array<double, cost_term_count> cost_mean_{}, cost_scale_{};
  std::array<double, 2 + cost_term_count> cost_w_{};  // intercept, source weight, one per term
  double cost_penalty_ = 0;
  std::vector<double> loo_;
};

}  // namespace hat

namespace hat {

/// Fits the linear, quadratic and MLP models on `split.train` and returns the one with the
/// lowest RMSE on `split.valid` (the test split stays unseen); `chosen` receives its kind. On
/// HAT's datasets the quadratic model wins on the Raspberry Pi files and the linear model
/// often on the others (docs/results.md).
template <backend_policy Backend, std::size_t Hidden = 400, std::size_t HiddenLayers = 3, class Progress = std::nullptr_t>
latency_predictor<Backend, Hidden, HiddenLayers> fit_best_predictor(Backend& be, double lat_norm,
                                                                    const latency_table& data, const data_split& split,
                                                                    const predictor_train_options& o,
                                                                    predictor_model* chosen = nullptr,
                                                                    Progress&& on_step = nullptr) {
  HAT_ASSERT(!split.valid.empty(), "fit_best_predictor: the valid split is empty");
  using P = latency_predictor<Backend, Hidden, HiddenLayers>;
  std::vector<std::array<double, 10>> x;
  std::vector<double> y;
  for (auto i : split.valid) {
    x.push_back(data.rows[i].features);
    y.push_back(data.rows[i].total_ms());
  }
  std::unique_ptr<P> best;
  double best_rmse = 0;
  for (auto kind : {predictor_model::linear, predictor_model::quadratic, predictor_model::mlp}) {
    auto p = std::make_unique<P>(be, lat_norm, kind);
    p->fit(data, split.train, o, on_step);
    double se = 0;
    const auto pred = p->predict_ms(x);
    for (std::size_t i = 0; i < y.size(); ++i) se += (pred[i] - y[i]) * (pred[i] - y[i]);
    if (!best || se < best_rmse) {
      best_rmse = se;
      best = std::move(p);
      if (chosen) *chosen = kind;
    }
  }
  return std::move(*best);
}

}  // namespace hat
