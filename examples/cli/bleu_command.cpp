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
#include <hat/eval/paired_bootstrap.hpp>

#include "commands.hpp"
#include "json_output.hpp"

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
  std::string compare;  // another system's hypotheses: paired bootstrap of the two
  hat::paired_bootstrap_options bootstrap;
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

json bleu_json(const hat::bleu_result& r) {
  return {{"name", "BLEU"},          {"score", r.score},       {"counts", r.counts},   {"totals", r.totals},
          {"precisions", r.precisions}, {"bp", r.bp},           {"ratio", r.ratio()},   {"sys_len", r.sys_len},
          {"ref_len", r.ref_len},    {"signature", r.signature}, {"formatted", r.formatted()}};
}

void print_bleu(const hat::bleu_result& r, bool as_json) {
  if (as_json)
    print_json(bleu_json(r));
  else
    std::printf("%s\n%s\n", r.formatted().c_str(), r.signature.c_str());
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
  if (!o.compare.empty()) {
    if (refs.size() != 1) throw hat::config_error("--compare tests against exactly one --ref");
    if (o.fairseq || o.sentence || o.chrf) throw hat::config_error("--compare goes with neither --fairseq, --sentence nor --chrf");
    const auto other = read_stripped(o.compare);
    if (other.size() != hyps.size())
      throw hat::config_error(o.compare + " has " + std::to_string(other.size()) + " lines but " + o.hyp + " has " +
                              std::to_string(hyps.size()));
    hat::paired_bootstrap_options b = o.bootstrap;
    b.bleu = o.bleu;
    const auto r = hat::paired_bootstrap_bleu(hyps, other, refs[0], b);
    if (o.json)
      print_json({{"bleu", r.bleu_a}, {"bleu_compared", r.bleu_b}, {"difference", r.bleu_a - r.bleu_b}, {"ci_low", r.ci_low},
                  {"ci_high", r.ci_high}, {"p_value", r.p_value}, {"samples", r.samples}});
    else
      std::printf("BLEU %.2f against %.2f: difference %+.2f, 95 %% interval %+.2f to %+.2f, p = %.4f (paired bootstrap, %zu "
                  "resamples)%s\n",
                  r.bleu_a, r.bleu_b, r.bleu_a - r.bleu_b, r.ci_low, r.ci_high, r.p_value, r.samples,
                  r.significant() ? "" : ": not significant at 0.05");
    return 0;
  }
  if (o.fairseq) {
    if (refs.size() != 1) throw hat::config_error("--fairseq scores against exactly one --ref");
    const auto r = hat::fairseq_bleu(hyps, refs[0]);
    if (o.json)
      print_json({{"name", "BLEU4"}, {"score", r.score}, {"counts", r.matches}, {"totals", r.counts}, {"bp", r.bp},
                  {"sys_len", r.sys_len}, {"ref_len", r.ref_len}, {"formatted", r.formatted()}});
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
        print_json({{"line", i + 1}, {"score", r.score}});
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
  if (o.json) {
    auto j = bleu_json(r);
    j["chrf"] = {{"name", c.name}, {"score", c.score}, {"signature", c.signature}};
    print_json(j);
    return 0;
  }
  print_bleu(r, false);
  std::printf("%s = %.2f\n%s\n", c.name.c_str(), c.score, c.signature.c_str());
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
  cmd->add_option("--compare", o->compare, "another system's hypotheses: is the difference in BLEU significant? (paired "
                                           "bootstrap: 95 % interval and p-value)");
  cmd->add_option("--samples", o->bootstrap.samples, "with --compare: resampled test sets")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}))
      ->capture_default_str();
  cmd->add_option("--seed", o->bootstrap.seed, "with --compare: seed of the resampling")->capture_default_str();
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
