// SPDX-License-Identifier: MIT
// hat/io/torch_file.hpp against files torch.save wrote (tests/reference/make_torch_fixtures.py,
// Debian's PyTorch 1.13), in both formats; and against damaged and hostile variants of them.
#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <hat/io/read_file.hpp>
#include <hat/io/torch_file.hpp>

#include "shared_data.hpp"

using namespace std::string_literals;

namespace {

std::filesystem::path fixture(const std::string& name) { return hat_test::test_data() / "torch" / name; }

nlohmann::json expected(const std::string& name) { return nlohmann::json::parse(hat::read_file(fixture(name))); }

/// Every tensor of `sd` equals what PyTorch wrote in the JSON: shape, dtype and each value.
void check_state_dict(const hat::torch_file& f, const hat::pickle_ref& sd, const nlohmann::json& want) {
  REQUIRE(sd.is(hat::pickle_kind::dict));
  REQUIRE(sd.size() == want.size());
  std::size_t i = 0;
  for (const auto& [key, t] : sd.entries()) {
    INFO(f.name() << " " << key.as_string());
    const auto& w = want.at(key.as_string());
    ++i;
    REQUIRE(f.is_tensor(t));
    CHECK(f.shape(t) == w.at("shape").get<std::vector<std::int64_t>>());
    CHECK(std::string(hat::torch_dtype_of(f.dtype(t)).name) == w.at("dtype").get<std::string>());
    const auto values = w.at("values").get<std::vector<double>>();
    const auto got = f.to_float(t);
    REQUIRE(got.size() == values.size());
    for (std::size_t j = 0; j < got.size(); ++j) CHECK(got[j] == static_cast<float>(values[j]));
    if (w.at("dtype") == "int64" || w.at("dtype") == "int32" || w.at("dtype") == "uint8") {
      const auto ints = f.to_int64(t);
      for (std::size_t j = 0; j < ints.size(); ++j) CHECK(ints[j] == static_cast<std::int64_t>(values[j]));
    }
  }
  CHECK(i == want.size());
}

std::string bytes_of(const std::string& name) { return hat::read_file(fixture(name), hat::model_file_limit); }

std::string replaced(std::string s, const std::string& from, const std::string& to) {
  const auto at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("torch_file: every dtype and layout torch.save writes, in both formats", "[torch]") {
  const auto want = expected("tensors.json");
  for (const char* name : {"tensors_zip.pt", "tensors_legacy.pt"}) {
    const auto f = hat::torch_file::read(fixture(name));
    CHECK(f.legacy() == (std::string(name) == "tensors_legacy.pt"));
    check_state_dict(f, f.root(), want);
    // Views keep their storage: a transposed tensor reads base's storage with strides (1, 4).
    CHECK(f.to_float(f.root().at("transposed"))[1] == f.to_float(f.root().at("base"))[4]);
    CHECK_THROWS_WITH(f.to_float(f.root().at("f32"), {3, 2}),
                      Catch::Contains("['f32'] is a tensor of shape [2, 3] float32, expected [3, 2]"));
    CHECK_THROWS_WITH(f.to_int64(f.root().at("f32")), Catch::Contains("is a float32 tensor, integers were expected"));
  }
}

TEST_CASE("torch_file: a fairseq-shaped checkpoint: Namespace args, numpy scalars, bytes", "[torch]") {
  const auto want = expected("checkpoint.json");
  for (const char* name : {"checkpoint_zip.pt", "checkpoint_legacy.pt"}) {
    INFO(name);
    const auto f = hat::torch_file::read(fixture(name));
    const auto root = f.root();
    check_state_dict(f, root.at("model"), want.at("model"));
    const auto args = root.at("args");
    CHECK(args.is(hat::pickle_kind::object));
    CHECK(args.node().text == "argparse.Namespace");
    CHECK(args.at("arch").as_string() == "transformersuper_wmt_en_de");
    CHECK(args.at("encoder_embed_dim").as_int() == 640);
    CHECK(args.at("encoder_embed_choice").size() == 2);
    CHECK(args.at("encoder_embed_choice")[1].as_int() == 512);
    CHECK(args.at("decoder_layer_num_choice")[5].as_int() == 1);
    CHECK(args.at("share_all_embeddings").as_bool());
    CHECK(args.at("dropout").as_number() == 0.3);
    CHECK(args.at("lr")[0].as_number() == 1e-7);
    CHECK(args.at("empty").is(hat::pickle_kind::none));
    CHECK(args.at("pair").is(hat::pickle_kind::tuple));
    CHECK(args.at("tags").is(hat::pickle_kind::set));
    CHECK(args.at("tags")[0].as_string() == "a");
    CHECK_FALSE(args.find("no_such_key").has_value());
    CHECK_THROWS_WITH(args.at("arch").as_int(), Catch::Contains("obj['args'].arch is a string 'transformersuper_wmt_en_de', expected an integer"));
    const auto extra = root.at("extra_state");
    CHECK(extra.at("val_loss").as_number() == 4.25);
    CHECK(extra.at("best").as_number() == 3.5);
    CHECK(extra.at("steps").as_int() == -12345678901);
    CHECK(extra.at("raw").as_string() == std::string("\0\xff\x7fok", 5));
    CHECK(extra.at("train_iterator").at("epoch").as_int() == 3);
    CHECK(root.at("optimizer_history")[0].at("num_updates").as_int() == 40000);
  }
}

TEST_CASE("torch_file: every truncation of either format is an error, never a crash", "[torch]") {
  for (const char* name : {"checkpoint_legacy.pt", "tensors_zip.pt"}) {
    const auto all = bytes_of(name);
    std::size_t refused = 0;
    for (std::size_t n = 0; n < all.size(); ++n) {
      try {
        (void)hat::torch_file::from_bytes(all.substr(0, n), "cut.pt");
      } catch (const hat::config_error& e) {
        ++refused;
        CHECK(std::string(e.what()).starts_with("cut.pt"));
      }
    }
    CHECK(refused == all.size());
    CHECK_NOTHROW(hat::torch_file::from_bytes(all, "whole.pt"));
  }
}

TEST_CASE("torch_file: hostile and damaged files get errors naming what is wrong", "[torch]") {
  const auto legacy = bytes_of("tensors_legacy.pt");
  const auto refused = [](const std::string& bytes) -> std::string {
    try {
      (void)hat::torch_file::from_bytes(bytes, "bad.pt");
    } catch (const hat::config_error& e) {
      return e.what();
    }
    return "(accepted)";
  };
  // a global off the allow-list: nothing is called, the offset and the name are reported
  CHECK_THAT(refused(replaced(legacy, "collections\nOrderedDict\n", "os\nsystem\n")),
             Catch::Contains("bad.pt: pickle offset 139: GLOBAL 'os.system' is not on the allow-list"));
  CHECK_THAT(refused(replaced(legacy, "torch._utils\n_rebuild_tensor_v2\n", "torch\nload\n")),
             Catch::Contains("GLOBAL 'torch.load' is not on the allow-list"));
  // written on a big-endian machine
  CHECK_THAT(refused(replaced(legacy, "little_endian\x71\x02\x88", "little_endian\x71\x02\x89")), Catch::Contains("big-endian"));
  // an opcode torch.save never writes (protocol 0's INT)
  CHECK_THAT(refused(replaced(legacy, "\x80\x02\x63" "collections", "\x80\x02I" "collections")),
             Catch::Contains("opcode 'I' is not one torch.save writes"));
  // a storage's element count that disagrees with its tensors
  {
    auto bad = legacy;
    // the first storage's element count follows the STOP of the storage-key list (digits only)
    const auto stop = bad.find('.', bad.find("\x80\x02]") + 3);
    bad[stop + 1] = static_cast<char>(bad[stop + 1] + 1);
    CHECK_THAT(refused(bad), Catch::Contains("elements, its tensors declared"));
  }
  CHECK_THAT(refused(legacy + "x"), Catch::Contains("1 unexpected bytes after the last storage"));
  CHECK_THAT(refused("not a torch file at all"), Catch::Contains("bad.pt: "));
  CHECK_THAT(refused("PK\x03\x04 junk"s), Catch::Contains("bad.pt: not a readable zip archive"));
  // a zip whose storage entry is damaged: libzip's CRC check or our size check refuses it
  {
    auto zip = bytes_of("tensors_zip.pt");
    const auto at = zip.find("tensors_zip/data/0");
    REQUIRE(at != std::string::npos);
    // torch.save pads each local header so that the data starts at a multiple of 64
    const auto data = (at + 18 + 4 + 63) / 64 * 64;
    zip[data] = static_cast<char>(zip[data] ^ 0x55);
    CHECK_THAT(refused(zip), Catch::Contains("bad.pt"));
  }
}

TEST_CASE("torch_file: hand-made pickles: tensors outside their storage, modules, views", "[torch]") {
  // The three header pickles of a legacy file (magic, protocol 1001, system info) from a real one.
  const auto legacy = bytes_of("tensors_legacy.pt");
  const std::string header = legacy.substr(0, legacy.find("\x80\x02\x63" "collections"));
  const auto storage_pid = [](int numel) {
    return "((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x00kX\x03\x00\x00\x00"s + "cpuK" +
           static_cast<char>(numel) + "NtQ";
  };
  const auto file = [&](const std::string& main, int stored) {
    std::string f = header + main + "\x80\x02]X\x01\x00\x00\x00ka."s;
    f += static_cast<char>(stored);
    f += std::string(7, '\0') + std::string(static_cast<std::size_t>(stored) * 4, '\0');
    return f;
  };
  const auto tensor = [&](int numel, int offset, int size, int stride) {
    return "\x80\x02\x63torch._utils\n_rebuild_tensor_v2\n"s + storage_pid(numel) + "K" + static_cast<char>(offset) +
           "K" + static_cast<char>(size) + "\x85K" + static_cast<char>(stride) + "\x85\x89}tR.";
  };
  const auto load = [](const std::string& bytes) { return hat::torch_file::from_bytes(bytes, "made.pt"); };
  {
    const auto ok = load(file(tensor(4, 1, 3, 1), 4));
    CHECK(ok.to_float(ok.root()) == std::vector<float>{0, 0, 0});
  }
  CHECK_THROWS_WITH(load(file(tensor(4, 2, 3, 1), 4)), Catch::Contains("a tensor of 3 elements reaches element 4 of a storage of 4"));
  CHECK_THROWS_WITH(load(file(tensor(4, 0, 3, 2), 4)), Catch::Contains("reaches element 4 of a storage of 4"));
  CHECK_THROWS_WITH(load(file(tensor(4, 0, 2, 1), 3)), Catch::Contains("holds 3 elements, its tensors declared 4"));
  // a storage declared but never stored
  CHECK_THROWS_WITH(load(header + tensor(4, 0, 2, 1) + "\x80\x02]."s),
                    Catch::Contains("storage 'k' is used by a tensor but the file holds no data for it"));
  // torch.save(model) of a whole nn.Module (its class as a 'module' persistent id)
  CHECK_THROWS_WITH(load(file("\x80\x02(X\x06\x00\x00\x00moduleNNNtQ."s, 0)),
                    Catch::Contains("a whole nn.Module was saved"));
}
