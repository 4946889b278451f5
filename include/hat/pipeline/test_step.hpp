// SPDX-License-Identifier: MIT
// test_step: the pipeline's test (HAT's test.sh: generate a test split with beam search, score it):
// sacreBLEU on the detokenized text, HAT's tokenized BLEU, #params and FLOPs, as one record; and
// the same on fairseq's binarized data, HAT's own test sets.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <hat/backend/concepts.hpp>
#include <hat/backend/precision.hpp>
#include <hat/config.hpp>
#include <hat/data/fairseq_binarized.hpp>
#include <hat/data/load_corpus.hpp>
#include <hat/data/subword_model.hpp>
#include <hat/data/text_reader.hpp>
#include <hat/decode/translate.hpp>
#include <hat/eval/bleu.hpp>
#include <hat/eval/fairseq_bleu.hpp>
#include <hat/eval/tokenize.hpp>
#include <hat/io/atomic_file.hpp>
#include <hat/io/json.hpp>
#include <hat/io/same_file.hpp>
#include <hat/nn/checkpoint.hpp>
#include <hat/pipeline/fairseq_data.hpp>
#include <hat/pipeline/subword_binding.hpp>
#include <hat/profile/flops.hpp>
#include <hat/profile/params.hpp>
#include <hat/space/space.hpp>

namespace hat {

struct test_inputs {
  std::string checkpoint;       // written by train_model (its subwords and languages are read from it)
  std::string data;             // corpus folder: <split>.<lang>[.gz]
  std::string split = "test";
  std::string bpe_model;        // empty: the one training recorded
  translate_options translate;  // beam, lenpen, max_len_a/b, batch, progress
  std::size_t flops_length = 30;         // source length of the FLOPs count (HAT: 30)
  std::filesystem::path hypotheses_out;  // the translations, one a line (empty: not written)
  std::filesystem::path record_out;      // the record as JSON, written last (empty: not written)
  precision weights = precision::fp32;   // of the model's weights (backend/precision.hpp)
  int8_scales scales = int8_scales::panel;  // int8's row scales: per panel or per super row
};

/// What a test measured; `record` is its JSON (the pipeline's test/<constraint>.json).
struct test_outputs {
  std::string split;
  std::size_t sentences = 0;
  bleu_result sacrebleu;           // on detokenized text, 13a
  fairseq_bleu_result tokenized;   // HAT's score (fairseq's BLEU on 13a tokens)
  std::int64_t params = 0, flops = 0;
  double sentences_per_s = 0;
  std::vector<std::string> hypotheses;
  precision weights = precision::fp32;  // the decoder's, as asked
  int8_scales scales = int8_scales::panel;  // int8's, recorded when weights is int8

  json record() const {
    json r = {{"split", split},
            {"sentences", sentences},
            {"bleu", sacrebleu.score},
            {"bleu_tokenized", tokenized.score},
            {"bp", sacrebleu.bp},
            {"signature", sacrebleu.signature},
            {"params", params},
            {"flops", flops},
            {"sentences_per_s", sentences_per_s},
            {"precision", precision_name(weights)}};
    if (weights == precision::int8) r["int8_scales"] = int8_scales_name(scales);
    return r;
  }
};

/// The precision (and int8 scales) `run` decodes at, as the record states it: what ran, not
/// what was asked (a backend without another precision decodes fp32 only).
template <class Backend>
void ran_at(const Backend& run, test_outputs& out) {
  if constexpr (requires { run.decode_precision(); }) {
    out.weights = run.decode_precision();
    out.scales = run.decode_int8_scales();
  }
}

/// Translates in.split of in.data with SubTransformer `a` of the checkpoint and scores it. Throws
/// config_error for split files of different lengths or none, or a checkpoint of another space.
template <transformer_space S, backend_policy Backend>
test_outputs test_subtransformer(Backend& be, const arch<S>& a, const test_inputs& in) {
  using model_t = super_transformer_for<S, Backend>;
  checkpoint_extras x;
  const auto model = load_checkpoint<typename model_t::maxima, Backend>(be, in.checkpoint, &x);
  const auto recorded = [&](const char* key, const std::string& given) { return checkpoint_value(x, in.checkpoint, key, given); };
  const auto subwords = checkpoint_subwords(x, in.checkpoint, in.bpe_model);
  const corpus_location at{in.data, recorded("source_lang", ""), recorded("target_lang", "")};
  const auto src = read_lines(at.file(in.split, at.source_lang));
  const auto ref = read_lines(at.file(in.split, at.target_lang));
  if (src.size() != ref.size())
    throw config_error(at.file(in.split, at.source_lang) + " and " + at.file(in.split, at.target_lang) +
                       " have different line counts");
  if (src.empty()) throw config_error(at.file(in.split, at.source_lang) + ": no sentences");
  const std::vector<std::filesystem::path> read{in.checkpoint, subwords.path(), at.file(in.split, at.source_lang),
                                                at.file(in.split, at.target_lang)};
  refuse_to_overwrite(in.hypotheses_out, "the translations file", read);
  refuse_to_overwrite(in.record_out, "the record", read);
  auto start = std::chrono::steady_clock::now();
  test_outputs out;
  out.split = in.split;
  out.weights = in.weights;  // what ran, below, where the backend says
  out.scales = in.scales;
  out.hypotheses = with_decode_precision(
      be, model, in.weights,
      [&](Backend& run) {
        start = std::chrono::steady_clock::now();  // after a conversion to another precision
        ran_at(run, out);
        return translate(run, model, config_of(a), subwords, src, in.translate);
      },
      in.scales);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out.sentences = out.hypotheses.size();
  out.sentences_per_s = static_cast<double>(out.sentences) / seconds;
  // Under mpirun the ranks translated together and hold the same result; rank 0 writes it.
  const bool lead = !in.translate.comm || in.translate.comm->rank() == 0;
  if (lead && !in.hypotheses_out.empty()) {
    std::string text;
    for (const auto& h : out.hypotheses) text += h + "\n";
    write_file_atomic(in.hypotheses_out, text);
  }
  // sacreBLEU on the detokenized text; HAT's tokenized BLEU on 13a tokens (raw-text corpora, where
  // HAT's were Moses-tokenized), with its compound splitting.
  out.sacrebleu = corpus_bleu(out.hypotheses, {ref});
  const auto tokens = [](const std::string& line) {
    std::string s;
    for (const auto& w : tokenize_13a(line)) s += (s.empty() ? "" : " ") + w;
    return s;
  };
  std::vector<std::string> hyp_tok, ref_tok;
  for (std::size_t i = 0; i < ref.size(); ++i) hyp_tok.push_back(tokens(out.hypotheses[i])), ref_tok.push_back(tokens(ref[i]));
  out.tokenized = fairseq_bleu(hyp_tok, ref_tok);
  out.params = params(a);
  out.flops = flops(a, static_cast<std::int64_t>(in.flops_length));
  if (lead && !in.record_out.empty()) write_json_atomic(in.record_out, out.record());
  return out;
}

/// A test on fairseq's binarized data (HAT's `data/binary/...` folders) instead of text.
struct binarized_test_inputs {
  std::string data;                    // the folder: <split>.<src>-<tgt>.<lang>.{idx,bin} and dict.<lang>.txt
  std::string split = "test";
  std::string source_lang, target_lang;
  std::string remove_bpe = "@@ ";      // fairseq's --remove-bpe (HAT's test.sh passes it)
  checkpoint_extras recorded;          // the model's checkpoint state: its dictionaries' hashes, when recorded
  std::string checkpoint;              // names it in errors
  translate_options translate;         // HAT's test.sh: WMT beam 4, lenpen 0.6; IWSLT beam 5, lenpen 1
  std::size_t flops_length = 30;
  std::filesystem::path hypotheses_out;
  std::filesystem::path record_out;
  precision weights = precision::fp32;  // of the model's weights
  int8_scales scales = int8_scales::panel;
};

/// HAT's test.sh on its own data: the split's source ids translated by SubTransformer `a` of
/// `model`, hypotheses and references turned back into text by the target dictionary with the BPE
/// removed (fairseq's generate.py), then HAT's `normal` BLEU (tokenized, compound-split) and
/// sacreBLEU on the same Moses-tokenized text (HAT's `sacre` mode detokenizes with sacremoses
/// first, which hat does not do: that number is not HAT's). The dictionaries must match the
/// model's vocabulary sizes.
template <transformer_space S, class M, backend_policy Backend, class T>
test_outputs test_binarized(Backend& be, const super_transformer<M, Backend, T>& model, const arch<S>& a,
                            const binarized_test_inputs& in) {
  // every pair is kept: translate_ids cuts a source longer than the position table, and the
  // references are only text
  const auto data = fairseq_data_for(model.vocabulary(), std::numeric_limits<std::size_t>::max(), in.data, in.split,
                                     in.source_lang, in.target_lang, &in.recorded, in.checkpoint);
  const auto& split = data.split;
  std::vector<std::filesystem::path> read;  // every file read_fairseq_split may have read
  for (const auto& lang : {in.source_lang, in.target_lang}) {
    read.push_back(std::filesystem::path(in.data) / ("dict." + lang + ".txt"));
    for (const auto& pair : {in.source_lang + "-" + in.target_lang, in.target_lang + "-" + in.source_lang})
      for (const char* ext : {".idx", ".bin"}) read.push_back(std::filesystem::path(in.data) / (in.split + "." + pair + "." + lang + ext));
  }
  refuse_to_overwrite(in.hypotheses_out, "the translations file", read);
  refuse_to_overwrite(in.record_out, "the record", read);
  auto start = std::chrono::steady_clock::now();
  test_outputs out;
  out.weights = in.weights;  // what ran, below, where the backend says
  out.scales = in.scales;
  const auto found = with_decode_precision(
      be, model, in.weights,
      [&](Backend& run) {
        start = std::chrono::steady_clock::now();  // after a conversion to another precision
        ran_at(run, out);
        return translate_ids(run, model, config_of(a), split.corpus.source, in.translate);
      },
      in.scales);
  out.split = in.split;
  out.sentences = found.size();
  out.sentences_per_s = static_cast<double>(out.sentences) /
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<std::string> refs;
  for (std::size_t i = 0; i < found.size(); ++i) {
    out.hypotheses.push_back(split.target_dict.string(found[i], in.remove_bpe));
    refs.push_back(split.target_dict.string(split.corpus.target[i], in.remove_bpe));
  }
  // Under mpirun the ranks translated together and hold the same result; rank 0 writes it.
  const bool lead = !in.translate.comm || in.translate.comm->rank() == 0;
  if (lead && !in.hypotheses_out.empty()) {
    std::string text;
    for (const auto& h : out.hypotheses) text += h + "\n";
    write_file_atomic(in.hypotheses_out, text);
  }
  out.sacrebleu = corpus_bleu(out.hypotheses, {refs});
  out.tokenized = fairseq_bleu(out.hypotheses, refs);
  out.params = params(a);
  out.flops = flops(a, static_cast<std::int64_t>(in.flops_length));
  if (lead && !in.record_out.empty()) write_json_atomic(in.record_out, out.record());
  return out;
}

}  // namespace hat
