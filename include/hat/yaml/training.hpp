// SPDX-License-Identifier: MIT
// training_yaml: a training run's settings from HAT's YAML keys (supertransformer/space*.yml, subtransformer/common.yml) plus ours.
#pragma once

#include <cerrno>
#include <cmath>
#include <cstdlib>  // std::strtod
#include <filesystem>
#include <string>
#include <vector>

#include <hat/config.hpp>
#include <hat/io/read_file.hpp>
#include <hat/yaml/read.hpp>
#include <hat/train/options.hpp>

namespace hat {

/// Everything `hat train` reads from a config file. HAT's keys keep HAT's names and meanings
/// (fairseq's options, as in HAT's configs/*/supertransformer/*.yml); the rest are ours: where
/// the data is and how to cut it into subwords, which built-in space, how often to validate and
/// save.
struct training_config {
  std::string file;                 // the config's path (relative paths in it are relative to its folder)
  std::string text;                 // its contents (space_yaml_differences compares them with a space type)
  bool has_space_keys = false;      // it lists `*-choice` keys: a space to check
  std::string space = "wmt";        // `space`, else from HAT's `arch`: wmt (space0), iwslt (space1), multi30k, multi30k-tiny
  // data (ours, plus HAT's source-lang / target-lang)
  std::string data;                 // corpus folder: <split>.<lang>[.gz]
  std::string source_lang = "de", target_lang = "en";
  std::string train_split = "train", valid_split = "valid", test_split = "test";
  std::size_t bpe_vocab_size = 8000;  // joint SentencePiece BPE trained on the training split...
  std::string bpe_model;              // ...unless a model file is given
  std::size_t max_positions = 1024;   // fairseq's max-source/target-positions: longer pairs are dropped
  bool share_all_embeddings = true;   // HAT's share-all-embeddings (WMT); else decoder input/output share
  // training
  trainer_options trainer;
  bool train_subtransformer = false;  // HAT's train-subtransformer: the architecture is fixed
  std::string subtransformer_config;  // its YAML (ours; `hat train --arch` too)
  std::size_t validate_interval_updates = 0;  // 0: at the end only
  std::size_t save_interval_updates = 0;      // 0: at the end only
  std::size_t valid_batches = 0;              // 0: the whole validation split
  std::size_t log_interval = 10;              // progress line every N updates
  std::uint64_t init_seed = 1;                // HAT's initialisation (the trainer's `seed` drives dropout)

  /// A path the config names, resolved against the config's folder.
  std::string resolve(const std::string& p) const {
    if (p.empty() || std::filesystem::path(p).is_absolute()) return p;
    return (std::filesystem::path(file).parent_path() / p).string();
  }
};

namespace detail {
inline double yaml_double(const YAML::Node& n, const std::string& file, const std::string& key, const YAML::Mark& mark) {
  if (n.IsSequence() && n.size() == 1) return yaml_double(n[0], file, key, mark);  // fairseq's lr is a list
  if (!n.IsScalar()) throw config_error(where_value(file, n, mark) + ": key '" + key + "': expected a number");
  const std::string& s = n.Scalar();
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || errno == ERANGE || !std::isfinite(v))
    throw config_error(where_value(file, n, mark) + ": key '" + key + "': expected a number, got '" + s + "'");
  return v;
}
inline std::size_t yaml_count(const YAML::Node& n, const std::string& file, const std::string& key, const YAML::Mark& mark) {
  const int v = yaml_int(n, file, key, mark);
  if (v < 0) throw config_error(where_value(file, n, mark) + ": key '" + key + "': must not be negative");
  return static_cast<std::size_t>(v);
}
inline bool yaml_bool(const YAML::Node& n, const std::string& file, const std::string& key, const YAML::Mark& mark) {
  const std::string s = n.IsScalar() ? n.Scalar() : "";
  if (s == "True" || s == "true" || s == "yes") return true;
  if (s == "False" || s == "false" || s == "no") return false;
  throw config_error(where_value(file, n, mark) + ": key '" + key + "': expected True or False, got '" + s + "'");
}
inline std::string yaml_text(const YAML::Node& n, const std::string& file, const std::string& key, const YAML::Mark& mark) {
  if (!n.IsScalar() || n.Scalar().empty())
    throw config_error(where_value(file, n, mark) + ": key '" + key + "': expected a value");
  return n.Scalar();
}
}  // namespace detail

/// Reads a training config. Unknown keys are errors (a misspelt key would silently change
/// the run); HAT's keys that do not apply here (fp16, ddp-backend, epoch-based intervals) are
/// accepted and ignored, and the search-space keys are left to the caller to compare with the
/// space type (space_yaml_differences). Errors name the file, the line and the key.
inline training_config parse_training_yaml(const std::string& text, const std::string& file) {
  const YAML::Node root = detail::load_yaml_mapping(text, file);
  training_config c;
  c.file = file;
  c.text = text;
  c.trainer.adam.style = adam_settings::eps_style::fairseq;
  std::string scheduler = "inverse_sqrt";
  double lr = 5e-4, max_lr = 1e-3, warmup_init = 1e-7, lr_shrink = 1, t_mult = 1;
  std::size_t warmup = 4000, period = 0;
  bool have_max_lr = false, space_given = false;
  int positions_line = -1;  // where max-source/target-positions was first given
  std::string arch_name;
  for (auto it = root.begin(); it != root.end(); ++it) {
    if (!it->first.IsScalar()) throw config_error(detail::where(file, it->first.Mark()) + ": expected a plain key");
    // Copies: the iterator's pair is a temporary proxy (a reference into it would dangle).
    const std::string k = it->first.Scalar();
    const YAML::Node v = it->second;
    const YAML::Mark m = it->first.Mark();
    const auto num = [&] { return detail::yaml_double(v, file, k, m); };
    const auto count = [&] { return detail::yaml_count(v, file, k, m); };
    const auto text_value = [&] { return detail::yaml_text(v, file, k, m); };
    const auto positive = [&] {
      const double x = num();
      if (!(x > 0)) throw config_error(detail::where(file, m) + ": key '" + k + "': must be positive, got " + v.Scalar());
      return x;
    };
    const auto non_negative = [&] {
      const double x = num();
      if (x < 0) throw config_error(detail::where(file, m) + ": key '" + k + "': must not be negative, got " + v.Scalar());
      return x;
    };
    const auto rate = [&] {
      const double r = num();
      if (r < 0 || r >= 1) throw config_error(detail::where(file, m) + ": key '" + k + "': a rate in [0, 1), got " + std::to_string(r));
      return r;
    };
    auto& t = c.trainer;
    if (k == "space") c.space = text_value(), space_given = true;
    else if (k == "arch") arch_name = text_value();
    else if (k == "data") c.data = text_value();
    else if (k == "source-lang") c.source_lang = text_value();
    else if (k == "target-lang") c.target_lang = text_value();
    else if (k == "train-subset") c.train_split = text_value();
    else if (k == "valid-subset") c.valid_split = text_value();
    else if (k == "test-subset") c.test_split = text_value();
    else if (k == "bpe-vocab-size") c.bpe_vocab_size = count();
    else if (k == "bpe-model") c.bpe_model = text_value();
    else if (k == "max-source-positions" || k == "max-target-positions") {
      // One position table serves both sides here: two different bounds would be silently one.
      const std::size_t n = count();
      if (n == 0) throw config_error(detail::where(file, m) + ": key '" + k + "': must be positive");
      if (positions_line >= 0 && n != c.max_positions)
        throw config_error(detail::where(file, m) + ": key '" + k + "': " + std::to_string(n) + " differs from " +
                           std::to_string(c.max_positions) + " at line " + std::to_string(positions_line + 1) +
                           "; hat's models have one position table for both sides: give both keys one value");
      c.max_positions = n;
      positions_line = m.line;
    }
    else if (k == "share-all-embeddings") c.share_all_embeddings = detail::yaml_bool(v, file, k, m);
    else if (k == "share-decoder-input-output-embed") (void)detail::yaml_bool(v, file, k, m);  // always shared here
    else if (k == "max-update") t.max_update = count();
    else if (k == "max-tokens") t.batching.max_tokens = t.valid_max_tokens = count();
    else if (k == "max-tokens-valid") t.valid_max_tokens = count();
    else if (k == "update-freq") t.update_freq = count();
    else if (k == "seed") t.seed = t.batching.seed = c.init_seed = count();
    else if (k == "optimizer") {
      if (text_value() != "adam") throw config_error(detail::where(file, m) + ": key 'optimizer': only adam is supported (HAT's)");
    } else if (k == "adam-betas") {
      std::string s = text_value();
      for (char& ch : s)
        if (ch == '(' || ch == ')' || ch == '[' || ch == ']' || ch == ',') ch = ' ';
      char* end = nullptr;
      t.adam.beta1 = std::strtod(s.c_str(), &end);
      const char* rest = end;
      t.adam.beta2 = std::strtod(rest, &end);
      if (end == rest || !(t.adam.beta1 >= 0 && t.adam.beta1 < 1 && t.adam.beta2 >= 0 && t.adam.beta2 < 1))
        throw config_error(detail::where(file, m) + ": key 'adam-betas': expected '(beta1, beta2)' in [0, 1), got '" +
                           v.Scalar() + "'");
    } else if (k == "adam-eps") t.adam.eps = positive();
    else if (k == "adam-eps-style") {
      const std::string s = text_value();
      if (s != "fairseq" && s != "pytorch") throw config_error(detail::where(file, m) + ": key 'adam-eps-style': fairseq or pytorch");
      t.adam.style = s == "fairseq" ? adam_settings::eps_style::fairseq : adam_settings::eps_style::pytorch;
    } else if (k == "weight-decay") t.adam.weight_decay = non_negative();
    else if (k == "clip-norm") t.adam.clip_norm = non_negative();  // 0: no clipping (fairseq's)
    else if (k == "dropout") t.dropout.dropout = rate();
    else if (k == "attention-dropout") t.dropout.attention = rate();
    else if (k == "activation-dropout" || k == "relu-dropout") t.dropout.activation = rate();
    else if (k == "criterion") {
      if (text_value() != "label_smoothed_cross_entropy")
        throw config_error(detail::where(file, m) + ": key 'criterion': only label_smoothed_cross_entropy is supported (HAT's)");
    } else if (k == "label-smoothing") t.label_smoothing = rate();
    else if (k == "lr-scheduler") {
      scheduler = text_value();
      if (scheduler != "inverse_sqrt" && scheduler != "cosine")
        throw config_error(detail::where(file, m) + ": key 'lr-scheduler': inverse_sqrt or cosine, got '" + scheduler + "'");
    } else if (k == "lr") lr = positive();
    else if (k == "max-lr") max_lr = positive(), have_max_lr = true;
    else if (k == "warmup-updates") warmup = count();
    else if (k == "warmup-init-lr") warmup_init = non_negative();
    else if (k == "lr-shrink") lr_shrink = positive();
    else if (k == "t-mult") t_mult = positive();
    else if (k == "lr-period-updates") period = count();
    else if (k == "sampling") {
      const std::string s = text_value();
      if (s == "random") t.sampling = sampling_rule::hat_random;
      else if (s == "sandwich") t.sampling = sampling_rule::sandwich;
      else throw config_error(detail::where(file, m) + ": key 'sampling': random (HAT's) or sandwich, got '" + s + "'");
    } else if (k == "precision") {  // the products' precision in training (the pipeline's own key is the weights' in inference)
      const std::string p = text_value();
      if (p != "fp32" && p != "bf16")
        throw config_error(detail::where(file, m) + ": key 'precision': training runs at fp32 or bf16, got '" + p + "'" +
                           (p == "int8" ? " (int8 is for inference: hat test, translate, latency --precision)" : ""));
      t.products = parse_precision(p, detail::where(file, m) + ": key 'precision'");
    } else if (k == "train-subtransformer") c.train_subtransformer = detail::yaml_bool(v, file, k, m);
    else if (k == "subtransformer-config") c.subtransformer_config = text_value();
    else if (k == "validate-interval-updates") c.validate_interval_updates = count();
    else if (k == "save-interval-updates") c.save_interval_updates = count();
    else if (k == "valid-batches") c.valid_batches = count();
    else if (k == "log-interval") c.log_interval = count();
    else if (k.ends_with("-choice") || k == "encoder-embed-dim" || k == "decoder-embed-dim" || k == "encoder-ffn-embed-dim" ||
             k == "decoder-ffn-embed-dim" || k == "encoder-layers" || k == "decoder-layers" ||
             k == "encoder-attention-heads" || k == "decoder-attention-heads" || k == "qkv-dim") {
      c.has_space_keys = c.has_space_keys || k.ends_with("-choice");  // compared with the space type by the caller
    } else if (k == "fp16" || k == "ddp-backend" || k == "distributed-world-size" || k == "keep-last-epochs" ||
               k == "save-interval" || k == "validate-interval" || k == "no-epoch-checkpoints" || k == "log-format" ||
               k == "tensorboard-logdir" || k == "num-workers" || k == "save-dir" || k == "restore-file") {
      // HAT's, without effect here (precision, multi-GPU, epoch-based intervals) or given on the command line
    } else {
      throw config_error(detail::where(file, m) + ": unknown key '" + k + "'");
    }
  }
  if (!space_given && !arch_name.empty()) {
    if (arch_name.find("iwslt") != std::string::npos) c.space = "iwslt";
    else if (arch_name.find("wmt") != std::string::npos) c.space = "wmt";
    else if (!arch_name.empty()) throw config_error(file + ": key 'arch': '" + arch_name + "' is not a HAT SuperTransformer; set 'space'");
  }
  if (scheduler == "cosine") {
    if (!have_max_lr) max_lr = lr;
    cosine_schedule s;
    s.max_lr = max_lr;
    s.min_lr = lr;
    s.warmup_init_lr = warmup_init;
    s.warmup_updates = warmup;
    s.period = period ? period : (c.trainer.max_update > warmup ? c.trainer.max_update - warmup : 1);
    s.t_mult = t_mult;
    s.lr_shrink = lr_shrink;
    c.trainer.schedule = s;
  } else {
    c.trainer.schedule = inverse_sqrt_schedule{lr, warmup_init, warmup};
  }
  if (c.trainer.update_freq == 0) throw config_error(file + ": key 'update-freq' must be at least 1");
  if (warmup == 0) throw config_error(file + ": key 'warmup-updates' must be at least 1");
  if (c.trainer.batching.max_tokens == 0) throw config_error(file + ": key 'max-tokens' must be positive");
  return c;
}

inline training_config read_training_yaml(const std::filesystem::path& path) {
  return parse_training_yaml(read_file(path), path.string());
}

}  // namespace hat
