// SPDX-License-Identifier: MIT
// HAT's initialisation, dense export and checkpoints (round trips and every kind of bad file).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/io/checksum.hpp>
#include <hat/io/read_file.hpp>
#include <hat/nn/checkpoint.hpp>
#include <hat/nn/dense_export.hpp>

#include "parity_fixture.hpp"

namespace {

using namespace hat_test;
namespace fs = std::filesystem;

fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("hat_test_checkpoint_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::vector<float> logits_of(hat::cpu& be, const model_t& m, const parity_case& c) {
  hat::model_workspace<hat::cpu> ws;
  hat::encoder_output<hat::cpu> enc;
  hat::cpu::buffer<float> logits;
  m.loss(be, c.config, c.src, c.tgt, 0.1, ws, logits, enc);
  return std::vector<float>(logits.begin(), logits.begin() + static_cast<std::ptrdiff_t>(c.tgt.rows * c.tgt.cols * m.vocabulary().target));
}

void write_bytes(const fs::path& p, const std::string& s) {
  std::ofstream(p, std::ios::binary).write(s.data(), static_cast<std::streamsize>(s.size()));
}

}  // namespace

TEST_CASE("init_hat: Xavier-uniform matrices, zero biases, N(0, d^-1/2) tables, unit LayerNorm", "[nn][cpu][init]") {
  hat::cpu be;
  model_t a(be, {24, 24, hat::embedding_sharing::all}), b(be, {24, 24, hat::embedding_sharing::all});
  a.init_hat(be, 11);
  b.init_hat(be, 11);
  CHECK(std::vector<float>(a.data(), a.data() + a.size()) == std::vector<float>(b.data(), b.data() + b.size()));
  for (const auto& p : a.parameters()) {
    INFO(p.name);
    const float* v = a.data() + p.offset;
    if (p.name.find("embed_tokens") != std::string::npos) {
      for (std::size_t c = 0; c < p.shape[1]; ++c) CHECK(v[hat::special_tokens::pad * p.shape[1] + c] == 0.0f);
      double sq = 0;
      for (std::size_t i = 0; i < p.size(); ++i) sq += double(v[i]) * v[i];
      CHECK(std::sqrt(sq / double(p.size() - p.shape[1])) == Approx(1.0 / std::sqrt(16.0)).epsilon(0.15));
    } else if (p.shape.size() == 2) {
      const double bound = std::sqrt(6.0 / double(p.shape[0] + p.shape[1]));
      double mx = 0;
      for (std::size_t i = 0; i < p.size(); ++i) mx = std::max(mx, std::abs(double(v[i])));
      CHECK(mx <= bound);
      CHECK(mx > 0.8 * bound);  // uniform over the whole range, not a narrower one
    } else {
      const float want = p.name.find("layer_norm.weight") != std::string::npos ? 1.0f : 0.0f;
      for (std::size_t i = 0; i < p.size(); ++i) REQUIRE(v[i] == want);
    }
  }
}

TEST_CASE("export_dense: only the active slices, same logits as the SuperTransformer", "[nn][cpu][dense]") {
  hat::cpu be;
  for (const char* file : {"parity_shared.txt", "parity_separate.txt"}) {
    const fixture fx = load(file);
    model_t super(be, fx.vocab);
    fill(be, super, fx);
    for (const auto& c : fx.cases) {
      INFO(file << ": " << c.name);
      const model_t dense = hat::export_dense(be, super, c.config);
      CHECK(dense.size() <= super.size());
      if (c.name != "largest") CHECK(dense.size() < super.size());
      CHECK(dense.parameters().size() <= super.parameters().size());
      const auto want = logits_of(be, super, c), got = logits_of(be, dense, c);
      double worst = 0;
      for (std::size_t i = 0; i < want.size(); ++i) worst = std::max(worst, double(std::abs(want[i] - got[i])));
      CHECK(worst <= 1e-5);
    }
    // A dense model refuses a configuration it does not hold.
    const model_t small = hat::export_dense(be, super, fx.cases[2].config);  // one decoder layer
    CHECK_THROWS_AS(logits_of(be, small, fx.cases[0]), hat::invalid_arch);
  }
}

TEST_CASE("checkpoints: super and dense round trips, atomic writes", "[nn][cpu][checkpoint]") {
  hat::cpu be;
  const fs::path dir = temp_dir("roundtrip");
  const fixture fx = load("parity_separate.txt");
  model_t super(be, fx.vocab);
  fill(be, super, fx);
  hat::save_checkpoint(be, super, dir / "super.hat");
  const model_t back = hat::load_checkpoint<maxima, hat::cpu>(be, dir / "super.hat");
  CHECK(std::equal(super.data(), super.data() + super.size(), back.data(), back.data() + back.size()));
  CHECK_FALSE(back.storage().dense);

  const auto& c = fx.cases[3].config;
  const model_t dense = hat::export_dense(be, super, c);
  hat::save_checkpoint(be, dense, dir / "dense.hat");
  const model_t dense_back = hat::load_checkpoint<maxima, hat::cpu>(be, dir / "dense.hat");
  CHECK(dense_back.storage().dense);
  CHECK(dense_back.storage().arch.decoder_arbitrary == c.decoder_arbitrary);
  CHECK(logits_of(be, dense_back, fx.cases[3]) == logits_of(be, dense, fx.cases[3]));
  CHECK(fs::file_size(dir / "dense.hat") < fs::file_size(dir / "super.hat"));
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++files;
  CHECK(files == 2);  // no temporary files left behind
}

TEST_CASE("paneled storage: checkpoints and dense export keep PyTorch's values", "[nn][cpu][checkpoint]") {
  hat::cpu be;
  const fs::path dir = temp_dir("paneled");
  const fixture fx = load("parity_shared.txt");
  paneled_model_t super(be, fx.vocab);
  fill(be, super, fx);
  for (const auto& [name, values] : fx.params) REQUIRE(super.parameter_values(be, name) == values);
  hat::save_checkpoint(be, super, dir / "super.hat");
  const auto back = hat::load_checkpoint<paneled_maxima, hat::cpu>(be, dir / "super.hat");
  for (const auto& [name, values] : fx.params) REQUIRE(back.parameter_values(be, name) == values);
  // The plain model refuses the paneled file (other choices, other layout), naming the maxima.
  CHECK_THROWS_WITH((hat::load_checkpoint<maxima, hat::cpu>(be, dir / "super.hat")), Catch::Contains("maxima"));
  const auto dense = hat::export_dense(be, super, fx.cases[1].config);
  model_t plain(be, fx.vocab);
  fill(be, plain, fx);
  const auto dense_plain = hat::export_dense(be, plain, fx.cases[1].config);
  CHECK(std::equal(dense.data(), dense.data() + dense.size(), dense_plain.data(), dense_plain.data() + dense_plain.size()));
}

TEST_CASE("checkpoints: bad files give errors naming the file and the fault", "[nn][cpu][checkpoint]") {
  hat::cpu be;
  const fs::path dir = temp_dir("bad");
  model_t model(be, {24, 24, hat::embedding_sharing::all});
  model.init_hat(be, 3);
  const fs::path good = dir / "good.hat";
  hat::save_checkpoint(be, model, good);
  const std::string bytes = hat::read_file(good);

  const auto expect = [&](const std::string& contents, const std::string& fragment) {
    const fs::path p = dir / "case.hat";
    write_bytes(p, contents);
    INFO("expecting: " << fragment);
    try {
      (void)hat::load_checkpoint<maxima, hat::cpu>(be, p);
      FAIL("loaded a bad checkpoint");
    } catch (const hat::config_error& e) {
      const std::string what = e.what();
      CHECK(what.find(p.string()) != std::string::npos);
      CHECK(what.find(fragment) != std::string::npos);
    }
  };
  expect("", "bad magic");
  expect("zip? not a checkpoint at all", "bad magic");
  expect("PK\x03\x04 a zip: torch.save's format", "not a hat checkpoint but a torch.save file (HAT's fairseq .pt?)");
  expect("\x80\x02 a pickle: torch.save's legacy format", "not a hat checkpoint but a torch.save file");
  expect(bytes.substr(0, 40), "header is cut off");
  expect(bytes.substr(0, bytes.size() - 100), "truncated");
  std::string flipped = bytes;
  flipped[bytes.size() / 2] = static_cast<char>(flipped[bytes.size() / 2] ^ 0x10);
  expect(flipped, "checksum mismatch");
  const auto edit = [&](const std::string& from, const std::string& to) {
    std::string s = bytes;
    const auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    REQUIRE(from.size() == to.size());  // keeps the header length valid
    s.replace(at, from.size(), to);
    return s;
  };
  expect(edit("format 1", "format 9"), "format version 9");
  expect(edit("dtype float32", "dtype float16"), "dtype float16");
  expect(edit("maxima 16 32", "maxima 16 64"), "maxima");
  expect(edit("vocab 24 24 all", "vocab 24 24 xyz"), "unknown sharing");
  expect(edit("storage super", "storage weird"), "storage must be");
  expect(edit("tensor encoder.embed_tokens.weight 24 16", "tensor encoder.embed_tokens.weight 24 15"), "tensor 0");
  expect(edit("tensor encoder.embed_tokens.weight", "tensor encoder.embed_tokens.WEIGHT"), "WEIGHT");
  expect(edit("tensors ", "bogus!! "), "header line 6 ('bogus!!'): unknown key");
  // A vocabulary whose tables the file cannot hold is refused before the model is allocated.
  const auto edit_header = [&](const std::string& from, const std::string& to) {  // any length: the header's is fixed up
    std::string s = bytes;
    const auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    s.replace(at, from.size(), to);
    std::uint64_t len = 0;
    std::memcpy(&len, s.data() + 8, 8);
    len = len + to.size() - from.size();
    std::memcpy(s.data() + 8, &len, 8);
    return s;
  };
  expect(edit_header("vocab 24 24 all", "vocab 99999999999 1 all"),
         "vocab 99999999999: an embedding table of that size is larger than the file");
  expect(edit_header("vocab 24 24 all", "vocab 0 24 all"), "vocab 0:");
  {  // a NaN weight under a valid checksum
    std::string s = bytes;
    std::uint64_t len = 0;
    std::memcpy(&len, s.data() + 8, 8);
    const float nan = std::nanf("");
    std::memcpy(s.data() + 16 + len + 4 * sizeof(float), &nan, sizeof nan);
    const std::uint64_t sum = hat::fnv1a(std::string_view(s).substr(0, s.size() - 8));
    std::memcpy(s.data() + s.size() - 8, &sum, 8);
    expect(s, "weight 4 is not a finite number");
  }

  // A checkpoint of other maxima is refused with both sets named.
  using other = hat::transformer_maxima<16, 32, 24, 8, 2, 3>;
  hat::super_transformer<other, hat::cpu> m2(be, {24, 24, hat::embedding_sharing::all});
  hat::save_checkpoint(be, m2, dir / "other.hat");
  try {
    (void)hat::load_checkpoint<maxima, hat::cpu>(be, dir / "other.hat");
    FAIL("loaded a checkpoint of other maxima");
  } catch (const hat::config_error& e) {
    CHECK(std::string(e.what()).find("16 32 24 8 2 3") != std::string::npos);
  }
  CHECK_THROWS((hat::load_checkpoint<maxima, hat::cpu>(be, dir / "missing.hat")));
}
