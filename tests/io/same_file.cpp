// SPDX-License-Identifier: MIT
// same_file / refuse_to_overwrite: an output that is an input is refused, by identity rather than by spelling.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include <unistd.h>

#include <hat/io/atomic_file.hpp>
#include <hat/io/same_file.hpp>

TEST_CASE("same file: other spellings, symbolic and hard links are the same file", "[io][same_file]") {
  namespace fs = std::filesystem;
  const auto dir = fs::temp_directory_path() / ("hat_same_" + std::to_string(::getpid()));
  fs::create_directories(dir / "sub");
  const auto in = dir / "in.csv";
  hat::write_file_atomic(in, "x\n");
  fs::create_symlink(in, dir / "link.csv");
  fs::create_hard_link(in, dir / "hard.csv");
  hat::write_file_atomic(dir / "other.csv", "x\n");  // same bytes, another file

  CHECK(hat::same_file(in, dir / "sub" / ".." / "in.csv"));
  CHECK(hat::same_file(in, dir / "link.csv"));
  CHECK(hat::same_file(in, dir / "hard.csv"));
  CHECK_FALSE(hat::same_file(in, dir / "other.csv"));
  CHECK_FALSE(hat::same_file(in, dir / "absent.csv"));
  CHECK_FALSE(hat::same_file(in, ""));

  CHECK_THROWS_WITH(hat::refuse_to_overwrite(dir / "link.csv", "--out", {dir / "x.yml", in}),
                    Catch::Contains("--out") && Catch::Contains("link.csv is the input") && Catch::Contains("in.csv"));
  CHECK_NOTHROW(hat::refuse_to_overwrite(dir / "new.pred", "--out", {in}));
  CHECK_NOTHROW(hat::refuse_to_overwrite(dir / "other.csv", "--out", {in}));
  fs::remove_all(dir);
}
