// SPDX-License-Identifier: MIT
// SubTransformer YAML: every released HAT config loads and round-trips; writing is atomic and generic.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <hat/yaml/subtransformer.hpp>
#include <hat/space/hat_spaces.hpp>
#include "shared_data.hpp"
#include "test_spaces.hpp"

namespace {
std::string without_comment_lines(const std::string& text) {
  std::istringstream in(text);
  std::string line, out;
  bool first = true;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(' ') != std::string::npos && line[line.find_first_not_of(' ')] == '#') continue;
    out += (first ? "" : "\n") + line;
    first = false;
  }
  return out + (text.ends_with('\n') ? "\n" : "");
}
}  // namespace

TEST_CASE("subtransformer yaml: all 44 released HAT configs load, validate and round-trip byte for byte",
          "[io][yaml][shared]") {
  int files = 0;
  for (const auto& task : hat::hat_tasks) {
    hat::with_task_space(task, [&]<class S>() {
      for (const auto& path : hat_test::released_configs(std::string(task.name))) {
        INFO(path.string());
        const auto a = hat::read_subtransformer_yaml<S>(path);
        CHECK(a.valid());
        const std::string text = hat::read_file(path);
        // HAT's writer layout, minus the comment line some released files carry.
        CHECK(hat::to_subtransformer_yaml(a) == without_comment_lines(text));
        CHECK(hat::parse_subtransformer_yaml<S>(hat::to_subtransformer_yaml(a), "again") == a);
        ++files;
      }
    });
  }
  CHECK(files == 44);
}

TEST_CASE("subtransformer yaml: write is atomic and read back equal; inactive genes take the maximum",
          "[io][yaml]") {
  using S = hat::hat_wmt_space;
  hat::rng g(17);
  const auto dir = std::filesystem::temp_directory_path() / ("hat_yaml_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  for (int i = 0; i < 50; ++i) {
    const auto a = hat::arch<S>::sample(g);
    const auto path = dir / (std::to_string(i) + ".yml");
    hat::write_subtransformer_yaml(a, path);
    const auto b = hat::read_subtransformer_yaml<S>(path);
    CHECK(b.same_network(a));
    for (std::size_t l = b.active_layers<"decoder_ffn_embed_dim">(); l < 6; ++l)
      CHECK(b.get<"decoder_ffn_embed_dim">(l) == 3072);
  }
  std::size_t leftovers = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) leftovers += e.path().string().find(".tmp.") != std::string::npos;
  CHECK(leftovers == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("subtransformer yaml: a failed write leaves the old file intact", "[io][yaml]") {
  using S = hat::hat_wmt_space;
  CHECK_THROWS_WITH(hat::write_subtransformer_yaml(hat::arch<S>{}, "/nonexistent-dir/x.yml"),
                    Catch::Contains("/nonexistent-dir/x.yml"));
}

TEST_CASE("subtransformer yaml: any space, with keys derived from its dimension names", "[io][yaml][generic]") {
  using C = hat::arch<hat_test::cnn_space>;
  C c;
  c.set<"depth">(3);
  c.set<"kernel">(1, 5);
  const std::string text = hat::to_subtransformer_yaml(c);
  CHECK(text ==
        "resolution-subtransformer: 224\n"
        "depth-subtransformer: 3\n"
        "kernel-all-subtransformer: [7, 5, 7]\n"
        "width-all-subtransformer: [64, 64, 64]\n"
        "stem-all-subtransformer: [1, 1]\n");
  CHECK(hat::parse_subtransformer_yaml<hat_test::cnn_space>(text, "cnn.yml") == c);
  // Block-style lists are YAML too.
  const auto d = hat::parse_subtransformer_yaml<hat_test::cnn_space>(
      "resolution-subtransformer: 160\ndepth-subtransformer: 2\nkernel-all-subtransformer:\n  - 3\n  - 5\n"
      "width-all-subtransformer: [16, 32]\nstem-all-subtransformer: [0, 1]\n",
      "block.yml");
  CHECK(d.get<"kernel">(1) == 5);
  CHECK(d.get<"stem">(0) == 0);
}
