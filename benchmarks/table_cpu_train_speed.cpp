// SPDX-License-Identifier: MIT
// Training speed on Multi30k: target tokens per second of optimiser updates of one SubTransformer
// (the trainer's whole step: forward, backward, Adam), and the batches it used, for the PyTorch
// side of benchmarks/pytorch/train_vs_pytorch.py.
//
//   table_cpu_train_speed DATA_DIR [--arch largest|smallest] [--updates 20] [--warmup 3]
//       [--max-tokens 2048] [--threads 1] [--bpe MODEL] [--dump BATCHES.txt] [--precision fp32|bf16]
// Prints one JSON object: tokens_per_s, tokens, seconds, updates, vocab, blas, precision, bf16_engine.
// --precision bf16: the products' precision of `hat train --precision bf16` (docs/training.md), on
// oneDNN where it loads (HAT_ONEDNN=off: the rounding path; bf16_engine says which ran).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/data/load_corpus.hpp>
#include <hat/data/subword_model.hpp>
#include <hat/io/json.hpp>
#include <hat/space/small_spaces.hpp>
#include <hat/train/trainer.hpp>

namespace {

void dump_batch(std::ofstream& out, const char* tag, const hat::token_batch& b) {
  out << tag << ' ' << b.rows << ' ' << b.cols;
  for (int t : b.tokens) out << ' ' << t;
  out << '\n';
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DATA_DIR [--arch largest|smallest] [--updates N] [--warmup N] [--max-tokens N] "
                         "[--threads N] [--bpe MODEL] [--dump FILE] [--precision fp32|bf16]\n", argv[0]);
    return 2;
  }
  std::string data = argv[1], arch = "largest", bpe = "/tmp/hat_bench_multi30k.model", dump, precision = "fp32";
  std::size_t updates = 20, warmup = 3, max_tokens = 2048;
  int threads = 1;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--arch") arch = v;
    else if (k == "--updates") updates = std::stoul(v);
    else if (k == "--warmup") warmup = std::stoul(v);
    else if (k == "--max-tokens") max_tokens = std::stoul(v);
    else if (k == "--threads") threads = std::stoi(v);
    else if (k == "--bpe") bpe = v;
    else if (k == "--dump") dump = v;
    else if (k == "--precision") precision = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (precision != "fp32" && precision != "bf16") {
    std::fprintf(stderr, "--precision: fp32 or bf16 (the products' precision in training), got %s\n", precision.c_str());
    return 2;
  }
  using space = hat::multi30k_space;
  hat::cpu::set_threads(threads);
  hat::cpu be;
  const hat::precision products = hat::parse_precision(precision, "--precision");
  be.set_training_precision(products);
  const hat::corpus_location at{data, "de", "en"};
  if (!std::filesystem::exists(bpe)) {
    const auto src = hat::read_lines(at.file("train", "de")), tgt = hat::read_lines(at.file("train", "en"));
    hat::subword_options o;
    o.vocab_size = 8000;
    hat::subword_model::train({&src, &tgt}, bpe, o);
  }
  const auto subwords = hat::subword_model::load(bpe);
  const auto train = hat::load_corpus(at, "train", subwords, 256);

  hat::trainer_options o;
  o.max_update = warmup + updates;
  o.products = products;
  o.batching.max_tokens = max_tokens;
  o.dropout = {0.1, 0.1, 0.0, true, true};
  o.schedule = hat::inverse_sqrt_schedule{5e-4, 1e-7, 4000};
  o.sampling = hat::sampling_rule::fixed;
  o.fixed = hat::config_of(arch == "smallest" ? hat::arch<space>::smallest() : hat::arch<space>::largest());
  hat::super_transformer_for<space, hat::cpu> model(be, {subwords.size(), subwords.size(), hat::embedding_sharing::all});
  model.init_hat(be, 1);
  if (!dump.empty()) {  // the same batches, in the order the trainer takes them (epoch 1)
    std::ofstream out(dump);
    out << "vocab " << subwords.size() << "\n";
    const auto batches = hat::epoch_batches(train, o.batching, 1);
    for (std::size_t i = 0; i < warmup + updates && i < batches.size(); ++i) {
      const auto b = hat::make_batch(train, batches[i]);
      dump_batch(out, "S", b.source);
      dump_batch(out, "T", b.target);
    }
  }
  hat::trainer<space, hat::cpu> t(be, model, train, o);
  for (std::size_t i = 0; i < warmup; ++i) t.step();
  std::size_t tokens = 0;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < updates; ++i) tokens += t.step().tokens;
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fputs(hat::json_line({{"tokens_per_s", static_cast<double>(tokens) / s},
                             {"tokens", tokens},
                             {"seconds", s},
                             {"updates", updates},
                             {"vocab", subwords.size()},
                             {"blas", hat::cpu::blas_core()},
                             {"precision", precision},
                             {"bf16_engine", products == hat::precision::bf16 ? be.bf16_products_engine() : "-"}})
                 .c_str(),
             stdout);
  return 0;
}
