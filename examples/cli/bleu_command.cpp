// SPDX-License-Identifier: MIT
// `hat bleu`: sacreBLEU-compatible BLEU and chrF, and HAT's tokenized BLEU, of a hypothesis file.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <hat/data/text_reader.hpp>
#include <hat/eval/bleu.hpp>
#include <hat/eval/chrf.hpp>
#include <hat/eval/fairseq_bleu.hpp>

#include "commands.hpp"

namespace hat_cli {
namespace {

struct bleu_cli_options {
  std::vector<std::string> refs;
  std::string hyp;
  hat::bleu_options bleu;
  bool chrf = false;
  bool fairseq = false;
  bool sentence = false;
  bool json = false;
};

/// Lines as `sacrebleu -i` reads them: the right end stripped.
std::vector<std::string> read_stripped(const std::string& path) {
  auto lines = path == "-" ? [] {
    std::vector<std::string> v;
    for (std::string l; std::getline(std::cin, l);) v.push_back(l);
    return v;
  }()
                           : hat::read_lines(path);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (path == "-") {  // read_lines checked a file's UTF-8 already
      try {
        (void)hat::unicode::decode_utf8(lines[i]);
      } catch (const hat::config_error& e) {
        throw hat::config_error("<stdin>:" + std::to_string(i + 1) + ": " + e.what());
      }
    }
    lines[i] = std::string(hat::detail::rstrip_utf8(lines[i]));
  }
  return lines;
}

std::string json_numbers(const auto& v, const char* format) {
  std::string s = "[";
  char buf[64];
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::snprintf(buf, sizeof buf, format, v[i]);
    s += (i ? ", " : "") + std::string(buf);
  }
  return s + "]";
}

void print_bleu(const hat::bleu_result& r, bool json, const char* extra_json = "") {
  if (!json) {
    std::printf("%s\n%s\n", r.formatted().c_str(), r.signature.c_str());
    return;
  }
  std::printf(
      "{\"name\": \"BLEU\", \"score\": %.17g, \"counts\": %s, \"totals\": %s, \"precisions\": %s, \"bp\": %.17g, "
      "\"ratio\": %.17g, \"sys_len\": %zu, \"ref_len\": %zu, \"signature\": \"%s\", \"formatted\": \"%s\"%s}\n",
      r.score, json_numbers(r.counts, "%zu").c_str(), json_numbers(r.totals, "%zu").c_str(),
      json_numbers(r.precisions, "%.17g").c_str(), r.bp, r.ratio(), r.sys_len, r.ref_len, json_escape(r.signature).c_str(),
      json_escape(r.formatted()).c_str(), extra_json);
}

int run(const bleu_cli_options& o) {
  const auto hyps = read_stripped(o.hyp);
  std::vector<std::vector<std::string>> refs;
  for (const auto& r : o.refs) {
    refs.push_back(read_stripped(r));
    if (refs.back().size() != hyps.size())
      throw hat::config_error(r + " has " + std::to_string(refs.back().size()) + " lines but " + o.hyp + " has " +
                              std::to_string(hyps.size()));
  }
  if (o.fairseq) {
    if (refs.size() != 1) throw hat::config_error("--fairseq scores against exactly one --ref");
    const auto r = hat::fairseq_bleu(hyps, refs[0]);
    if (o.json)
      std::printf("{\"name\": \"BLEU4\", \"score\": %.17g, \"counts\": %s, \"totals\": %s, \"bp\": %.17g, \"sys_len\": %zu, "
                  "\"ref_len\": %zu, \"formatted\": \"%s\"}\n",
                  r.score, json_numbers(r.matches, "%zu").c_str(), json_numbers(r.counts, "%zu").c_str(), r.bp, r.sys_len,
                  r.ref_len, json_escape(r.formatted()).c_str());
    else
      std::printf("%s\n", r.formatted().c_str());
    return 0;
  }
  if (o.sentence) {
    hat::bleu_options so = o.bleu;
    so.effective_order = true;
    for (std::size_t i = 0; i < hyps.size(); ++i) {
      std::vector<std::string> sentence_refs;
      for (const auto& r : refs) sentence_refs.push_back(r[i]);
      const auto r = hat::sentence_bleu(hyps[i], sentence_refs, so);
      if (o.json)
        std::printf("{\"line\": %zu, \"score\": %.17g}\n", i + 1, r.score);
      else
        std::printf("%.4f\n", r.score);
    }
    return 0;
  }
  const auto r = hat::corpus_bleu(hyps, refs, o.bleu);
  if (!o.chrf) {
    print_bleu(r, o.json);
    return 0;
  }
  const auto c = hat::corpus_chrf(hyps, refs, {.lowercase = o.bleu.lowercase});
  char buf[512];
  std::snprintf(buf, sizeof buf, ", \"chrf\": {\"name\": \"%s\", \"score\": %.17g, \"signature\": \"%s\"}", c.name.c_str(),
                c.score, json_escape(c.signature).c_str());
  print_bleu(r, o.json, buf);
  if (!o.json) std::printf("%s = %.2f\n%s\n", c.name.c_str(), c.score, c.signature.c_str());
  return 0;
}

}  // namespace

void add_bleu_command(CLI::App& app) {
  auto o = std::make_shared<bleu_cli_options>();
  auto* cmd = app.add_subcommand("bleu", "BLEU and chrF of a hypothesis file, as sacreBLEU 2.6.0 computes them");
  cmd->add_option("hyp", o->hyp, "hypothesis file, one sentence per line ('-': standard input)")->required();
  cmd->add_option("--ref,-r", o->refs, "reference file (repeat for several references)")->required();
  cmd->add_option("--tokenize,-t", o->bleu.tokenize, "13a (default), intl, none, char")
      ->check(CLI::IsMember({"13a", "intl", "none", "char"}));
  cmd->add_flag("--lowercase,-l", o->bleu.lowercase, "case-insensitive");
  cmd->add_option("--smooth", o->bleu.smooth, "exp (default), none, floor, add-k")
      ->check(CLI::IsMember({"exp", "none", "floor", "add-k"}));
  cmd->add_option("--smooth-value", o->bleu.smooth_value, "floor's or add-k's value (0.1 and 1 by default)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--chrf", o->chrf, "also chrF2 (sacreBLEU's defaults)");
  cmd->add_flag("--sentence", o->sentence, "sentence BLEU of each line (effective order) instead of the corpus score");
  cmd->add_flag("--fairseq", o->fairseq,
                "HAT's tokenized BLEU instead: compound splitting and fairseq's scorer on whitespace tokens");
  cmd->add_flag("--json", o->json, "print JSON (score, counts, totals, precisions, bp, sys_len, ref_len, signature)");
  cmd->callback([o] {
    try {
      if (const int rc = run(*o); rc != 0) throw exit_code{rc};
    } catch (const hat::config_error& e) {
      std::cerr << "hat bleu: " << e.what() << "\n";
      throw exit_code{1};
    }
  });
}

}  // namespace hat_cli
