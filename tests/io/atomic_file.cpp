// SPDX-License-Identifier: MIT
// write_file_atomic: replaces contents whole, leaves no temporaries.
#include <catch2/catch.hpp>

#include <filesystem>

#include <unistd.h>

#include <hat/io/atomic_file.hpp>
#include <hat/io/read_file.hpp>

TEST_CASE("atomic file: replaces the contents and leaves no temporary behind", "[io][atomic]") {
  const auto dir = std::filesystem::temp_directory_path() / ("hat_atomic_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto f = dir / "out.txt";
  hat::write_file_atomic(f, "first version, longer than the second\n");
  hat::write_file_atomic(f, "second\n");
  CHECK(hat::read_file(f) == "second\n");
  CHECK(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()) == 1);
  // A writer killed mid-write leaves its temporary file; the next write removes those of
  // processes that are gone (pid 999999999 cannot exist) and keeps a live one's.
  hat::write_file_atomic(dir / "out.txt.tmp.999999999.0", "partial");
  hat::write_file_atomic(dir / ("out.txt.tmp." + std::to_string(::getppid()) + ".3"), "in progress");
  hat::write_file_atomic(f, "third\n");
  CHECK_FALSE(std::filesystem::exists(dir / "out.txt.tmp.999999999.0"));
  CHECK(std::filesystem::exists(dir / ("out.txt.tmp." + std::to_string(::getppid()) + ".3")));
  std::filesystem::remove(dir / ("out.txt.tmp." + std::to_string(::getppid()) + ".3"));
  hat::write_file_atomic(f, "second\n");
  // Writing over a directory fails with the path named and the directory untouched.
  std::filesystem::create_directories(dir / "sub");
  // The system's reason, not the clean-up's ("Success" was printed once).
  CHECK_THROWS_WITH(hat::write_file_atomic(dir / "sub", "x"),
                    Catch::Contains("sub: cannot replace the file: Is a directory") && !Catch::Contains("Success"));
  CHECK_THROWS_WITH(hat::write_file_atomic(dir / "no" / "such.txt", "x"),
                    Catch::Contains("such.txt: cannot create") && Catch::Contains("No such file or directory"));
  CHECK(std::filesystem::is_directory(dir / "sub"));
  CHECK(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()) == 2);
  std::filesystem::remove_all(dir);
  CHECK_THROWS_WITH(hat::read_file(dir / "gone.yml"), Catch::Contains("gone.yml") &&
                                                                   Catch::Contains("cannot open"));
  // A size limit, named, checked before reading a regular file and while reading a device.
  CHECK_THROWS_WITH(hat::read_file("/dev/zero"), Catch::Contains("/dev/zero: larger than the 64 MiB this reader accepts"));
  std::filesystem::create_directories(dir);
  hat::write_file_atomic(dir / "big.yml", std::string(3u << 20, '#'));
  CHECK_THROWS_WITH(hat::read_file(dir / "big.yml", 2u << 20), Catch::Contains("big.yml: larger than the 2 MiB"));
  CHECK(hat::read_file(dir / "big.yml").size() == (3u << 20));
  std::filesystem::remove_all(dir);
}
