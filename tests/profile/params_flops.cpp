// SPDX-License-Identifier: MIT
// #Params and FLOPs against HAT's published numbers; embedding and KV-cache sizes by hand.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include <hat/yaml/subtransformer.hpp>
#include <hat/profile/flops.hpp>
#include <hat/profile/params.hpp>
#include <hat/space/hat_spaces.hpp>
#include "shared_data.hpp"
#include "test_spaces.hpp"

namespace {
std::string two_decimals(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}
}  // namespace

TEST_CASE("profile: #params and FLOPs equal HAT's published values for all 44 released models",
          "[profile][shared]") {
  // tests/data/hat_published.csv: HAT's README table (task, file, #Params in M, FLOPs in G).
  std::ifstream in(hat_test::test_data() / "hat_published.csv");
  REQUIRE(in);
  std::string line;
  std::getline(in, line);
  REQUIRE(line == "task,file,params_m,flops_g");
  int rows = 0;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string task, file, params_m, flops_g;
    std::getline(fields, task, ',');
    std::getline(fields, file, ',');
    std::getline(fields, params_m, ',');
    std::getline(fields, flops_g, ',');
    INFO(file);
    const auto t = hat::find_task(task);
    REQUIRE(t);
    hat::with_task_space(*t, [&]<class S>() {
      const auto a = hat::read_subtransformer_yaml<S>(hat_test::hat_configs() / task / "subtransformer" / file);
      CHECK(two_decimals(static_cast<double>(hat::params(a)) / 1e6) == params_m);
      CHECK(two_decimals(static_cast<double>(hat::flops(a, t->source_length)) / 1e9) == flops_g);
    });
    ++rows;
  }
  CHECK(rows == 44);
}

using hat_test::rpi_3_5s;

TEST_CASE("profile: HAT's rpi@3.5s SubTransformer has 25,217,536 parameters", "[profile]") {
  CHECK(hat::params(rpi_3_5s()) == 25217536);
  CHECK(two_decimals(static_cast<double>(hat::flops(rpi_3_5s(), 30)) / 1e9) == "1.53");
  CHECK(hat::flops(rpi_3_5s(), 30) == 2 * hat::macs(rpi_3_5s(), 30));
}

TEST_CASE("profile: heads change no parameter; inactive layers count nothing", "[profile]") {
  auto a = rpi_3_5s();
  auto b = a;
  b.set<"encoder_self_attention_heads">(0, 8);
  CHECK(hat::params(a) == hat::params(b));
  CHECK(hat::flops(a, 30) == hat::flops(b, 30));
  b.set<"decoder_ffn_embed_dim">(5, 1024);  // inactive
  CHECK(hat::params(a) == hat::params(b));
  // Arbitrary attention costs FLOPs (more keys) but no parameters.
  b.set<"decoder_arbitrary_ende_attn">(0, 2);
  CHECK(hat::params(a) == hat::params(b));
  CHECK(hat::flops(b, 30) > hat::flops(a, 30));
}

TEST_CASE("profile: a tiny model counted by hand", "[profile]") {
  // d_e = d_d = 8, Q = 8, one encoder layer (f = 16), one decoder layer (f = 16), L = 2.
  using T = hat_test::tiny_transformer;
  auto a = hat::arch<T>::smallest();
  a.set<"encoder_embed_dim">(8);
  a.set<"encoder_layer_num">(1);
  a.set<"encoder_ffn_embed_dim">(0, 16);
  a.set<"decoder_layer_num">(1);
  a.set<"decoder_ffn_embed_dim">(0, 16);
  a.set<"decoder_arbitrary_ende_attn">(0, -1);
  const std::int64_t dd = 16;  // decoder embed dim has the single choice 16
  const std::int64_t enc = (3 * 8 * 8 + 24) + (8 * 8 + 8) + (2 * 8 * 16 + 16 + 8) + 4 * 8;
  const std::int64_t dec = (3 * dd * 8 + 24 + 8 * dd + dd) + (dd * 8 + 2 * 8 * 8 + 24 + 8 * dd + dd) +
                           (2 * dd * 16 + 16 + dd) + 6 * dd;
  CHECK(hat::params(a) == enc + dec);
  const std::int64_t L = 2;
  const std::int64_t m_enc = L * 8 + L + (L * 8 * 24 + 2 * L * L * 8 + L * 8 * 8 + 2 * L * 8 * 16) + L * 8 + 2 * L * 8;
  const std::int64_t m_dec = L * dd + L + (L * dd * 24 + 2 * L * L * 8 + L * 8 * dd) +
                             (L * dd * 8 + 2 * L * 8 * 8 + 2 * L * L * 8 + L * 8 * dd) + 2 * L * dd * 16 +
                             2 * L * 8 + 3 * L * dd;
  CHECK(hat::macs(a, L) == m_enc + m_dec);
}

TEST_CASE("profile: embedding tables, weight bytes and KV-cache bytes", "[profile]") {
  auto a = rpi_3_5s();
  a.set<"encoder_embed_dim">(640);
  const hat::vocabulary shared{32000, 32000, true};
  CHECK(hat::embedding_params(a, shared) == 32000 * 640);  // one table at the wider width
  const hat::vocabulary separate{8848, 6632, false};
  CHECK(hat::embedding_params(a, separate) == 8848 * 640 + 2 * 6632 * 512);  // + output projection
  CHECK(hat::weight_bytes(a, shared) == 4 * (hat::params(a) + 32000 * 640));
  CHECK(hat::weight_bytes(a, shared, 2) == 2 * (hat::params(a) + 32000 * 640));

  a.set<"decoder_layer_num">(2);
  a.set<"decoder_arbitrary_ende_attn">(1, 2);  // layer 1 attends to 3 encoder layers
  const auto kv = hat::kv_cache_bytes(a, 5, 30, 30);
  CHECK(kv.self_attention == 2 * (2 * 5 * 30 * 512 * 4));
  CHECK(kv.encoder_decoder == 2 * 5 * 30 * 512 * 4 + 2 * 5 * 90 * 512 * 4);
  CHECK(kv.total() == kv.self_attention + kv.encoder_decoder);
}
