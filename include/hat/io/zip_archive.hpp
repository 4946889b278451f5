// SPDX-License-Identifier: MIT
// zip_archive: the entries of a zip file held in memory, through libzip (the container of torch.save
// files since PyTorch 1.6). libzip checks the archive's consistency and each entry's CRC; this adds
// the limits a hostile file needs (sizes checked before anything is allocated) and errors that
// name the file and the entry.
#pragma once

#include <zip.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <hat/config.hpp>

namespace hat {

class zip_archive {
 public:
  /// Opens the archive held by `bytes` (which must outlive this object); `name` stands for the
  /// file in errors. Throws config_error when it is not a consistent zip archive.
  zip_archive(std::string_view bytes, std::string name) : name_(std::move(name)) {
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &err);
    if (!src) fail_(&err);
    archive_.reset(zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err));
    if (!archive_) {
      zip_source_free(src);
      fail_(&err);
    }
    zip_error_fini(&err);
    const zip_int64_t n = zip_get_num_entries(archive_.get(), 0);
    for (zip_int64_t i = 0; i < n; ++i) {
      const char* entry = zip_get_name(archive_.get(), static_cast<zip_uint64_t>(i), ZIP_FL_ENC_RAW);
      names_.emplace_back(entry ? entry : "");
    }
    archive_bytes_ = bytes.size();
  }

  const std::string& name() const noexcept { return name_; }
  /// The entries' names, in the archive's order.
  const std::vector<std::string>& names() const noexcept { return names_; }
  bool contains(std::string_view entry) const { return index_(entry).has_value(); }

  /// The entry's uncompressed bytes. Its stated size is checked against what its compressed bytes
  /// can hold before anything is allocated, and what is read against the stated size and CRC.
  std::string read(std::string_view entry) const {
    const auto i = index_(entry);
    if (!i) throw config_error(name_ + ": the archive has no entry '" + std::string(entry) + "'");
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(archive_.get(), *i, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_SIZE))
      throw config_error(name_ + ": entry '" + std::string(entry) + "' has no readable size");
    // deflate cannot expand more than about 1032:1; a stored entry is as large as its bytes.
    const std::uint64_t most = st.comp_method == ZIP_CM_STORE ? st.comp_size : st.comp_size * 1032 + 1024;
    if (st.size > most || st.comp_size > archive_bytes_)
      throw config_error(name_ + ": entry '" + std::string(entry) + "' claims " + std::to_string(st.size) +
                         " bytes, more than the archive can hold");
    std::unique_ptr<zip_file_t, int (*)(zip_file_t*)> f(zip_fopen_index(archive_.get(), *i, 0), &zip_fclose);
    if (!f)
      throw config_error(name_ + ": entry '" + std::string(entry) + "': " + zip_strerror(archive_.get()));
    std::string out(static_cast<std::size_t>(st.size), '\0');
    std::uint64_t got = 0;
    while (got < st.size) {
      const zip_int64_t n = zip_fread(f.get(), out.data() + got, st.size - got);
      if (n < 0)
        throw config_error(name_ + ": entry '" + std::string(entry) + "': " + zip_file_strerror(f.get()) +
                           " (a damaged or truncated archive)");
      if (n == 0) break;
      got += static_cast<std::uint64_t>(n);
    }
    char extra = 0;
    if (got != st.size || zip_fread(f.get(), &extra, 1) != 0)
      throw config_error(name_ + ": entry '" + std::string(entry) + "' does not hold the " + std::to_string(st.size) +
                         " bytes it states");
    return out;
  }

 private:
  [[noreturn]] void fail_(zip_error_t* err) const {
    const std::string why = zip_error_strerror(err);
    zip_error_fini(err);
    throw config_error(name_ + ": not a readable zip archive (" + why + ")");
  }
  std::optional<zip_uint64_t> index_(std::string_view entry) const {
    for (std::size_t i = 0; i < names_.size(); ++i)
      if (names_[i] == entry) return i;
    return std::nullopt;
  }

  std::string name_;
  std::unique_ptr<zip_t, void (*)(zip_t*)> archive_{nullptr, &zip_discard};
  std::vector<std::string> names_;
  std::uint64_t archive_bytes_ = 0;
};

}  // namespace hat
