// SPDX-License-Identifier: MIT
// train_step: the pipeline's training steps as one library call: a SuperTransformer (HAT's train.py with
// its supertransformer configs) or one SubTransformer, resumable from the save folder.
#pragma once

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <hat/backend/concepts.hpp>
#include <hat/config.hpp>
#include <hat/data/load_corpus.hpp>
#include <hat/data/subword_model.hpp>
#include <hat/data/text_reader.hpp>
#include <hat/dist/communicator.hpp>
#include <hat/io/checksum.hpp>
#include <hat/io/same_file.hpp>
#include <hat/io/atomic_file.hpp>
#include <hat/io/read_file.hpp>
#include <hat/nn/checkpoint.hpp>
#include <hat/nn/named_tensors.hpp>
#include <hat/pipeline/fairseq_data.hpp>
#include <hat/pipeline/subword_binding.hpp>
#include <hat/space/space.hpp>
#include <hat/space/transformer.hpp>
#include <hat/train/loss_curve.hpp>
#include <hat/train/trainer.hpp>
#include <hat/yaml/space.hpp>
#include <hat/yaml/subtransformer.hpp>
#include <hat/yaml/training.hpp>

namespace hat {

/// What a training run needs besides its training_config.
struct train_inputs {
  std::filesystem::path save_dir = "checkpoints";  // checkpoint_last.hat, subwords.model, valid.csv, loss.csv/.svg
  /// Start from this checkpoint: one of the same run resumes, any other gives its weights
  /// (inherited). Empty: the save folder's checkpoint_last.hat, if any, resumes.
  std::string restore_file;
  /// Or start a new run from these weights (by fairseq's names: a .pt HAT's fairseq wrote, read
  /// by hat::fairseq_weights_of; they must stay readable during the call), with their
  /// share_all_embeddings when known. Like fairseq's --finetune-from-model: the save folder's
  /// checkpoint_last.hat, once there, resumes the run instead.
  const named_tensors* initial_weights = nullptr;
  std::optional<bool> initial_share_all;
  std::string arch;  // a SubTransformer YAML: train this architecture only (empty: the config's)
  std::string device = "this device";  // named in the opening line
  std::FILE* progress = stderr;        // progress lines (null: quiet)
  /// Polled after every update: true saves the checkpoint and returns with `stopped` set.
  std::function<bool()> stop_requested;
  /// Called once the model is ready, with the update training starts from (a log of updates
  /// can drop what a resumed run will redo).
  std::function<void(std::size_t first_update)> on_start;
  std::function<void(const update_record&)> on_update;  // after every update
  /// The ranks of data-parallel training (docs/distributed.md; null: this process alone). Every
  /// rank calls train_model with the same config and data; rank 0 alone writes the save folder,
  /// prints progress and calls on_start / on_update; the save folder must be one folder for all
  /// ranks (a shared file system when they run on several machines).
  communicator* comm = nullptr;
};

struct train_outputs {
  std::filesystem::path checkpoint;  // checkpoint_last.hat in the save folder
  std::string subwords;              // the SentencePiece model the run reads text with (none on binarized data)
  std::size_t updates = 0;
  bool resumed = false;  // continued a run of the same kind
  bool stopped = false;  // stop_requested: saved before max_update
  bool already_done = false;  // resumed a run that had reached max_update: nothing trained
};

/// What a run trains: a SuperTransformer (by its sampling rule) or one SubTransformer. A
/// checkpoint resumes only a run of the same kind; any other run can start from its weights.
inline std::string run_kind(const training_config& c) {
  switch (c.trainer.sampling) {
    case sampling_rule::fixed: return "subtransformer " + detail::arch_line(c.trainer.fixed);
    case sampling_rule::sandwich: return "supertransformer sandwich";
    case sampling_rule::hat_random: break;
  }
  return "supertransformer random";
}

/// run_kind with the products' precision when it is not fp32: a bf16 run resumes only a bf16
/// run (and an fp32 run an fp32 one, whose checkpoints name no precision).
inline std::string run_kind_at(const training_config& c) {
  return run_kind(c) + (c.trainer.products == precision::fp32 ? "" : ", " + std::string(precision_name(c.trainer.products)) + " products");
}

/// The state values a training checkpoint carries besides the trainer's: what valid-loss and
/// translate need to read text the way training did (the subword model bound by size and
/// hash, found relative to `save_dir`; none on fairseq's binarized data, whose dictionaries
/// read it), and what the run trains.
inline void describe_run(checkpoint_extras& x, const training_config& c, const subword_model* subwords,
                         const std::filesystem::path& save_dir) {
  x.values.emplace_back("run", run_kind_at(c));
  x.values.emplace_back("space", c.space);
  if (subwords) {
    record_subwords(x, *subwords, save_dir);
    if (c.bpe_model.empty()) x.values.emplace_back("bpe_vocab_size", std::to_string(c.bpe_vocab_size));
  } else {
    x.values.emplace_back("dictionaries", "fairseq");
  }
  x.values.emplace_back("source_lang", c.source_lang);
  x.values.emplace_back("target_lang", c.target_lang);
  x.values.emplace_back("valid_split", c.valid_split);
  x.values.emplace_back("max_positions", std::to_string(c.max_positions));
}

/// The run's subword model: the config's bpe-model, the save folder's, or a joint BPE learned
/// from the training split into the save folder.
inline subword_model subwords_for(const training_config& c, const corpus_location& at, const std::filesystem::path& save_dir,
                                  std::FILE* progress = stderr) {
  if (!c.bpe_model.empty()) return subword_model::load(c.resolve(c.bpe_model));
  const std::filesystem::path own = save_dir / "subwords.model";
  if (std::filesystem::exists(own)) {
    auto m = subword_model::load(own.string());
    // A small corpus may give fewer pieces than asked for, never more: more is another run's model.
    if (m.size() > c.bpe_vocab_size)
      throw config_error(own.string() + ": " + std::to_string(m.size()) + " pieces, more than the bpe-vocab-size " +
                         std::to_string(c.bpe_vocab_size) + " of " + c.file +
                         ": a subword model of another run; remove it or choose another save folder");
    return m;
  }
  const auto src = read_lines(at.file(c.train_split, c.source_lang));
  const auto tgt = read_lines(at.file(c.train_split, c.target_lang));
  if (progress)
    std::fprintf(progress, "hat train: learning a joint BPE of %zu subwords from %zu sentence pairs -> %s\n", c.bpe_vocab_size,
                 src.size(), own.c_str());
  subword_options o;
  o.vocab_size = c.bpe_vocab_size;
  return subword_model::train({&src, &tgt}, own.string(), o);
}

/// Trains space S's SuperTransformer, or the SubTransformer `in.arch` / the config names, on
/// backend `caller` (a copy of it at the config's products' precision: backend_training_at, so
/// `caller` stays as it was) for c.trainer.max_update updates, validating and saving at the config's
/// intervals. A run resumes from the save folder; a finished run returns at once. Throws
/// training_diverged (the last checkpoint untouched) and config_error (bad files, another
/// run's checkpoint in the save folder).
template <transformer_space S, backend_policy Backend>
train_outputs train_model(Backend& caller, training_config c, const train_inputs& in) {
  // the caller's backend at the config's products' precision (a copy when it differs)
  const auto at_precision = backend_training_at(caller, c.trainer.products);
  Backend& be = at_precision ? *at_precision : caller;
  using trainer_t = trainer<S, Backend>;
  using model_t = typename trainer_t::model_type;
  communicator& comm = in.comm ? *in.comm : this_process_alone();
  const bool lead = comm.rank() == 0;  // writes, prints, calls back
  std::FILE* const out = lead ? in.progress : nullptr;
  if (c.has_space_keys) {
    const auto diffs = space_yaml_differences<S>(c.text, c.file);
    if (!diffs.empty()) {
      std::string all;
      for (const auto& d : diffs) all += "\n  " + d;
      throw config_error(c.file + ": the search-space keys differ from space '" + c.space + "':" + all);
    }
  }
  if (c.data.empty()) throw config_error(c.file + ": no data folder: set 'data' or pass --data");
  if (in.initial_weights && !in.restore_file.empty())
    throw config_error("train: start from restore_file or from initial weights, not both");
  // HAT's data/binary/... folders: fairseq's dictionaries and ids instead of a subword model
  const bool binarized = is_fairseq_binarized(c.data);
  if (in.initial_weights && !binarized)
    throw config_error(in.initial_weights->file + ": its tables are indexed by fairseq's dictionaries, so it trains on fairseq's "
                       "binarized data (a folder with dict.<lang>.txt), not on the text corpus " + c.data);
  const std::filesystem::path save_dir = in.save_dir.empty() ? std::filesystem::path("checkpoints") : in.save_dir;
  const corpus_location at{c.data, c.source_lang, c.target_lang};
  {  // what the run writes must not be what it reads (another spelling or a link of it included)
    std::vector<std::filesystem::path> read{c.file, c.resolve(c.bpe_model), in.arch, c.resolve(c.subtransformer_config)};
    if (!binarized)
      for (const auto* split : {&c.train_split, &c.valid_split})
        for (const auto* lang : {&c.source_lang, &c.target_lang}) read.push_back(at.file(*split, *lang));
    if (!same_file(in.restore_file, save_dir / "checkpoint_last.hat")) read.emplace_back(in.restore_file);  // else: resumed
    for (const char* name : {"checkpoint_last.hat", "loss.csv", "loss.svg", "valid.csv", "subwords.model"})
      if (std::string(name) != "subwords.model" || (c.bpe_model.empty() && !binarized))  // with bpe-model, none is written
        refuse_to_overwrite(save_dir / name, "the save folder's " + std::string(name), read);
  }
  // The ranks agree on what they train before anything is written.
  if (comm.size() > 1) {
    const auto hash = [](const std::string& text) { return "FNV-1a " + std::to_string(fnv1a(text)); };
    require_same_on_every_rank(comm, c.file + ", " + hash(c.text), "config");
    require_same_on_every_rank(comm, run_kind_at(c) + ", " + std::to_string(c.trainer.max_update) + " updates",
                               "run (--precision, --max-updates)");
    require_same_on_every_rank(comm, in.arch + ", " + hash(in.arch.empty() ? std::string() : read_file(in.arch, model_file_limit)),
                               "architecture (--arch)");
    require_same_on_every_rank(comm, c.data + "|" + save_dir.string() + "|" + in.restore_file, "data folder, save folder or restore file");
  }
  const bool save_dir_existed = std::filesystem::exists(save_dir);
  std::filesystem::create_directories(save_dir);
  // The checkpoint to start from (this run's, or restore_file) and the subword model: weights
  // from another run keep the vocabulary they were trained with, unless the config names one.
  const std::filesystem::path last = save_dir / "checkpoint_last.hat";
  const std::string restore = !in.restore_file.empty() ? in.restore_file : std::filesystem::exists(last) ? last.string() : "";
  checkpoint_extras restored;
  if (!restore.empty()) {
    if (!std::filesystem::is_regular_file(restore)) throw config_error(restore + ": no such checkpoint");
    restored = read_checkpoint_state(restore);
    // its tables are indexed the way the data is read, or the weights would mean other words
    if (binarized && restored.value("subwords"))
      throw config_error(restore + ": trained on text through its subword model, so it cannot train on fairseq's binarized data " + c.data);
    if (!binarized && restored.value("dictionaries"))
      throw config_error(restore + ": its tables are indexed by fairseq's dictionaries, so it trains on fairseq's binarized data, "
                         "not on the text corpus " + c.data);
    if (const std::string* asked = restored.value("bpe_vocab_size");
        asked && !binarized && c.bpe_model.empty() && restore == last.string() && *asked != std::to_string(c.bpe_vocab_size))
      throw config_error(restore + ": trained with bpe-vocab-size " + *asked + ", " + c.file + " asks for " +
                         std::to_string(c.bpe_vocab_size) + "; choose another save folder for another vocabulary");
  }
  const bool inherit_subwords = !binarized && !restore.empty() && c.bpe_model.empty() &&
                                !std::filesystem::exists(save_dir / "subwords.model") && restored.value("subwords");
  // Rank 0 writes the save folder's subword model (copied, or learned); the others then read it.
  const bool subwords_existed = std::filesystem::exists(save_dir / "subwords.model");
  std::optional<subword_model> subwords;  // rank 0's now; the others read what it wrote
  on_every_rank(comm, [&] {
    if (!lead) return;
    if (inherit_subwords) {  // a copy in the save folder keeps the run whole when folders move
      const auto from = checkpoint_subwords(restored, restore, "");
      write_file_atomic(save_dir / "subwords.model", read_file(from.path(), model_file_limit));
      if (out) std::fprintf(out, "hat train: the subword model of %s, copied to %s\n", restore.c_str(), (save_dir / "subwords.model").c_str());
    }
    if (!binarized) subwords = subwords_for(c, at, save_dir, out);
  });
  checkpoint_extras dictionary_hashes;  // on binarized data: what the checkpoints record of them
  parallel_corpus train, valid;
  vocabulary_sizes v;
  if (binarized) {
    const auto source = fairseq_dictionary::read(std::filesystem::path(c.data) / ("dict." + c.source_lang + ".txt"));
    const auto target = fairseq_dictionary::read(std::filesystem::path(c.data) / ("dict." + c.target_lang + ".txt"));
    if (!restore.empty()) check_fairseq_dictionaries(restored, restore, source, target);
    record_fairseq_dictionaries(dictionary_hashes, source, target);
    if (c.share_all_embeddings && !same_symbols(source, target))
      throw config_error(c.file + ": share-all-embeddings needs one dictionary for both languages (fairseq-preprocess "
                         "--joined-dictionary), but " + source.file() + " and " + target.file() + " differ");
    v = {source.size(), target.size(), c.share_all_embeddings ? embedding_sharing::all : embedding_sharing::decoder};
    for (const auto& [split, corpus] : {std::pair{&c.train_split, &train}, std::pair{&c.valid_split, &valid}}) {
      auto d = fairseq_data_for(v, c.max_positions, c.data, *split, c.source_lang, c.target_lang);
      *corpus = std::move(d.split.corpus);
      if (out)
        std::fprintf(out, "hat train: %s (fairseq's binarized data): %zu pairs (%zu longer than %zu dropped), %zu target tokens\n",
                     split->c_str(), corpus->size(), d.dropped, c.max_positions, corpus->target_tokens());
    }
  } else {
    if (!subwords) subwords = subwords_for(c, at, save_dir, out);
    if (!restore.empty()) check_subwords(restored, restore, *subwords);
    corpus_stats st;
    train = load_corpus(at, c.train_split, *subwords, c.max_positions, &st);
    if (out)
      std::fprintf(out, "hat train: %s: %zu pairs (%zu empty, %zu longer than %zu dropped), %zu target tokens\n",
                   c.train_split.c_str(), st.kept, st.empty, st.too_long, c.max_positions, train.target_tokens());
    valid = load_corpus(at, c.valid_split, *subwords, c.max_positions, &st);
    if (out) std::fprintf(out, "hat train: %s: %zu pairs\n", c.valid_split.c_str(), valid.size());
    v = {subwords->size(), subwords->size(), c.share_all_embeddings ? embedding_sharing::all : embedding_sharing::decoder};
  }

  // The architecture of SubTransformer training.
  const std::string arch_file = in.arch.empty() ? c.resolve(c.subtransformer_config) : in.arch;
  if (c.train_subtransformer || !in.arch.empty()) {
    if (arch_file.empty())
      throw config_error(c.file + ": train-subtransformer needs its architecture: set 'subtransformer-config' or pass --arch");
    c.trainer.sampling = sampling_rule::fixed;
    c.trainer.fixed = config_of(read_subtransformer_yaml<S>(arch_file));
  }

  // The model: resumed (checkpoint_last in the save folder, or restore_file), from the initial
  // weights, or new; its tables must be the vocabulary's.
  checkpoint_extras extras;
  std::unique_ptr<model_t> model;
  const auto check_vocabulary = [&](const std::string& from) {
    const auto m = model->vocabulary();
    if (m.source != v.source || m.target != v.target)
      throw config_error(from + ": its vocabulary has " + std::to_string(m.source) + " source and " + std::to_string(m.target) +
                         " target entries, the " + (binarized ? "dictionaries " : "subword model ") + std::to_string(v.source) +
                         " and " + std::to_string(v.target));
    if ((m.sharing == embedding_sharing::all) != (v.sharing == embedding_sharing::all))
      throw config_error(from + ": its embeddings are " + (m.sharing == embedding_sharing::all ? "" : "not ") + "shared by both languages, " +
                         "but " + c.file + " sets share-all-embeddings " + (c.share_all_embeddings ? "true" : "false"));
  };
  if (!restore.empty()) {
    model = std::make_unique<model_t>(load_checkpoint<typename model_t::maxima, Backend>(be, restore, &extras));
    check_vocabulary(restore);
  } else if (in.initial_weights) {
    model = std::make_unique<model_t>(
        model_from_tensors<typename model_t::maxima, Backend>(be, *in.initial_weights, in.initial_share_all));
    check_vocabulary(in.initial_weights->file);
    if (out)
      std::fprintf(out, "hat train: starting from the weights of %s (inherited; a new optimizer and schedule)\n",
                   in.initial_weights->file.c_str());
  } else {
    model = std::make_unique<model_t>(be, v);
    model->init_hat(be, c.init_seed);
  }
  std::optional<trainer_t> made;  // every rank agrees on the batches, or none trains
  try {
    on_every_rank(comm, [&] { made.emplace(be, *model, train, c.trainer, &comm); });
  } catch (const rank_failed&) {  // the ranks cannot share these batches: leave nothing behind
    if (lead && !subwords_existed) std::filesystem::remove(save_dir / "subwords.model");
    if (lead && !save_dir_existed && std::filesystem::is_empty(save_dir)) std::filesystem::remove(save_dir);
    throw;
  }
  trainer_t& t = *made;
  train_outputs result{last, subwords ? subwords->path() : std::string(), 0, false, false, false};
  if (!restore.empty()) {
    const std::string* kind = extras.value("run");
    const bool same_run = extras.value("trainer") && kind && *kind == run_kind_at(c);
    if (same_run) {
      t.restore(extras, restore);
      result.resumed = true;
      if (out) std::fprintf(out, "hat train: resumed from %s at update %zu\n", restore.c_str(), t.updates());
    } else if (in.restore_file.empty()) {  // found in the save folder: never overwrite another run's checkpoint
      throw config_error(restore + " is a checkpoint of another run (" + (kind ? *kind : std::string("no training state")) +
                         "); choose another --save-dir, or pass it as --restore-file to start from its weights");
    } else if (out) {
      std::fprintf(out, "hat train: starting from the weights of %s (inherited%s)\n", restore.c_str(),
                   kind ? (", its training state belongs to: " + *kind).c_str() : "");
    }
  }
  result.updates = t.updates();
  // A finished run is done: validating and saving it again would only repeat its last rows.
  if (result.resumed && t.done()) {
    result.already_done = true;
    return result;
  }
  if (lead && in.on_start) in.on_start(t.updates());

  const bool fixed = c.trainer.sampling == sampling_rule::fixed;
  const std::vector<std::pair<std::string, transformer_config>> watched =
      fixed ? std::vector<std::pair<std::string, transformer_config>>{{"subtransformer", c.trainer.fixed}}
            : std::vector<std::pair<std::string, transformer_config>>{{"largest", config_of(represent_largest<S>())},
                                                                      {"smallest", config_of(represent_smallest<S>())}};
  validation_log vlog;
  const std::filesystem::path vlog_path = save_dir / "valid.csv";
  if (std::filesystem::exists(vlog_path)) vlog = read_validation_log(vlog_path.string(), t.updates());
  const auto validate_here = [&] {
    for (const auto& [name, cfg] : watched) {
      const auto s = validation_loss(be, *model, cfg, valid, c.trainer.valid_max_tokens, c.valid_batches, c.trainer.label_smoothing);
      const double bits = per_token_bits(s.loss, s.tokens), nll = per_token_bits(s.nll, s.tokens);
      vlog.add(t.updates(), name, bits, nll);
      if (out)
        std::fprintf(out, "hat train: update %zu: valid loss %s %.4f (nll %.4f, ppl %.2f) over %zu tokens\n", t.updates(),
                     name.c_str(), bits, nll, std::exp2(nll), s.tokens);
    }
  };
  // Rank 0 validates and saves; the others wait for it (and fail with it).
  const auto validate = [&] { on_every_rank(comm, [&] { if (lead) validate_here(); }); };
  const auto save_here = [&] {
    checkpoint_extras run;
    describe_run(run, c, subwords ? &*subwords : nullptr, save_dir);
    run.values.insert(run.values.end(), dictionary_hashes.values.begin(), dictionary_hashes.values.end());
    t.save(last, run);
    write_loss_curve(t.history(), vlog, (save_dir / "loss").string());
    write_validation_log(vlog, vlog_path.string());
  };
  const auto save = [&] { on_every_rank(comm, [&] { if (lead) save_here(); }); };
  // Whether any rank was asked to stop (a signal may reach the ranks at different updates).
  const auto stop_requested = [&] {
    std::uint64_t stop = in.stop_requested && in.stop_requested() ? 1 : 0;
    if (comm.size() > 1) comm.sum(std::span<std::uint64_t>(&stop, 1));
    return stop != 0;
  };

  const std::size_t first = t.updates();
  const auto start = std::chrono::steady_clock::now();
  std::size_t tokens = 0;
  std::string ranks;  // and what they send: one all-reduce of the fp32 gradient per update
  if (comm.size() > 1 || t.sums_on_device()) {
    char mb[64];
    std::snprintf(mb, sizeof mb, "%.1f MB", static_cast<double>(model->size()) * sizeof(float) / 1e6);
    ranks = " x " + std::to_string(comm.size()) + (comm.size() == 1 ? " rank" : " ranks") + " (an all-reduce of the " + mb +
            " gradient per update" + (t.sums_on_device() ? " on the GPUs" : "") + ")";
  }
  std::string products;  // bf16 products, and what runs them where the backend says (oneDNN, or the rounding path)
  if (c.trainer.products != precision::fp32) {
    products = ", " + std::string(precision_name(c.trainer.products)) + " products";
    if constexpr (requires { be.bf16_products_engine(); })
      if (c.trainer.products == precision::bf16) products += " (" + be.bf16_products_engine() + ")";
  }
  if (out)
    std::fprintf(out, "hat train: %s, %zu updates (%s), %zu-token batches x %zu%s, %s\n", c.space.c_str(), c.trainer.max_update,
                 fixed                                           ? "one fixed SubTransformer"
                 : c.trainer.sampling == sampling_rule::sandwich ? "sandwich rule"
                                                                 : "one random SubTransformer each",
                 c.trainer.batching.max_tokens, c.trainer.update_freq, ranks.c_str(),
                 (in.device + products).c_str());
  while (!t.done()) {
    const update_record r = t.step();
    tokens += r.tokens;
    if (lead && in.on_update) in.on_update(r);
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::size_t done_here = t.updates() - first;
    if (out && c.log_interval && (t.updates() % c.log_interval == 0 || t.done())) {
      const double eta = elapsed / static_cast<double>(done_here) * static_cast<double>(c.trainer.max_update - t.updates());
      std::fprintf(out, "update %zu/%zu | loss %.3f | nll %.3f | lr %.3g | %.0f tok/s | epoch %zu | ETA %.0f s\n", t.updates(),
                   c.trainer.max_update, r.loss, r.nll, r.lr, static_cast<double>(tokens) / elapsed, t.epoch(), eta);
    }
    if (c.validate_interval_updates && t.updates() % c.validate_interval_updates == 0 && !t.done()) validate();
    if (c.save_interval_updates && t.updates() % c.save_interval_updates == 0 && !t.done()) save();
    if (stop_requested()) {
      save();
      result.updates = t.updates();
      result.stopped = true;
      return result;
    }
  }
  validate();
  save();
  result.updates = t.updates();
  if (out)
    std::fprintf(out, "hat train: done, %zu updates; %s, %s.csv, %s.svg\n", t.updates(), last.c_str(),
                 (save_dir / "loss").c_str(), (save_dir / "loss").c_str());
  return result;
}

}  // namespace hat
