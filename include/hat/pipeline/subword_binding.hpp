// SPDX-License-Identifier: MIT
// subword_binding: a checkpoint knows the subword model it was trained with (where it is, its size, a
// hash of its bytes), so another model, a stale one or a moved run folder is caught before it decodes garbage.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include <hat/config.hpp>
#include <hat/data/subword_model.hpp>
#include <hat/io/checksum.hpp>
#include <hat/io/read_file.hpp>
#include <hat/nn/checkpoint.hpp>

namespace hat {

/// Records `m` in a checkpoint's state: its path relative to `checkpoint_dir` (the run folder,
/// which can then move) or absolute when it lies elsewhere, its size and its hash.
inline void record_subwords(checkpoint_extras& x, const subword_model& m, const std::filesystem::path& checkpoint_dir) {
  namespace fs = std::filesystem;
  const fs::path model = fs::absolute(m.path()).lexically_normal(), dir = fs::absolute(checkpoint_dir).lexically_normal();
  const fs::path relative = model.lexically_relative(dir);
  const bool inside = !relative.empty() && *relative.begin() != "..";
  x.values.emplace_back("subwords", inside ? relative.string() : model.string());
  x.values.emplace_back("subwords_size", std::to_string(m.size()));
  x.values.emplace_back("subwords_fnv1a", file_hash(m.path()));
}

/// Throws config_error when `m` is not the subword model the state `x` of `checkpoint` records
/// (another size or other bytes). States written before the hash was recorded pass.
inline void check_subwords(const checkpoint_extras& x, const std::string& checkpoint, const subword_model& m) {
  if (const std::string* size = x.value("subwords_size"); size && *size != std::to_string(m.size()))
    throw config_error(m.path() + ": a subword model of " + std::to_string(m.size()) + " pieces; " + checkpoint +
                       " was trained with one of " + *size);
  if (const std::string* hash = x.value("subwords_fnv1a"); hash && *hash != file_hash(m.path()))
    throw config_error(m.path() + ": not the subword model " + checkpoint + " was trained with (its bytes differ" +
                       (x.value("subwords") ? ": that one is " + *x.value("subwords") : std::string()) + ")");
}

/// The recorded subword model's path: relative paths are read from the checkpoint's folder.
inline std::string recorded_subwords_path(const checkpoint_extras& x, const std::string& checkpoint) {
  const std::string* p = x.value("subwords");
  if (!p && x.value("dictionaries"))
    throw config_error(checkpoint + ": trained on fairseq's binarized data, so it reads text with fairseq's dictionaries: "
                       "hat translate --data <the folder with dict.<lang>.txt> [--bpe-codes <subword-nmt codes>], or hat test "
                       "and valid-loss on that binarized data");
  if (!p) throw config_error(checkpoint + ": no 'subwords' recorded; pass the subword model (--bpe-model)");
  const std::filesystem::path path(*p);
  const std::filesystem::path found = path.is_absolute() ? path : std::filesystem::path(checkpoint).parent_path() / path;
  if (!std::filesystem::exists(found))
    throw config_error(checkpoint + ": its subword model " + found.string() + " is missing" +
                       (path.is_absolute() ? std::string() : " (recorded beside the checkpoint as " + *p + ")") +
                       "; put it there, or pass it (--bpe-model)");
  return found.string();
}

/// The subword model a checkpoint is read with: `given` (a --bpe-model) or the recorded one,
/// checked against the recorded size and hash.
inline subword_model checkpoint_subwords(const checkpoint_extras& x, const std::string& checkpoint, const std::string& given) {
  subword_model m = subword_model::load(given.empty() ? recorded_subwords_path(x, checkpoint) : given);
  check_subwords(x, checkpoint, m);
  return m;
}

}  // namespace hat
