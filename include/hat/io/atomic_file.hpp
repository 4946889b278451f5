// SPDX-License-Identifier: MIT
// write_file_atomic: replace a file's contents all at once (temp file, fsync, rename).
#pragma once

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include <fcntl.h>   // open
#include <signal.h>  // kill(pid, 0): whether a process exists
#include <unistd.h>  // write, fsync, close, getpid

#include <hat/config.hpp>

namespace hat {

/// Writes `contents` to a temporary file beside `path`, flushes it to the disk, then renames it
/// over `path`, so a reader (or a machine that lost power) sees the old file or the new one,
/// never half of one, and a failed write loses nothing. Throws config_error naming the path and
/// the system's reason.
inline void write_file_atomic(const std::filesystem::path& path, std::string_view contents) {
  static std::atomic<unsigned> counter{0};
  auto tmp = path;
  tmp += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  const auto fail = [&](const std::string& what, int err) {
    ::unlink(tmp.c_str());  // after the reason is taken: cleaning up must not change it
    throw config_error(path.string() + ": " + what + ": " + std::strerror(err));
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) throw config_error(path.string() + ": cannot create '" + tmp.string() + "': " + std::strerror(errno));
  for (std::size_t done = 0; done < contents.size();) {
    const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      ::close(fd);
      fail("write failed", err);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    fail("cannot flush the file to the disk", err);
  }
  if (::close(fd) != 0) fail("write failed", errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("cannot replace the file", errno);
  // The rename itself lasts once the folder is flushed too (best effort: not every file system can).
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
  // A writer killed mid-write (kill -9, power) leaves its temporary file: no reader opens one, and
  // the next write of the same file removes those of processes that no longer exist.
  const std::string prefix = path.filename().string() + ".tmp.";
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid > 0 && pid != ::getpid() && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) ::unlink(it->path().c_str());
  }
}

}  // namespace hat
