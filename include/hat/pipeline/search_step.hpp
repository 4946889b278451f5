// SPDX-License-Identifier: MIT
// search_step: the pipeline's search (HAT's evo_search.py): evolution under a predicted-latency
// constraint with the SuperTransformer's validation loss (or #params, FLOPs) as fitness; every scored
// network recorded; the best one written last as SubTransformer YAML.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <hat/backend/concepts.hpp>
#include <hat/backend/precision.hpp>
#include <hat/config.hpp>
#include <hat/data/load_corpus.hpp>
#include <hat/data/subword_model.hpp>
#include <hat/dist/communicator.hpp>
#include <hat/io/same_file.hpp>
#include <hat/nn/checkpoint.hpp>
#include <hat/pipeline/fairseq_data.hpp>
#include <hat/pipeline/subword_binding.hpp>
#include <hat/profile/flops.hpp>
#include <hat/profile/params.hpp>
#include <hat/search/callbacks.hpp>
#include <hat/search/constraint.hpp>
#include <hat/search/evolution.hpp>
#include <hat/search/pareto.hpp>
#include <hat/train/trainer.hpp>
#include <hat/yaml/subtransformer.hpp>

namespace hat {

/// What the search maximises: HAT's validation loss of the SubTransformer with inherited weights
/// (minimised), or, standing in for it, #params or FLOPs (a bigger network under the same
/// latency taken as the better one: minimised negated).
enum class search_fitness { valid_loss, params, flops };

/// A fitness by the name configs and flags use; another name is a config_error naming `where`.
inline search_fitness search_fitness_named(const std::string& name, const std::string& where) {
  if (name == "valid-loss") return search_fitness::valid_loss;
  if (name == "params") return search_fitness::params;
  if (name == "flops") return search_fitness::flops;
  throw config_error(where + ": fitness '" + name + "': expected valid-loss, params or flops");
}

struct search_inputs {
  double limit_ms = 0;  // the predicted-latency constraint
  search_fitness fitness = search_fitness::params;
  // valid_loss: the SuperTransformer and its corpus (empty strings: as training recorded them)
  std::string checkpoint, data, bpe_model, valid_split;
  std::string source_lang, target_lang;  // fairseq's binarized data: the languages (empty: as recorded)
  std::size_t valid_batches = 0, max_tokens = 4096;  // validation batches per evaluation (0: all)
  std::size_t flops_length = 30;                     // sentence length of the FLOPs fitness
  /// The weights' precision searched for: the valid-loss fitness scores at it, and a latency
  /// predictor that records another precision is refused (latency_predictor::measured_at).
  precision weights = precision::fp32;
  int8_scales scales = int8_scales::panel;  // int8's (backend/precision.hpp)
  evolution_options evo;
  std::filesystem::path out;      // the best architecture (written last: it marks the step done)
  std::filesystem::path history;  // every scored network as CSV, and an SVG beside it (empty: none)
  std::string title;              // of the history plot
  std::vector<std::filesystem::path> inputs;  // files the caller read (the predictor's): never overwritten
  std::ostream* progress = &std::cerr;  // a line per iteration (null: quiet)
  /// The ranks that share the scoring (docs/distributed.md; null: this process alone). Every rank
  /// runs the same search; each generation's new networks are split over the ranks, every rank
  /// gets every score, so the result is the same as on one rank. Rank 0 alone writes and prints.
  communicator* comm = nullptr;
};

/// A search's fitness scored by the ranks together: rank r scores the r-th, (r + n)-th, ... of a
/// generation's new networks, and every rank receives every value (exact: their bytes), so the
/// search runs the same on each rank and on one.
template <transformer_space S>
struct fitness_over_ranks {
  communicator* comm = nullptr;  // null or one rank: no prefetching, each network scored when asked
  std::function<double(const arch<S>&)> score;
  std::unordered_map<arch<S>, double, std::hash<arch<S>>> ready;  // by canonical network

  void prefetch(std::span<const arch<S>> networks) {
    if (!comm || comm->size() == 1) return;
    std::string mine;
    on_every_rank(*comm, [&] {
      for (std::size_t i = comm->rank(); i < networks.size(); i += comm->size()) {
        const double v = score(networks[i]);
        mine.append(reinterpret_cast<const char*>(&v), sizeof v);
      }
    });
    const auto all = comm->gather(mine);
    for (std::size_t r = 0; r < all.size(); ++r)
      for (std::size_t k = 0; k * sizeof(double) < all[r].size(); ++k) {
        double v = 0;
        std::memcpy(&v, all[r].data() + k * sizeof(double), sizeof v);
        ready[networks[r + k * all.size()].canonical()] = v;
      }
  }
  double operator()(const arch<S>& a) {
    if (auto it = ready.find(a.canonical()); it != ready.end()) return it->second;
    return score(a);
  }
};

template <transformer_space S>
struct search_outputs {
  search_result<S> result;
  double predicted_ms = 0;  // of the best
  std::vector<pareto_point<S, 2>> scored;  // (fitness, predicted latency) of every scored network
  std::function<double(const arch<S>&)> fitness;  // for further searches (an NSGA-II front, say)
  std::string fitness_name;                       // its axis label
};

/// HAT's fitness: the validation loss (label-smoothed, bits per token) of a SubTransformer with
/// the SuperTransformer's weights, on the first `batches` batches of the validation split.
template <transformer_space S, backend_policy Backend>
struct valid_loss_fitness {
  using model_t = super_transformer_for<S, Backend>;
  Backend* be;
  model_t model;
  parallel_corpus valid;
  std::size_t max_tokens, batches;
  std::shared_ptr<Backend> converted{};  // the backend at another precision (set_precision)
  precision weights = precision::fp32;    // what set_precision asked for
  int8_scales scales = int8_scales::panel;

  /// Scores at the weights' precision p from now on (converted once; the model must stay where
  /// it is after this: a copy of the fitness is refused when it scores, not run in fp32).
  void set_precision(precision p, int8_scales s) {
    if (auto run = backend_at(*be, model, p, s)) converted = std::move(run), be = converted.get();
    weights = p, scales = s;
  }

  static valid_loss_fitness load(Backend& be, const search_inputs& in) {
    checkpoint_extras x;
    auto model = load_checkpoint<typename model_t::maxima, Backend>(be, in.checkpoint, &x);
    const auto recorded = [&](const char* key, const std::string& given) { return checkpoint_value(x, in.checkpoint, key, given); };
    const std::string* mp = x.value("max_positions");
    const std::size_t positions = mp ? std::stoul(*mp) : 1024;
    if (is_fairseq_binarized(in.data)) {
      const std::string* split = x.value("valid_split");
      auto valid = valid_split_of(model, positions, in, split && in.valid_split.empty() ? *split : in.valid_split,
                                  recorded("source_lang", in.source_lang), recorded("target_lang", in.target_lang), &x);
      return {&be, std::move(model), std::move(valid), in.max_tokens, in.valid_batches};
    }
    const auto subwords = checkpoint_subwords(x, in.checkpoint, in.bpe_model);
    const corpus_location at{in.data, recorded("source_lang", in.source_lang), recorded("target_lang", in.target_lang)};
    auto valid = load_corpus(at, recorded("valid_split", in.valid_split), subwords, positions);
    return {&be, std::move(model), std::move(valid), in.max_tokens, in.valid_batches};
  }
  /// The validation split (`split`, or fairseq's `valid`) of fairseq's binarized data in `in.data`
  /// for `model`; pairs past its `positions` are left out, and counted on `in.progress`.
  template <class Model>
  static parallel_corpus valid_split_of(const Model& model, std::size_t positions, const search_inputs& in, const std::string& split,
                                        const std::string& src, const std::string& tgt, const checkpoint_extras* recorded = nullptr) {
    return fairseq_valid_split(model.vocabulary(), positions, in.data, split.empty() ? "valid" : split, src, tgt, in.progress,
                               "hat search", recorded, in.checkpoint);
  }
  double operator()(const arch<S>& a) const {
    if constexpr (requires { be->decodes_at(weights, model, scales); })
      if (!be->decodes_at(weights, model, scales))
        throw config_error("valid-loss fitness: its " + weights_text(weights, scales) +
                           " weights belong to another model (a copy of the fitness: call set_precision on it)");
    const auto s = validation_loss(*be, model, config_of(a), valid, max_tokens, batches);
    return per_token_bits(s.loss, s.tokens);
  }
};

/// The search's files: the history (CSV and SVG), then the best architecture (last: it marks the
/// search done).
template <transformer_space S>
void write_search_files(const search_inputs& in, const search_outputs<S>& out) {
  if (!in.history.empty()) {
    write_pareto_csv(in.history, out.scored, std::array<std::string_view, 2>{out.fitness_name, "predicted_latency_ms"});
    char limit[32];
    std::snprintf(limit, sizeof limit, "%g", in.limit_ms);
    write_pareto_svg(std::filesystem::path(in.history).replace_extension(".svg"), out.scored, pareto_front(out.scored),
                     out.fitness_name, "predicted latency (ms)",
                     "Search: " + in.title + ", predicted latency <= " + limit + " ms (" + std::to_string(out.scored.size()) +
                         " networks scored)");
  }
  write_subtransformer_yaml(out.result.best, in.out);
}

/// Searches S under `in.limit_ms` of `predictor`'s latency (any callable arch<S> -> ms). Throws
/// infeasible_constraint when nothing meets it, config_error on a checkpoint of another space.
/// `valid_loss`, when given, is the valid-loss fitness (a model the caller loaded, HAT's .pt
/// say); else the fitness loads `in.checkpoint`.
template <transformer_space S, backend_policy Backend, class Predictor>
search_outputs<S> search_architecture(Backend& be, Predictor& predictor, const search_inputs& in,
                                      std::function<double(const arch<S>&)> valid_loss = {}) {
  std::vector<std::filesystem::path> read = in.inputs;
  read.push_back(in.checkpoint);
  refuse_to_overwrite(in.out, "the architecture file", read);
  if (!in.history.empty()) {
    refuse_to_overwrite(in.history, "the history", read);
    refuse_to_overwrite(std::filesystem::path(in.history).replace_extension(".svg"), "the history plot", read);
  }
  if constexpr (requires { predictor.measured_at(); })
    require_latencies_at(predictor.measured_at(), in.weights,
                         in.inputs.empty() ? std::string("the latency predictor") : in.inputs.front().string(),
                         "the search's precision");
  search_outputs<S> out;
  if (valid_loss && in.fitness != search_fitness::valid_loss)
    throw config_error("search: a valid-loss fitness was given for a search by another fitness");
  if (in.fitness == search_fitness::valid_loss && valid_loss) {
    out.fitness = std::move(valid_loss);
    out.fitness_name = "validation loss (bits/token)";
  } else if (in.fitness == search_fitness::valid_loss) {
    if (in.checkpoint.empty() || in.data.empty())
      throw config_error("the valid-loss fitness needs a SuperTransformer checkpoint and its corpus folder");
    auto valid = std::make_shared<valid_loss_fitness<S, Backend>>(valid_loss_fitness<S, Backend>::load(be, in));
    valid->set_precision(in.weights, in.scales);
    out.fitness = [valid](const arch<S>& a) { return (*valid)(a); };
    out.fitness_name = "validation loss (bits/token)";
  } else {
    const bool flops_fitness = in.fitness == search_fitness::flops;
    const auto len = static_cast<std::int64_t>(in.flops_length);
    out.fitness = [flops_fitness, len](const arch<S>& a) {
      return flops_fitness ? -static_cast<double>(flops(a, len)) / 1e9 : -static_cast<double>(params(a)) / 1e6;
    };
    out.fitness_name = flops_fitness ? "-FLOPs (G)" : "-params (M)";
  }
  const auto latency = [&](const arch<S>& a) { return predictor(a); };
  const auto feasible = at_most(latency, in.limit_ms);
  communicator& comm = in.comm ? *in.comm : this_process_alone();
  const bool lead = comm.rank() == 0;
  // Every architecture the search scores (each once: the fitness is cached), recorded in the
  // order the search asks for them, which is the same on every rank.
  struct recording {
    fitness_over_ranks<S> scores;
    search_outputs<S>* out;
    const decltype(latency)* latency_of;
    void prefetch(std::span<const arch<S>> networks) { scores.prefetch(networks); }
    double operator()(const arch<S>& a) {
      const double f = scores(a);
      out->scored.push_back({a, {f, (*latency_of)(a)}});
      return f;
    }
  };
  recording recording_fitness{{&comm, out.fitness, {}}, &out, &latency};
  evolution<S> search(in.evo);
  out.result = in.progress && lead ? search.run(recording_fitness, feasible, print_progress{*in.progress})
                                   : search.run(recording_fitness, feasible);
  out.predicted_ms = latency(out.result.best);
  on_every_rank(comm, [&] {
    if (lead) write_search_files(in, out);
  });
  return out;
}


}  // namespace hat
