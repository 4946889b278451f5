// SPDX-License-Identifier: MIT
// latency_predictor: HAT's feature normalisation + an MLP ensemble (or a linear model), fit, predict, save, load.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <numbers>
#include <numeric>  // std::iota
#include <span>
#include <string>
#include <vector>

#include <hat/config.hpp>
#include <hat/io/atomic_file.hpp>
#include <hat/io/latency_csv.hpp>
#include <hat/predictor/linear_model.hpp>
#include <hat/predictor/mlp.hpp>
#include <hat/predictor/split.hpp>
#include <hat/space/encode.hpp>

namespace hat {

/// How a predictor is trained. `hat()` is HAT's recipe (hat-spec 6.3); the defaults are ours
/// (docs/results.md compares both on HAT's six latency datasets).
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

/// mlp: the network ensemble. linear: least squares on the 10 normalised features.
/// quadratic: least squares on the features and their 55 pairwise products (latency is a sum
/// of per-layer costs, so layer count x width terms carry most of it).
enum class predictor_model : std::uint32_t { mlp = 1, linear = 2, quadratic = 3 };

inline constexpr std::size_t quadratic_features = 10 + 55;

/// [10] normalised features -> [65]: the features, then f_i * f_j for i <= j.
inline std::array<double, quadratic_features> quadratic_expansion(const std::array<double, 10>& f) {
  std::array<double, quadratic_features> q{};
  std::size_t k = 0;
  for (double v : f) q[k++] = v;
  for (std::size_t i = 0; i < 10; ++i)
    for (std::size_t j = i; j < 10; ++j) q[k++] = f[i] * f[j];
  return q;
}

/// Predicts total latency (encoder + decoder, ms) from HAT's 10 raw features. Features are
/// divided by HAT's fixed norms, the target by `lat_norm` (HAT: 200 GPU, 300 Xeon, 5000 RPi).
template <class Backend, std::size_t Hidden = 400, std::size_t HiddenLayers = 3>
class latency_predictor {
 public:
  using network = mlp<Backend, 10, Hidden, HiddenLayers, float>;
  static constexpr std::uint32_t format_version = 1;

  latency_predictor(Backend& be, double lat_norm, predictor_model model = predictor_model::mlp)
      : be_(&be), lat_norm_(lat_norm), model_(model) {
    HAT_ASSERT(lat_norm > 0, "latency_predictor: lat_norm must be positive");
  }

  /// Trains on `rows` of `data`. `on_step(step, total, loss)` reports progress; it may be empty.
  template <class Progress = std::nullptr_t>
  void fit(const latency_table& data, std::span<const std::size_t> rows, const predictor_train_options& o,
           Progress&& on_step = nullptr) {
    HAT_ASSERT(!rows.empty(), "latency_predictor::fit: no training rows");
    log_target_ = o.log_target;
    std::vector<double> x(rows.size() * 10), y(rows.size());
    for (std::size_t r = 0; r < rows.size(); ++r) {
      const auto f = normalized_(data.rows[rows[r]].features);
      std::copy(f.begin(), f.end(), x.begin() + static_cast<std::ptrdiff_t>(r * 10));
      y[r] = target_(data.rows[rows[r]].total_ms());
    }
    if (model_ == predictor_model::linear) {
      linear_.fit(x, y);
      return;
    }
    if (model_ == predictor_model::quadratic) {
      std::vector<double> q;
      q.reserve(rows.size() * quadratic_features);
      for (std::size_t r = 0; r < rows.size(); ++r) {
        std::array<double, 10> f{};
        std::copy_n(x.begin() + static_cast<std::ptrdiff_t>(r * 10), 10, f.begin());
        const auto e = quadratic_expansion(f);
        q.insert(q.end(), e.begin(), e.end());
      }
      quadratic_.fit(q, y);
      return;
    }
    nets_.clear();
    rng g(o.seed);
    const std::size_t total = o.steps * o.ensemble;
    std::vector<float> bx, by;
    std::vector<std::size_t> order(rows.size());
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
        bx.resize(b * 10);
        by.resize(b);
        for (std::size_t i = 0; i < b; ++i) {
          const std::size_t r = order[cursor + i];
          for (std::size_t j = 0; j < 10; ++j) bx[i * 10 + j] = static_cast<float>(x[r * 10 + j]);
          by[i] = static_cast<float>(y[r]);
        }
        cursor += b;
        const double loss = net.train_batch(bx, by, {.lr = lr_at_(o, s)});
        if constexpr (!std::is_same_v<std::decay_t<Progress>, std::nullptr_t>) on_step(e * o.steps + s + 1, total, loss);
      }
    }
  }

  /// Predicted total latency (ms) of each row of raw features [n][10].
  std::vector<double> predict_ms(std::span<const std::array<double, 10>> features) {
    std::vector<double> out(features.size(), 0.0);
    if (model_ == predictor_model::linear) {
      for (std::size_t i = 0; i < features.size(); ++i) out[i] = latency_(linear_.predict(normalized_(features[i])));
      return out;
    }
    if (model_ == predictor_model::quadratic) {
      for (std::size_t i = 0; i < features.size(); ++i)
        out[i] = latency_(quadratic_.predict(quadratic_expansion(normalized_(features[i]))));
      return out;
    }
    HAT_ASSERT(!nets_.empty(), "latency_predictor: not trained or loaded");
    std::vector<float> x(features.size() * 10), y(features.size());
    for (std::size_t i = 0; i < features.size(); ++i) {
      const auto f = normalized_(features[i]);
      for (std::size_t j = 0; j < 10; ++j) x[i * 10 + j] = static_cast<float>(f[j]);
    }
    for (auto& net : nets_) {
      net->predict(x, y);
      for (std::size_t i = 0; i < y.size(); ++i) out[i] += y[i];
    }
    for (auto& v : out) v = latency_(v / static_cast<double>(nets_.size()));
    return out;
  }
  double predict_ms(const std::array<double, 10>& features) { return predict_ms(std::span(&features, 1))[0]; }
  template <transformer_space S>
  double operator()(const arch<S>& a) { return predict_ms(hat_features(a)); }

  double lat_norm() const noexcept { return lat_norm_; }
  predictor_model model() const noexcept { return model_; }
  std::size_t ensemble_size() const noexcept { return nets_.size(); }

  // --- files: "HATPRED\0", version, model, sizes, settings, parameters, FNV-1a checksum ---
  void save(const std::filesystem::path& path) const {
    std::string out("HATPRED", 8);
    put_(out, format_version);
    put_(out, static_cast<std::uint32_t>(model_));
    put_(out, static_cast<std::uint32_t>(Hidden));
    put_(out, static_cast<std::uint32_t>(HiddenLayers));
    put_(out, static_cast<std::uint32_t>(log_target_));
    put_(out, lat_norm_);
    if (model_ == predictor_model::linear) {
      for (double w : linear_.coefficients()) put_(out, w);
    } else if (model_ == predictor_model::quadratic) {
      for (double w : quadratic_.coefficients()) put_(out, w);
    } else {
      put_(out, static_cast<std::uint32_t>(nets_.size()));
      for (const auto& net : nets_)
        for (float p : net->parameters()) put_(out, p);
    }
    put_(out, fnv1a_(out));
    write_file_atomic(path, out);
  }

  static latency_predictor load(Backend& be, const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw config_error(path.string() + ": cannot open the predictor file");
    const std::string data{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    const std::string name = path.string();
    if (data.size() < 8 + 8 || data.compare(0, 8, std::string("HATPRED", 8)) != 0)
      throw config_error(name + ": not a hat latency predictor (bad magic)");
    std::uint64_t stored = 0;
    std::memcpy(&stored, data.data() + data.size() - 8, 8);
    if (stored != fnv1a_(std::string_view(data).substr(0, data.size() - 8)))
      throw config_error(name + ": checksum mismatch (the file is corrupted or truncated)");
    std::size_t pos = 8;
    const auto get = [&]<class V>(V& v) {
      if (pos + sizeof(V) > data.size() - 8) throw config_error(name + ": truncated predictor file");
      std::memcpy(&v, data.data() + pos, sizeof(V));
      pos += sizeof(V);
    };
    std::uint32_t version = 0, model = 0, hidden = 0, layers = 0, log_target = 0;
    double lat_norm = 0;
    get(version);
    if (version != format_version)
      throw config_error(name + ": predictor format version " + std::to_string(version) + ", this build reads " +
                         std::to_string(format_version));
    get(model);
    get(hidden);
    get(layers);
    get(log_target);
    get(lat_norm);
    if (model < 1 || model > 3) throw config_error(name + ": unknown model kind " + std::to_string(model));
    if (model == 1 && (hidden != Hidden || layers != HiddenLayers))
      throw config_error(name + ": the network is 10 -> " + std::to_string(hidden) + " x " + std::to_string(layers + 1) +
                         " -> 1, this program expects 10 -> " + std::to_string(Hidden) + " x " +
                         std::to_string(HiddenLayers + 1) + " -> 1");
    if (!(lat_norm > 0)) throw config_error(name + ": lat_norm must be positive");
    latency_predictor p(be, lat_norm, static_cast<predictor_model>(model));
    p.log_target_ = log_target != 0;
    if (p.model_ == predictor_model::linear) {
      for (double& w : p.linear_.coefficients()) get(w);
    } else if (p.model_ == predictor_model::quadratic) {
      for (double& w : p.quadratic_.coefficients()) get(w);
    } else {
      std::uint32_t count = 0;
      get(count);
      if (count == 0 || count > 1024) throw config_error(name + ": bad ensemble size " + std::to_string(count));
      std::vector<float> params(network::param_count);
      for (std::uint32_t e = 0; e < count; ++e) {
        for (float& v : params) get(v);
        p.nets_.emplace_back(std::make_unique<network>(be))->set_parameters(params);
      }
    }
    if (pos != data.size() - 8) throw config_error(name + ": unexpected trailing data");
    return p;
  }

 private:
  static std::array<double, 10> normalized_(const std::array<double, 10>& f) {
    std::array<double, 10> n{};
    for (std::size_t i = 0; i < 10; ++i) n[i] = f[i] / hat_feature_norm[i];
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
  static std::uint64_t fnv1a_(std::string_view s) {
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    return h;
  }

  Backend* be_;
  double lat_norm_;
  predictor_model model_;
  bool log_target_ = false;
  linear_model<10> linear_;
  linear_model<quadratic_features> quadratic_;
  std::vector<std::unique_ptr<network>> nets_;
};

}  // namespace hat
