// SPDX-License-Identifier: MIT
// Reads the PyTorch parity fixtures (tests/reference/make_fixtures.py) into a tiny SuperTransformer.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/nn/super_transformer.hpp>

namespace hat_test {


using maxima = hat::transformer_maxima<16, 32, 24, 8, 3, 3>;
using model_t = hat::super_transformer<maxima, hat::cpu>;

/// The same maxima with the fixtures' choice lists: weights stored in column panels.
struct paneled_maxima : maxima {
  static constexpr std::array<std::size_t, 3> embed_choices{8, 12, 16};
  static constexpr std::array<std::size_t, 3> encoder_ffn_choices{8, 16, 32};
  static constexpr std::array<std::size_t, 4> decoder_ffn_choices{8, 12, 16, 24};
};
using paneled_model_t = hat::super_transformer<paneled_maxima, hat::cpu>;

struct parity_case {
  std::string name;
  hat::transformer_config config;
  hat::token_batch src, tgt;
  std::vector<double> logits;
  double loss = 0, nll = 0;
  std::size_t tokens = 0;
};

struct fixture {
  hat::vocabulary_sizes vocab;
  std::vector<std::pair<std::string, std::vector<float>>> params;
  std::vector<parity_case> cases;
};

template <class V>
std::vector<V> read_n(std::istream& in, std::size_t n) {
  std::vector<V> v(n);
  for (auto& x : v) in >> x;
  return v;
}

inline std::vector<std::size_t> sizes(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::size_t> v;
  for (std::size_t x; in >> x;) v.push_back(x);
  return v;
}

inline hat::token_batch read_batch(std::istream& in) {
  hat::token_batch b;
  in >> b.rows >> b.cols;
  b.tokens = read_n<int>(in, b.rows * b.cols);
  return b;
}

inline fixture load(const std::string& file) {
  std::ifstream f(std::string(HAT_TEST_DATA_DIR) + "/" + file);
  REQUIRE(f);
  fixture fx;
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream in(line);
    std::string key;
    in >> key;
    if (key == "maxima") {
      REQUIRE(sizes(line.substr(7)) == std::vector<std::size_t>{16, 32, 24, 8, 3, 3});
    } else if (key == "vocab") {
      std::string sharing;
      in >> fx.vocab.source >> fx.vocab.target >> sharing;
      fx.vocab.sharing = sharing == "all" ? hat::embedding_sharing::all : hat::embedding_sharing::none;
    } else if (key == "param") {
      std::string name;
      std::size_t n = 0;
      in >> name >> n;
      fx.params.emplace_back(name, read_n<float>(in, n));
    } else if (key == "case") {
      fx.cases.emplace_back();
      in >> fx.cases.back().name;
    } else if (key == "config") {
      std::vector<std::string> parts;
      std::string rest = line.substr(7), part;
      std::istringstream ps(rest);
      while (std::getline(ps, part, '|')) parts.push_back(part);
      auto& c = fx.cases.back().config;
      const auto head = sizes(parts.at(0));
      c.encoder_embed_dim = head.at(0);
      c.decoder_embed_dim = head.at(1);
      c.encoder_ffn.assign(head.begin() + 2, head.end());
      c.encoder_heads = sizes(parts.at(1));
      c.decoder_ffn = sizes(parts.at(2));
      c.decoder_self_heads = sizes(parts.at(3));
      c.decoder_ende_heads = sizes(parts.at(4));
      std::istringstream arb(parts.at(5));
      for (int a; arb >> a;) c.decoder_arbitrary.push_back(a);
    } else if (key == "src") {
      fx.cases.back().src = read_batch(in);
    } else if (key == "tgt") {
      fx.cases.back().tgt = read_batch(in);
    } else if (key == "logits") {
      std::size_t n = 0;
      in >> n;
      fx.cases.back().logits = read_n<double>(in, n);
    } else if (key == "loss") {
      in >> fx.cases.back().loss >> fx.cases.back().nll >> fx.cases.back().tokens;
    }
  }
  return fx;
}

template <class Model>
void fill(hat::cpu& be, Model& model, const fixture& fx) {
  REQUIRE(fx.params.size() == model.parameters().size());
  for (const auto& [name, values] : fx.params) {
    const auto& info = *std::find_if(model.parameters().begin(), model.parameters().end(),
                                     [&](const hat::parameter_info& p) { return p.name == name; });
    REQUIRE(info.size() == values.size());
    model.set_parameter(be, name, values);
  }
}

/// The largest |logit - PyTorch's logit| of `model` on case `c` over the target's real tokens;
/// the loss sums and the encoder's output go to `sums` and `enc` when given.
template <class Model>
double worst_logit_error(hat::cpu& be, const Model& model, const fixture& fx, const parity_case& c,
                         hat::loss_sums* sums = nullptr, hat::encoder_output<hat::cpu>* enc = nullptr) {
  hat::model_workspace<hat::cpu> ws;
  hat::encoder_output<hat::cpu> own_enc;
  hat::cpu::buffer<float> logits;
  const auto s = model.loss(be, c.config, c.src, c.tgt, 0.1, ws, logits, enc ? *enc : own_enc);
  if (sums) *sums = s;
  const std::size_t V = fx.vocab.target;
  double worst = 0;
  for (std::size_t r = 0; r < c.tgt.rows; ++r)
    for (std::size_t t = 0; t < c.tgt.cols; ++t) {
      if (c.tgt.at(r, t) == hat::special_tokens::pad) continue;  // padded positions are never read
      for (std::size_t v = 0; v < V; ++v) {
        const std::size_t i = (r * c.tgt.cols + t) * V + v;
        worst = std::max(worst, std::abs(logits[i] - c.logits[i]));
      }
    }
  return worst;
}

}  // namespace hat_test
