// SPDX-License-Identifier: MIT
// BLEU of SubTransformers of a Multi30k SuperTransformer checkpoint (written by `hat train` with
// examples/configs/multi30k.yml): beam search over a test split with inherited weights, the
// subwords decoded, sacreBLEU-compatible corpus BLEU (13a) against the raw references.
//
//   table_cpu_multi30k_bleu CHECKPOINT DATA_DIR [--split test_2016_flickr] [--beam 5] [--lenpen 1]
//       [--batch 32] [--limit N] [--threads 1] [--out-dir DIR] [largest|smallest|ARCH.yml ...]
// Prints a Markdown table: SubTransformer, BLEU, n-gram precisions, BP, sentences/s.
#include <algorithm>
#include <chrono>
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
#include <hat/space/small_spaces.hpp>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s CHECKPOINT DATA_DIR [--split S] [--beam K] [--lenpen P] [--batch N] [--limit N] "
                         "[--threads N] [--out-dir DIR] [largest|smallest|ARCH.yml ...]\n", argv[0]);
    return 2;
  }
  using space = hat::multi30k_space;
  using model_t = hat::super_transformer_for<space, hat::cpu>;
  std::string checkpoint = argv[1], data = argv[2], split = "test_2016_flickr", out_dir;
  hat::generation_options gen;
  gen.max_len_a = 1.2;  // fairseq-generate's usual a * source + b for short captions
  gen.max_len_b = 10;
  std::size_t batch = 32, limit = 0;
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
  const auto subwords = hat::subword_model::load(*x.value("subwords"));
  const hat::corpus_location at{data, *x.value("source_lang"), *x.value("target_lang")};
  std::vector<std::string> src = hat::read_lines(at.file(split, at.source_lang)), ref = hat::read_lines(at.file(split, at.target_lang));
  if (limit && limit < src.size()) src.resize(limit), ref.resize(limit);
  std::printf("checkpoint %s, %s: %zu sentences, beam %zu, lenpen %.2f, BLAS %s, %d thread(s)\n\n", checkpoint.c_str(),
              split.c_str(), src.size(), gen.beam, gen.lenpen, hat::cpu::blas_core().c_str(), threads);
  std::printf("| SubTransformer | BLEU (13a) | 1/2/3/4-gram precision | BP | hyp/ref length | sentences/s |\n|---|---|---|---|---|---|\n");
  for (const auto& name : archs) {
    const hat::transformer_config c = name == "largest"    ? hat::config_of(hat::represent_largest<space>())
                                      : name == "smallest" ? hat::config_of(hat::represent_smallest<space>())
                                                           : hat::config_of(hat::read_subtransformer_yaml<space>(name));
    hat::translate_options to;
    to.generation = gen;
    to.batch_sentences = batch;
    const auto start = std::chrono::steady_clock::now();
    const auto hyps = hat::translate(be, model, c, subwords, src, to);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto r = hat::corpus_bleu(hyps, {ref});
    std::printf("| %s | %.2f | %.1f/%.1f/%.1f/%.1f | %.3f | %zu/%zu | %.1f |\n", name.c_str(), r.score, r.precisions[0],
                r.precisions[1], r.precisions[2], r.precisions[3], r.bp, r.sys_len, r.ref_len,
                static_cast<double>(src.size()) / seconds);
    std::fflush(stdout);
    if (!out_dir.empty()) {
      std::filesystem::create_directories(out_dir);
      std::ofstream out(std::filesystem::path(out_dir) / (std::filesystem::path(name).stem().string() + "." + split + ".hyp"));
      for (const auto& h : hyps) out << h << "\n";
    }
  }
  return 0;
}
