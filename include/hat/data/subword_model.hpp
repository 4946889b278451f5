// SPDX-License-Identifier: MIT
// subword_model: SentencePiece BPE with fairseq's special ids, trained jointly on both languages or loaded.
#pragma once

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <hat/config.hpp>
#include <hat/io/atomic_file.hpp>
#include <hat/io/read_file.hpp>
#include <hat/data/token_batch.hpp>

namespace hat {

/// How a joint subword vocabulary is trained (SentencePiece's trainer, BPE by default).
struct subword_options {
  std::size_t vocab_size = 8000;
  std::string model_type = "bpe";     // or "unigram"
  double character_coverage = 1.0;    // 1.0: every character of the text (European languages)
  std::size_t max_sentences = 0;      // 0: all; else a seeded sample of this many (SentencePiece's input_sentence_size)
  std::size_t threads = 1;
};

/// A SentencePiece model whose ids are fairseq's: <s> 0, <pad> 1, </s> 2, <unk> 3, then the
/// pieces, so encoded ids index the model's tables directly (one joint table for both
/// languages, as HAT's WMT tasks share).
class subword_model {
 public:
  /// Loads a model file written by train() (or by spm_train with the same special ids).
  static subword_model load(const std::string& path) {
    subword_model m;
    m.path_ = path;
    const std::string bytes = read_file(path, model_file_limit);
    const auto status = m.sp_->LoadFromSerializedProto(bytes);
    if (!status.ok()) throw config_error(path + ": not a SentencePiece model: " + status.ToString());
    m.check_ids_();
    return m;
  }

  /// Trains on every line of `texts` (both sides of a parallel corpus: a joint vocabulary) and
  /// writes the model to `path` atomically. Deterministic for the same input and options.
  static subword_model train(const std::vector<const std::vector<std::string>*>& texts, const std::string& path,
                             const subword_options& o = {}) {
    if (o.vocab_size <= 4) throw config_error("subword_model: vocab_size must exceed fairseq's 4 special symbols");
    lines_iterator it(texts);
    if (it.done()) throw config_error("subword_model: no text to train on");
    const std::unordered_map<std::string, std::string> args{
        {"model_type", o.model_type},
        {"vocab_size", std::to_string(o.vocab_size)},
        {"character_coverage", std::to_string(o.character_coverage)},
        {"input_sentence_size", std::to_string(o.max_sentences)},
        {"shuffle_input_sentence", "true"},
        {"num_threads", std::to_string(o.threads)},
        {"bos_id", "0"},
        {"pad_id", "1"},
        {"eos_id", "2"},
        {"unk_id", "3"},
        {"hard_vocab_limit", "false"},  // a small corpus may not reach vocab_size: fewer pieces, no error
        {"minloglevel", "2"},
    };
    std::string proto;
    const auto status = sentencepiece::SentencePieceTrainer::Train(args, &it, &proto);
    if (!status.ok()) throw config_error("subword_model: SentencePiece training failed: " + status.ToString());
    write_file_atomic(path, proto);
    return load(path);
  }

  const std::string& path() const noexcept { return path_; }
  /// Vocabulary size including the 4 special symbols.
  std::size_t size() const { return static_cast<std::size_t>(sp_->GetPieceSize()); }

  /// The ids of one line of text, without </s> (corpora append it; see parallel_corpus).
  std::vector<int> encode(const std::string& text) const {
    std::vector<int> ids;
    const auto status = sp_->Encode(text, &ids);
    if (!status.ok()) throw config_error("subword_model: cannot encode: " + status.ToString());
    return ids;
  }
  /// Text of ids; special symbols (<s>, <pad>, </s>) are dropped, <unk> reads as SentencePiece renders it.
  std::string decode(const std::vector<int>& ids) const {
    std::vector<int> kept;
    for (int i : ids)
      if (i != special_tokens::bos && i != special_tokens::pad && i != special_tokens::eos) kept.push_back(i);
    std::string text;
    const auto status = sp_->Decode(kept, &text);
    if (!status.ok()) throw config_error("subword_model: cannot decode: " + status.ToString());
    return text;
  }

 private:
  // Lines of several texts in turn, for SentencePiece's trainer.
  class lines_iterator : public sentencepiece::SentenceIterator {
   public:
    explicit lines_iterator(const std::vector<const std::vector<std::string>*>& texts) : texts_(texts) { skip_(); }
    bool done() const override { return t_ >= texts_.size(); }
    void Next() override {
      ++i_;
      skip_();
    }
    const std::string& value() const override { return (*texts_[t_])[i_]; }
    sentencepiece::util::Status status() const override { return {}; }

   private:
    void skip_() {
      while (t_ < texts_.size() && i_ >= texts_[t_]->size()) {
        ++t_;
        i_ = 0;
      }
    }
    const std::vector<const std::vector<std::string>*>& texts_;
    std::size_t t_ = 0, i_ = 0;
  };

  subword_model() : sp_(std::make_shared<sentencepiece::SentencePieceProcessor>()) {}
  void check_ids_() const {
    if (sp_->bos_id() != special_tokens::bos || sp_->pad_id() != special_tokens::pad || sp_->eos_id() != special_tokens::eos ||
        sp_->unk_id() != special_tokens::unk)
      throw config_error(path_ + ": the SentencePiece model's special ids are not fairseq's (<s> 0, <pad> 1, </s> 2, <unk> 3)"
                         "; train it with hat or with spm_train --bos_id=0 --pad_id=1 --eos_id=2 --unk_id=3");
  }

  std::string path_;
  std::shared_ptr<sentencepiece::SentencePieceProcessor> sp_;  // shared: the processor is immutable after loading
};

}  // namespace hat
