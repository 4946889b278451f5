// SPDX-License-Identifier: MIT
// `hat translate` (stdin to stdout) and `hat test` (a test split, then BLEU both ways, #params
// and FLOPs) for a SubTransformer of a checkpoint written by `hat train` or `hat import`, or of
// HAT's own files: a fairseq checkpoint (.pt) with its dictionaries and BPE codes (translate) or
// fairseq's binarized data (test).
#include <chrono>
#include <filesystem>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/io/torch_file.hpp>
#include <hat/nn/from_fairseq.hpp>
#include <hat/data/subword_model.hpp>
#include <hat/decode/translate.hpp>
#include <hat/nn/checkpoint.hpp>
#include <hat/pipeline/subword_binding.hpp>
#include <hat/pipeline/test_step.hpp>
#include <hat/yaml/subtransformer.hpp>

#include "commands.hpp"
#include "fairseq_inputs.hpp"
#include "validators.hpp"
#include "json_output.hpp"
#include "precision_flag.hpp"
#include "ranks.hpp"

namespace hat_cli {
namespace {

struct translate_cli_options {
  std::string checkpoint, arch, bpe_model, bpe_codes, data, split = "test", out, out_json, source_lang, target_lang, remove_bpe = "@@ ";
  const CLI::Option* beam_given = nullptr;
  const CLI::Option* lenpen_given = nullptr;
  std::size_t beam = 5, batch = 32, max_len_b = 200, flops_length = 30;
  double lenpen = 1.0, max_len_a = 0.0;
  int threads = 1;
  precision_options weights;  // --precision, --int8-scales
  bool json = false, quiet = false;
  hat::communicator* comm = nullptr;  // under mpirun: the ranks share the batches; rank 0 prints
  bool lead() const { return !comm || comm->rank() == 0; }
};

template <class S>
hat::arch<S> named_arch(const std::string& name) {
  if (name == "largest") return hat::represent_largest<S>();
  if (name == "smallest") return hat::represent_smallest<S>();
  return hat::read_subtransformer_yaml<S>(name);
}

hat::translate_options generation_of(const translate_cli_options& o, bool test, const std::string& space) {
  hat::translate_options to;
  to.generation.beam = o.beam;
  to.generation.lenpen = o.lenpen;
  // HAT's test.sh: beam 4 and length penalty 0.6 on its WMT tasks (space0), unless given
  if (space == "wmt" && !o.beam_given->count()) to.generation.beam = 4;
  if (space == "wmt" && !o.lenpen_given->count()) to.generation.lenpen = 0.6;
  to.generation.max_len_a = o.max_len_a;
  to.generation.max_len_b = o.max_len_b;
  to.batch_sentences = o.batch;
  to.comm = o.comm;
  const auto start = std::chrono::steady_clock::now();
  auto last_print = std::make_shared<std::chrono::steady_clock::time_point>(start);
  const bool quiet = o.quiet || !o.lead();  // rank 0 shows its share's progress
  to.progress = [start, last_print, quiet, test](std::size_t done, std::size_t total) {
    const auto now = std::chrono::steady_clock::now();
    if (quiet || (done < total && now - *last_print < std::chrono::seconds(1))) return;  // a line a second at most
    *last_print = now;
    const double s = std::chrono::duration<double>(now - start).count();
    std::fprintf(stderr, "\rhat %s: %zu/%zu sentences, %.1f sentences/s, ETA %.0f s   ", test ? "test" : "translate", done,
                 total, static_cast<double>(done) / s, static_cast<double>(total - done) * s / static_cast<double>(done));
    if (done == total) std::fprintf(stderr, "\n");
  };
  return to;
}

void print_test(const translate_cli_options& o, const hat::translate_options& to, const hat::test_outputs& r, bool tokenized_text) {
  if (!o.lead()) return;
  if (o.json) {
    print_json(r.record());
    return;
  }
  const std::string weights = hat::weights_text(r.weights, r.scales);
  std::printf("%s: %zu sentences, beam %zu, lenpen %.2f, %s weights, %.1f sentences/s\n", o.split.c_str(), r.sentences,
              to.generation.beam, to.generation.lenpen, weights.c_str(), r.sentences_per_s);
  std::printf("sacreBLEU  %s\n           %s%s\n", r.sacrebleu.formatted().c_str(), r.sacrebleu.signature.c_str(),
              tokenized_text ? " (on the tokenized text: not detokenized as HAT's sacre mode)" : "");
  std::printf("tokenized  %s\n", r.tokenized.formatted().c_str());
  std::printf("#params %.2f M (without embeddings), FLOPs %.2f G (source length %zu)\n", static_cast<double>(r.params) / 1e6,
              static_cast<double>(r.flops) / 1e9, o.flops_length);
}

/// hat test on fairseq's binarized data, with `model` of space S; the languages are the flags', or
/// the ones the checkpoint recorded.
template <class S, class Model>
void test_binarized(hat::cpu& be, const translate_cli_options& o, const Model& model, const std::string& space,
                    const hat::checkpoint_extras& x) {
  const std::string* src = x.value("source_lang");
  const std::string* tgt = x.value("target_lang");
  hat::binarized_test_inputs in;
  in.recorded = x;
  in.checkpoint = o.checkpoint;
  in.data = o.data;
  in.split = o.split;
  in.source_lang = language_of(o.source_lang, src, o.checkpoint, "--source-lang");
  in.target_lang = language_of(o.target_lang, tgt, o.checkpoint, "--target-lang");
  in.remove_bpe = o.remove_bpe;
  in.translate = generation_of(o, true, space);
  in.flops_length = o.flops_length;
  in.hypotheses_out = o.out;
  in.record_out = o.out_json;
  std::tie(in.weights, in.scales) = o.weights.parse();
  print_test(o, in.translate, hat::test_binarized<S>(be, model, named_arch<S>(o.arch), in), true);
}

/// Standard input translated line by line to standard output; `text` reads and writes the text
/// (a subword model, or fairseq's dictionaries and BPE codes).
template <class Model, class Text>
void translate_stdin(hat::cpu& be, const Model& model, const hat::transformer_config& c, const Text& text, const hat::translate_options& to,
                     hat::precision weights, hat::int8_scales scales) {
  std::vector<std::string> lines;
  std::string all;
  for (std::string l; std::getline(std::cin, l);) lines.push_back(l), all += l + "\n";
  if (to.comm && to.comm->size() > 1) {  // mpirun gives standard input to rank 0 only: its lines for every rank
    lines.clear();
    std::istringstream in(to.comm->gather(to.comm->rank() == 0 ? all : std::string())[0]);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
  }
  const auto found = hat::with_decode_precision(
      be, model, weights, [&](hat::cpu& run) { return hat::translate(run, model, c, text, lines, to); }, scales);
  if (to.comm && to.comm->rank() != 0) return;
  for (const auto& t : found) std::printf("%s\n", t.c_str());
}

/// hat translate of standard input with a model HAT's fairseq trained (a .pt, or imported): the
/// dictionaries in --data and the BPE codes read the text as fairseq-interactive does.
template <class S, class Model>
void translate_fairseq_text(hat::cpu& be, const translate_cli_options& o, const Model& model, const std::string& space,
                            const hat::checkpoint_extras& x) {
  const std::string* src = x.value("source_lang");
  const std::string* tgt = x.value("target_lang");
  if (o.data.empty())
    throw hat::config_error(o.checkpoint + ": a model HAT's fairseq trained reads text with its dictionaries: pass --data (the "
                            "folder with dict.<lang>.txt, HAT's data/binary/...) and --bpe-codes (its subword-nmt codes)");
  const auto text = hat::fairseq_text_for(model.vocabulary(), o.data, language_of(o.source_lang, src, o.checkpoint, "--source-lang"),
                                          language_of(o.target_lang, tgt, o.checkpoint, "--target-lang"), o.bpe_codes, o.remove_bpe,
                                          &x, o.checkpoint);
  const auto [weights, scales] = o.weights.parse();
  translate_stdin(be, model, hat::config_of(named_arch<S>(o.arch)), text, generation_of(o, false, space), weights, scales);
}

template <class S>
void run_space(const translate_cli_options& o, bool test, const std::string& space) {
  hat::cpu be;
  const auto a = named_arch<S>(o.arch);
  const auto to = generation_of(o, test, space);
  using model_t = hat::super_transformer_for<S, hat::cpu>;
  if (!test) {
    hat::checkpoint_extras x;
    const auto model = hat::load_checkpoint<typename model_t::maxima, hat::cpu>(be, o.checkpoint, &x);
    if (!o.data.empty() || !o.bpe_codes.empty())  // an imported model, read with fairseq's dictionaries
      return translate_fairseq_text<S>(be, o, model, space, x);
    const auto subwords = hat::checkpoint_subwords(x, o.checkpoint, o.bpe_model);
    const auto [weights, scales] = o.weights.parse();
    return translate_stdin(be, model, hat::config_of(a), subwords, to, weights, scales);
  }
  if (hat::is_fairseq_binarized(o.data)) {
    hat::checkpoint_extras x;
    const auto model = hat::load_checkpoint<typename model_t::maxima, hat::cpu>(be, o.checkpoint, &x);
    return test_binarized<S>(be, o, model, space, x);
  }
  hat::test_inputs in;
  in.checkpoint = o.checkpoint;
  in.data = o.data;
  in.split = o.split;
  in.bpe_model = o.bpe_model;
  in.translate = to;
  in.flops_length = o.flops_length;
  in.hypotheses_out = o.out;
  in.record_out = o.out_json;
  std::tie(in.weights, in.scales) = o.weights.parse();
  print_test(o, to, hat::test_subtransformer<S>(be, a, in), false);
}

/// hat test straight from a checkpoint HAT's fairseq wrote: its space and languages from its args.
void run_fairseq_test(const translate_cli_options& o) {
  require_binarized(o.data, "tested");
  with_fairseq_model(o.checkpoint, [&]<class S>(hat::cpu& be, const auto& model, const hat::checkpoint_extras& x) {
    test_binarized<S>(be, o, model, *x.value("space"), x);
  });
}

void run(const translate_cli_options& o, bool test) {
  o.weights.parse();  // refused flags before anything is read
  hat::cpu::set_threads(o.threads);
  if (is_torch_save(o.checkpoint) && !o.bpe_model.empty())
    throw hat::config_error("--bpe-model: " + o.checkpoint + " reads text with fairseq's dictionaries (--data) and BPE codes (--bpe-codes)");
  if (test && is_torch_save(o.checkpoint)) return run_fairseq_test(o);
  if (is_torch_save(o.checkpoint))
    return with_fairseq_model(o.checkpoint, [&]<class S>(hat::cpu& be, const auto& model, const hat::checkpoint_extras& x) {
      translate_fairseq_text<S>(be, o, model, *x.value("space"), x);
    });
  const auto state = hat::read_checkpoint_state(o.checkpoint);
  const std::string* space = state.value("space");
  if (!space) throw hat::config_error(o.checkpoint + ": no 'space' recorded (not written by hat train)");
  with_space<space_role::trainable>(*space, o.checkpoint, [&]<class S>() { run_space<S>(o, test, *space); });
}

void add_generation_options(CLI::App* cmd, translate_cli_options& o) {
  cmd->add_option("--checkpoint", o.checkpoint, "a checkpoint written by hat train or hat import, or HAT's .pt")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--arch", o.arch, "SubTransformer YAML, or largest / smallest")->required();
  o.beam_given = cmd->add_option("--beam", o.beam, "beam size (at most 256: memory grows with it; HAT's WMT tasks: 4)")
                     ->check(CLI::Range(1, 256))
                     ->capture_default_str();
  o.lenpen_given = cmd->add_option("--lenpen", o.lenpen, "length penalty: score / length^lenpen (HAT's WMT tasks: 0.6)")
                       ->check(finite_number(-HUGE_VAL, HUGE_VAL, "a number"))
                       ->capture_default_str();
  cmd->add_option("--max-len-a", o.max_len_a, "at most a * source length + b target tokens")
      ->check(finite_number(0, HUGE_VAL, "a number >= 0"))
      ->capture_default_str();
  cmd->add_option("--max-len-b", o.max_len_b, "see --max-len-a")->capture_default_str();
  cmd->add_option("--batch", o.batch, "sentences per beam-search batch")->check(positive_count())->capture_default_str();
  cmd->add_option("--bpe-model", o.bpe_model, "SentencePiece model (default: the one training used)")->check(CLI::ExistingFile);
  cmd->add_option("--source-lang", o.source_lang, "fairseq's files: the source language (default: the checkpoint's)");
  cmd->add_option("--target-lang", o.target_lang, "fairseq's files: the target language (default: the checkpoint's)");
  cmd->add_option("--remove-bpe", o.remove_bpe, "fairseq's files: the BPE continuation to remove (fairseq's --remove-bpe)")
      ->capture_default_str();
  cmd->add_option("--threads", o.threads, "threads (OpenBLAS and the decoder's few-row products)")
      ->check(positive_count())->capture_default_str();
  o.weights.add_to(cmd, "converted once, before translating");
  cmd->add_flag("--quiet", o.quiet, "no progress on stderr");
}

}  // namespace

void add_translate_command(CLI::App& app) {
  auto o = std::make_shared<translate_cli_options>();
  auto* cmd = app.add_subcommand("translate", "translate standard input line by line with a SubTransformer of a checkpoint");
  add_generation_options(cmd, *o);
  cmd->add_option("--data", o->data, "a model HAT's fairseq trained: the folder with its dict.<lang>.txt (HAT's data/binary/...)")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--bpe-codes", o->bpe_codes, "a model HAT's fairseq trained: subword-nmt's BPE codes to segment the input with "
                                               "(default: the input is segmented already)")
      ->check(CLI::ExistingFile);
  cmd->callback([o] {
    with_ranks("translate", [&](hat::communicator* comm) {
      o->comm = comm;
      run(*o, false);
    });
  });

  auto t = std::make_shared<translate_cli_options>();
  auto* tc = app.add_subcommand("test", "translate a test split and score it: sacreBLEU (13a), tokenized BLEU, #params, FLOPs");
  add_generation_options(tc, *t);
  tc->add_option("--data", t->data, "corpus folder (<split>.<lang>[.gz]), or fairseq's binarized data (HAT's data/binary/...)")
      ->required()
      ->check(CLI::ExistingDirectory);
  tc->add_option("--split", t->split, "the split to translate")->capture_default_str();
  tc->add_option("--out", t->out, "write the translations here");
  tc->add_option("--out-json", t->out_json, "also write the JSON object to this file");
  tc->add_option("--flops-length", t->flops_length, "source length for FLOPs (HAT: 30)")->capture_default_str();
  tc->add_flag("--json", t->json, "one JSON object: bleu, bleu_tokenized, bp, signature, params, flops, sentences_per_s");
  tc->callback([t] {
    with_ranks("test", [&](hat::communicator* comm) {
      t->comm = comm;
      run(*t, true);
    });
  });
}

}  // namespace hat_cli
