// SPDX-License-Identifier: MIT
// BLEU of SubTransformers of a Multi30k SuperTransformer checkpoint (written by `hat train` with
// examples/configs/multi30k.yml): beam search over a test split with inherited weights, the
// subwords decoded, sacreBLEU-compatible corpus BLEU (13a) against the raw references; with
// --precision, each SubTransformer decoded on each weight precision (int8-row: int8 with one
// scale per whole super row instead of per panel), and how far its teacher-forced logits move
// from fp32's on the split's first --logit-sentences pairs.
//
//   table_cpu_multi30k_bleu CHECKPOINT DATA_DIR [--split test_2016_flickr] [--beam 5] [--lenpen 1]
//       [--batch 32] [--limit N] [--threads 1] [--out-dir DIR] [--precision fp32,bf16,int8,int8-row]
//       [--logit-sentences 100] [largest|smallest|ARCH.yml ...]
// Prints a Markdown table: SubTransformer, precision, BLEU, n-gram precisions, BP, max |logit
// - fp32's|, sentences/s.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/data/load_corpus.hpp>
#include <hat/data/subword_model.hpp>
#include <hat/data/text_reader.hpp>
#include <hat/decode/translate.hpp>
#include <hat/eval/bleu.hpp>
#include <hat/yaml/subtransformer.hpp>
#include <hat/nn/checkpoint.hpp>
#include <hat/pipeline/subword_binding.hpp>
#include <hat/space/small_spaces.hpp>

namespace {

// The weights a table row decodes on: a precision, and for int8 where its scales come from.
struct weights {
  std::string name;
  hat::precision p = hat::precision::fp32;
  hat::int8_scales scales = hat::int8_scales::panel;
};

weights parse_weights(const std::string& name) {
  if (name == "int8-row") return {name, hat::precision::int8, hat::int8_scales::row};
  return {name, hat::parse_precision(name, "--precision"), hat::int8_scales::panel};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s CHECKPOINT DATA_DIR [--split S] [--beam K] [--lenpen P] [--batch N] [--limit N] "
                         "[--threads N] [--out-dir DIR] [--precision fp32,bf16,int8,int8-row] [--logit-sentences N] "
                         "[largest|smallest|ARCH.yml ...]\n", argv[0]);
    return 2;
  }
  using space = hat::multi30k_space;
  using model_t = hat::super_transformer_for<space, hat::cpu>;
  std::string checkpoint = argv[1], data = argv[2], split = "test_2016_flickr", out_dir;
  hat::generation_options gen;
  gen.max_len_a = 1.2;  // fairseq-generate's usual a * source + b for short captions
  gen.max_len_b = 10;
  std::size_t batch = 32, limit = 0, logit_sentences = 100;
  std::vector<weights> precisions{parse_weights("fp32")};
  int threads = 1;
  std::vector<std::string> archs;
  for (int i = 3; i < argc; ++i) {
    const std::string k = argv[i];
    const auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (k == "--split") split = next();
    else if (k == "--beam") gen.beam = std::stoul(next());
    else if (k == "--lenpen") gen.lenpen = std::stod(next());
    else if (k == "--batch") batch = std::stoul(next());
    else if (k == "--limit") limit = std::stoul(next());
    else if (k == "--threads") threads = std::stoi(next());
    else if (k == "--out-dir") out_dir = next();
    else if (k == "--logit-sentences") logit_sentences = std::stoul(next());
    else if (k == "--precision") {
      precisions.clear();
      std::string list = next();
      for (std::size_t at = 0; at <= list.size();) {
        const std::size_t comma = std::min(list.find(',', at), list.size());
        precisions.push_back(parse_weights(list.substr(at, comma - at)));
        at = comma + 1;
      }
    }
    else archs.push_back(k);
  }
  if (archs.empty()) archs = {"largest", "smallest"};
  hat::cpu::set_threads(threads);
  hat::cpu be;
  hat::checkpoint_extras x;
  const model_t model = hat::load_checkpoint<model_t::maxima, hat::cpu>(be, checkpoint, &x);
  if (!x.value("space") || *x.value("space") != "multi30k" || !x.value("subwords")) {
    std::fprintf(stderr, "%s: not a multi30k checkpoint written by hat train\n", checkpoint.c_str());
    return 1;
  }
  const auto subwords = hat::checkpoint_subwords(x, checkpoint, "");  // found beside the checkpoint, its hash checked
  const hat::corpus_location at{data, *x.value("source_lang"), *x.value("target_lang")};
  std::vector<std::string> src = hat::read_lines(at.file(split, at.source_lang)), ref = hat::read_lines(at.file(split, at.target_lang));
  if (limit && limit < src.size()) src.resize(limit), ref.resize(limit);
  std::printf("checkpoint %s, %s: %zu sentences, beam %zu, lenpen %.2f, BLAS %s, %d thread(s)\n\n", checkpoint.c_str(),
              split.c_str(), src.size(), gen.beam, gen.lenpen, hat::cpu::blas_core().c_str(), threads);
  // Teacher-forced logits of the first logit_sentences pairs, one pair at a time.
  const std::size_t V = model.vocabulary().target;
  const auto logits = [&](const hat::cpu& b, const hat::transformer_config& c) {
    hat::cpu run = b;
    hat::model_workspace<hat::cpu> ws;
    hat::encoder_output<hat::cpu> enc;
    std::vector<std::vector<float>> all;
    for (std::size_t i = 0; i < std::min(logit_sentences, src.size()); ++i) {
      std::vector<int> s = subwords.encode(src[i]), t = subwords.encode(ref[i]);
      s.push_back(hat::special_tokens::eos);
      t.push_back(hat::special_tokens::eos);
      model.encode(run, c, hat::token_batch::pad({s}, true), enc, ws);
      const auto tb = hat::token_batch::pad({t}, false);
      all.emplace_back(tb.rows * tb.cols * V);
      model.decode(run, c, enc, tb.shifted_right(), hat::dense(all.back().data(), tb.rows * tb.cols, V), ws);
    }
    return all;
  };
  std::printf("max abs Δlogit: the largest difference from fp32's teacher-forced logits over the first %zu pairs "
              "(the largest fp32 logit's magnitude in brackets)\n\n", std::min(logit_sentences, src.size()));
  std::printf("| SubTransformer | weights | BLEU (13a) | 1/2/3/4-gram precision | BP | hyp/ref length | max abs Δlogit "
              "| sentences/s |\n|---|---|---|---|---|---|---|---|\n");
  for (std::size_t row = 0; row < archs.size() * precisions.size(); ++row) {  // each precision of each arch
    const std::string& name = archs[row / precisions.size()];
    const weights& w = precisions[row % precisions.size()];
    const hat::transformer_config c = name == "largest"    ? hat::config_of(hat::represent_largest<space>())
                                      : name == "smallest" ? hat::config_of(hat::represent_smallest<space>())
                                                           : hat::config_of(hat::read_subtransformer_yaml<space>(name));
    hat::translate_options to;
    to.generation = gen;
    to.batch_sentences = batch;
    hat::cpu run = be;
    run.set_decode_precision(w.p, model, w.scales);  // converted once, before the clock
    double max_diff = 0, max_abs = 0;
    if (w.p != hat::precision::fp32) {
      const auto f = logits(be, c), v = logits(run, c);
      for (std::size_t i = 0; i < f.size(); ++i)
        for (std::size_t j = 0; j < f[i].size(); ++j) {
          max_diff = std::max(max_diff, std::fabs(static_cast<double>(v[i][j]) - f[i][j]));
          max_abs = std::max(max_abs, std::fabs(static_cast<double>(f[i][j])));
        }
    }
    const auto start = std::chrono::steady_clock::now();
    const auto hyps = hat::translate(run, model, c, subwords, src, to);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto r = hat::corpus_bleu(hyps, {ref});
    char drift[48] = "(the reference)";
    if (w.p != hat::precision::fp32) std::snprintf(drift, sizeof drift, "%.4f (%.2f)", max_diff, max_abs);
    std::printf("| %s | %s | %.2f | %.1f/%.1f/%.1f/%.1f | %.3f | %zu/%zu | %s | %.1f |\n", name.c_str(), w.name.c_str(),
                r.score, r.precisions[0], r.precisions[1], r.precisions[2], r.precisions[3], r.bp, r.sys_len, r.ref_len,
                drift, static_cast<double>(src.size()) / seconds);
    std::fflush(stdout);
    if (!out_dir.empty()) {
      std::filesystem::create_directories(out_dir);
      const std::string stem = std::filesystem::path(name).stem().string() + (w.p == hat::precision::fp32 ? "" : "." + w.name);
      std::ofstream out(std::filesystem::path(out_dir) / (stem + "." + split + ".hyp"));
      for (const auto& h : hyps) out << h << "\n";
    }
  }
  return 0;
}
