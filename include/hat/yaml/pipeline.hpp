// SPDX-License-Identifier: MIT
// The config of `hat pipeline`: which training config and corpus, how many architectures to
// measure, the latency constraints, the search, SubTransformer training and the test. Paths are
// relative to the config file's folder. Unknown keys are errors naming their line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include <hat/backend/precision.hpp>
#include <hat/config.hpp>
#include <hat/io/read_file.hpp>
#include <hat/yaml/training.hpp>
#include <hat/yaml/read.hpp>

namespace hat {

/// A latency constraint: milliseconds, or a percentage of the slowest latency measured in the
/// run's latency dataset (`50%`), which keeps a config meaningful on devices of any speed.
struct latency_limit {
  double value = 0;
  bool percent = false;
  double ms(double slowest_measured_ms) const noexcept { return percent ? value / 100 * slowest_measured_ms : value; }
  std::string name() const {  // for file names: 12.5ms, 50pct
    char buf[48];
    std::snprintf(buf, sizeof buf, "%g%s", value, percent ? "pct" : "ms");
    return buf;
  }
};

struct pipeline_config {
  std::string file;
  std::string training_config;      // `training-config`: hat train's YAML (space, model, recipe)
  std::string data;                 // `data`: corpus folder
  std::size_t supertransformer_updates = 0;  // 0: the training config's max-update
  std::string supertransformer_checkpoint;   // a SuperTransformer trained already: skip that step
  // latency dataset (HAT's latency_dataset.py) on this device
  std::size_t latency_samples = 200, latency_iters = 10, latency_warmup = 2, latency_beam = 5;
  std::size_t latency_source_length = 0;     // 0: the mean length of the validation sources
  std::size_t latency_passes = 1;            // the dataset and the results measured this many times (1: HAT's)
  int latency_threads = 1;
  std::string latency_device = "cpu";        // cpu, or cuda: the dataset and the results timed on the first GPU
  // predictor (HAT's latency_predictor.py)
  std::string predictor_model = "auto";      // mlp, linear, quadratic, cost, auto
  double predictor_lat_norm = 0;             // 0: the largest measured latency
  std::string predictor_adapt_from;          // a predictor of another device: adapt it with the dataset's rows
  // search (HAT's evo_search.py) at each constraint
  std::vector<latency_limit> latency_constraints;  // required
  std::string fitness = "valid-loss";        // valid-loss, params, flops
  std::size_t valid_batches = 2;
  std::size_t iterations = 10, population = 40, parents = 10, mutations = 15, crossovers = 15;
  double mutation_prob = 0.3;
  std::uint64_t seed = 1;
  // SubTransformer training and test
  std::size_t subtransformer_updates = 200;
  bool subtransformer_inherit = true;        // `subtransformer-init: inherit` (default) or `scratch` (HAT's)
  double subtransformer_lr = 0;              // peak learning rate (0: the training config's)
  std::optional<std::size_t> subtransformer_warmup;  // warm-up updates (none: the training config's)
  bool baselines = false;                    // also a uniformly scaled Transformer at each constraint
  std::string test_split;                    // empty: the training config's test-subset
  std::size_t beam = 5;
  double lenpen = 1.0, max_len_a = 0.0;
  std::size_t max_len_b = 200;
  int threads = 1;
  std::string train_device = "cpu";  // cpu, or cuda: SuperTransformer and SubTransformer training on the first GPU
  // `precision`: the weights' precision the results are for: the latency dataset and the
  // results are timed at it, the predictor learns it, the search's valid loss and the test
  // decode at it (training stays fp32). `int8-scales` with int8.
  precision weights = precision::fp32;
  int8_scales scales = int8_scales::panel;
};

namespace detail {
inline double yaml_positive(const YAML::Node& v, const std::string& file, const std::string& k, const YAML::Mark& m) {
  const double d = yaml_double(v, file, k, m);
  if (!(d > 0)) throw config_error(where(file, m) + ": key '" + k + "': must be positive");
  return d;
}
}  // namespace detail

/// Parses a pipeline config; `file` names it in errors and anchors relative paths.
inline pipeline_config parse_pipeline_yaml(const std::string& text, const std::string& file) {
  const YAML::Node root = detail::load_yaml_mapping(text, file);
  pipeline_config c;
  c.file = file;
  const auto base = std::filesystem::path(file).parent_path();
  const auto path = [&](const std::string& p) { return (std::filesystem::path(p).is_absolute() ? std::filesystem::path(p) : base / p).lexically_normal().string(); };
  bool have_constraints = false, have_training = false, have_scales = false;
  for (auto it = root.begin(); it != root.end(); ++it) {
    if (!it->first.IsScalar()) throw config_error(detail::where(file, it->first.Mark()) + ": expected a plain key");
    const std::string k = it->first.Scalar();  // copies: the iterator's pair is a temporary proxy
    const YAML::Node v = it->second;
    const YAML::Mark m = it->first.Mark();
    const auto count = [&] { return detail::yaml_count(v, file, k, m); };
    const auto positive_count = [&] {
      const std::size_t n = count();
      if (n == 0) throw config_error(detail::where(file, m) + ": key '" + k + "': must be positive");
      return n;
    };
    const auto text_value = [&] { return detail::yaml_text(v, file, k, m); };
    const auto one_of = [&](std::initializer_list<const char*> allowed) {
      const std::string s = text_value();
      std::string list;
      for (const char* a : allowed) {
        if (s == a) return s;
        list += std::string(list.empty() ? "" : ", ") + a;
      }
      throw config_error(detail::where(file, m) + ": key '" + k + "': '" + s + "' is not one of " + list);
    };
    if (k == "training-config") c.training_config = path(text_value()), have_training = true;
    else if (k == "data") c.data = path(text_value());
    else if (k == "supertransformer-updates") c.supertransformer_updates = count();
    else if (k == "supertransformer-checkpoint") c.supertransformer_checkpoint = path(text_value());
    else if (k == "latency-samples") c.latency_samples = positive_count();
    else if (k == "latency-iters") c.latency_iters = positive_count();
    else if (k == "latency-warmup") c.latency_warmup = count();
    else if (k == "latency-passes") {
      c.latency_passes = positive_count();
      if (c.latency_passes > 16) throw config_error(detail::where(file, m) + ": key 'latency-passes': at most 16");
    }
    else if (k == "latency-beam") c.latency_beam = positive_count();
    else if (k == "latency-source-length") c.latency_source_length = count();
    else if (k == "latency-threads") c.latency_threads = static_cast<int>(positive_count());
    else if (k == "latency-device") c.latency_device = one_of({"cpu", "cuda"});
    else if (k == "predictor-model") c.predictor_model = one_of({"mlp", "linear", "quadratic", "cost", "auto"});
    else if (k == "predictor-lat-norm") c.predictor_lat_norm = detail::yaml_positive(v, file, k, m);
    else if (k == "predictor-adapt-from") c.predictor_adapt_from = path(text_value());
    else if (k == "latency-constraints") {
      if (!v.IsSequence() || v.size() == 0)
        throw config_error(detail::where(file, m) + ": key '" + k + "': expected a list of latencies in ms or percentages of the slowest measured, like [10, 20] or [50%, 75%]");
      c.latency_constraints.clear();
      for (const auto& item : v) {
        latency_limit l;
        if (item.IsScalar() && !item.Scalar().empty() && item.Scalar().back() == '%') {
          const std::string digits = item.Scalar().substr(0, item.Scalar().size() - 1);
          char* end = nullptr;
          l.value = std::strtod(digits.c_str(), &end);
          l.percent = true;
          if (digits.empty() || *end != '\0' || !(l.value > 0 && l.value <= 100))
            throw config_error(detail::where(file, item.Mark()) + ": key '" + k + "': '" + item.Scalar() +
                               "' is not a percentage in (0, 100]");
        } else {
          l.value = detail::yaml_positive(item, file, k, item.Mark());
        }
        c.latency_constraints.push_back(l);
      }
      have_constraints = true;
    } else if (k == "fitness") c.fitness = one_of({"valid-loss", "params", "flops"});
    else if (k == "valid-batches") c.valid_batches = count();
    else if (k == "iterations") c.iterations = positive_count();
    else if (k == "population") c.population = positive_count();
    else if (k == "parents") c.parents = positive_count();
    else if (k == "mutations") c.mutations = count();
    else if (k == "crossovers") c.crossovers = count();
    else if (k == "mutation-prob") {
      c.mutation_prob = detail::yaml_double(v, file, k, m);
      if (!(c.mutation_prob >= 0 && c.mutation_prob <= 1))
        throw config_error(detail::where(file, m) + ": key '" + k + "': a probability in [0, 1]");
    } else if (k == "seed") c.seed = count();
    else if (k == "subtransformer-updates") c.subtransformer_updates = count();
    else if (k == "subtransformer-init") c.subtransformer_inherit = one_of({"inherit", "scratch"}) == "inherit";
    else if (k == "subtransformer-lr") c.subtransformer_lr = detail::yaml_positive(v, file, k, m);
    else if (k == "subtransformer-warmup-updates") c.subtransformer_warmup = count();
    else if (k == "baselines") c.baselines = detail::yaml_bool(v, file, k, m);
    else if (k == "test-split") c.test_split = text_value();
    else if (k == "beam") c.beam = positive_count();
    else if (k == "lenpen") c.lenpen = detail::yaml_double(v, file, k, m);
    else if (k == "max-len-a") {
      c.max_len_a = detail::yaml_double(v, file, k, m);
      if (c.max_len_a < 0) throw config_error(detail::where(file, m) + ": key 'max-len-a': must not be negative");
    }
    else if (k == "max-len-b") c.max_len_b = count();
    else if (k == "threads") c.threads = static_cast<int>(positive_count());
    else if (k == "train-device") c.train_device = one_of({"cpu", "cuda"});
    else if (k == "precision") c.weights = parse_precision(one_of({"fp32", "bf16", "int8"}), k);
    else if (k == "int8-scales") c.scales = parse_int8_scales(one_of({"panel", "row"}), k), have_scales = true;
    else throw config_error(detail::where(file, m) + ": unknown key '" + k + "'");
  }
  if (!have_training) throw config_error(file + ": missing key 'training-config' (hat train's YAML)");
  if (!have_constraints) throw config_error(file + ": missing key 'latency-constraints' (a list of ms)");
  if (c.weights != precision::fp32 && c.latency_device != "cpu")
    throw config_error(file + ": key 'precision': " + std::string(precision_name(c.weights)) + " is timed on the CPU only (latency-device: " +
                       c.latency_device + " times fp32)");
  if (have_scales && c.weights != precision::int8)
    throw config_error(file + ": key 'int8-scales' applies to 'precision: int8' only (the precision is " +
                       std::string(precision_name(c.weights)) + ")");
  if (!c.predictor_adapt_from.empty()) {
    if (c.predictor_model != "auto" && c.predictor_model != "cost")
      throw config_error(file + ": predictor-adapt-from adapts with the cost model; predictor-model '" + c.predictor_model +
                         "' contradicts it (leave it out, or say cost)");
    if (c.latency_samples < 5)
      throw config_error(file + ": predictor-adapt-from needs latency-samples >= 5 (10-50 is the intended use), got " +
                         std::to_string(c.latency_samples));
  }
  if (c.parents + c.mutations + c.crossovers != c.population)
    throw config_error(file + ": parents + mutations + crossovers must equal population (" + std::to_string(c.parents) + " + " +
                       std::to_string(c.mutations) + " + " + std::to_string(c.crossovers) + " != " +
                       std::to_string(c.population) + ")");
  return c;
}

inline pipeline_config read_pipeline_yaml(const std::string& path) { return parse_pipeline_yaml(read_file(path), path); }

}  // namespace hat
