// SPDX-License-Identifier: MIT
// Checkpoints: super or dense model weights in a versioned, checksummed file, written atomically.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <sstream>
#include <string>
#include <vector>

#include <hat/backend/concepts.hpp>
#include <hat/config.hpp>
#include <hat/io/atomic_file.hpp>
#include <hat/io/checksum.hpp>
#include <hat/io/read_file.hpp>
#include <hat/nn/super_transformer.hpp>

namespace hat {

/// The checkpoint format:
///   "HATCKPT\n", u64 header length, a text header, the tensors as little-endian float32 in
///   the header's order, then the extra arrays (float32), u64 FNV-1a of everything before it.
/// The header (one `key values` per line) names the format version, the dtype, the model's
/// maxima (its space identity), the vocabulary, whether the weights are the SuperTransformer
/// or a dense SubTransformer (with that architecture), then every tensor's name and shape,
/// and optionally `state KEY VALUE` lines and `array NAME COUNT` lines (checkpoint_extras:
/// what a training run needs to resume).
inline constexpr std::uint32_t checkpoint_version = 1;

/// What a checkpoint may carry besides the model: named values (text without newlines) and
/// named float32 arrays, e.g. a trainer's position and its optimiser's moments.
struct checkpoint_extras {
  std::vector<std::pair<std::string, std::string>> values;
  std::vector<std::pair<std::string, std::vector<float>>> arrays;

  const std::string* value(const std::string& key) const {
    for (const auto& [k, v] : values)
      if (k == key) return &v;
    return nullptr;
  }
  const std::vector<float>* array(const std::string& name) const {
    for (const auto& [k, v] : arrays)
      if (k == name) return &v;
    return nullptr;
  }
};

/// A value `hat train` recorded in a checkpoint's extras (subwords, languages, splits) unless
/// `given` is set; a config_error naming the checkpoint and key when neither is.
template <class Extras>
std::string checkpoint_value(const Extras& x, const std::string& checkpoint, const char* key, const std::string& given) {
  if (!given.empty()) return given;
  const std::string* v = x.value(key);
  if (!v) throw config_error(checkpoint + ": no '" + key + "' recorded; pass it on the command line");
  return *v;
}

namespace detail {
inline std::string join_sizes(const std::vector<std::size_t>& v) {
  // append() rather than `literal + string`: GCC 12 reports a false -Wstringop-overflow on the latter at -O3.
  std::string s;
  for (std::size_t x : v) {
    if (!s.empty()) s.push_back(' ');
    s.append(std::to_string(x));
  }
  return s;
}
inline std::string arch_line(const transformer_config& c) {
  std::string s = std::to_string(c.encoder_embed_dim) + " " + std::to_string(c.decoder_embed_dim);
  for (const auto* v : {&c.encoder_ffn, &c.encoder_heads, &c.decoder_ffn, &c.decoder_self_heads, &c.decoder_ende_heads})
    s.append(" | ").append(join_sizes(*v));
  s.append(" |");
  for (int a : c.decoder_arbitrary) s.append(" ").append(std::to_string(a));
  return s;
}
template <class M>
std::string maxima_line() {
  std::string s =
      join_sizes({M::embed, M::encoder_ffn, M::decoder_ffn, M::qkv, M::encoder_layers, M::decoder_layers, M::positions});
  for (const auto& choices : {std::vector<std::size_t>(M::embed_choices.begin(), M::embed_choices.end()),
                              std::vector<std::size_t>(M::encoder_ffn_choices.begin(), M::encoder_ffn_choices.end()),
                              std::vector<std::size_t>(M::decoder_ffn_choices.begin(), M::decoder_ffn_choices.end())})
    s.append(" |").append(choices.empty() ? "" : " ").append(join_sizes(choices));
  return s;
}
inline std::string tensor_line(const parameter_info& p) {
  std::string s = p.name + " " + join_sizes(p.shape);
  if (!p.panels.empty()) s.append(" panels ").append(join_sizes(p.panels));
  return s;
}
}  // namespace detail

/// Writes `model` (its vocabulary, storage and every tensor) and `extras` to `path` atomically.
template <class M, backend_policy Backend, class T>
void save_checkpoint(Backend& be, const super_transformer<M, Backend, T>& model, const std::filesystem::path& path,
                     const checkpoint_extras& extras = {}) {
  static_assert(sizeof(T) == 4, "checkpoints store float32");
  std::ostringstream h;
  h << "format " << checkpoint_version << "\ndtype float32\nmaxima " << detail::maxima_line<M>() << "\nvocab "
    << model.vocabulary().source << " " << model.vocabulary().target << " "
    << sharing_name(model.vocabulary().sharing) << "\n";
  if (model.storage().dense)
    h << "storage dense\narch " << detail::arch_line(model.storage().arch) << "\n";
  else
    h << "storage super\n";
  h << "tensors " << model.parameters().size() << "\n";
  for (const auto& p : model.parameters()) h << "tensor " << detail::tensor_line(p) << "\n";
  for (const auto& [k, v] : extras.values) {
    HAT_ASSERT(!k.empty() && k.find_first_of(" \n") == std::string::npos && v.find('\n') == std::string::npos,
               "save_checkpoint: state keys are single words and values single lines");
    h << "state " << k << " " << v << "\n";
  }
  std::size_t extra_floats = 0;
  for (const auto& [k, v] : extras.arrays) {
    HAT_ASSERT(!k.empty() && k.find_first_of(" \n") == std::string::npos, "save_checkpoint: array names are single words");
    h << "array " << k << " " << v.size() << "\n";
    extra_floats += v.size();
  }
  const std::string header = h.str();
  std::string out("HATCKPT\n", 8);
  const std::uint64_t len = header.size();
  out.append(reinterpret_cast<const char*>(&len), 8);
  out += header;
  const std::size_t at = out.size();
  out.resize(at + (model.size() + extra_floats) * sizeof(T));
  be.download(model.data(), model.size(), reinterpret_cast<T*>(out.data() + at));
  std::size_t pos = at + model.size() * sizeof(T);
  for (const auto& a : extras.arrays) {
    if (!a.second.empty()) std::memcpy(out.data() + pos, a.second.data(), a.second.size() * sizeof(float));
    pos += a.second.size() * sizeof(float);
  }
  const std::uint64_t sum = fnv1a(out);
  out.append(reinterpret_cast<const char*>(&sum), 8);
  write_file_atomic(path, out);
}

/// The `state` values of a checkpoint's header, reading the header only (not the tensors): what
/// a caller needs before it knows the model type. Throws config_error naming the file when it
/// is not a checkpoint or the header is cut off.
inline checkpoint_extras checkpoint_state_of_header(const std::string& header);

/// Whether a file's first bytes are torch.save's: a zip (PK\3\4), or a pickle's PROTO opcode
/// (0x80) with protocol 2 to 5 (the legacy format).
inline bool looks_like_torch_save(std::string_view head) {
  if (head.starts_with("PK\x03\x04")) return true;
  return head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x80 && head[1] >= 2 && head[1] <= 5;
}

/// Whether the file at `path` is a torch.save file (looks_like_torch_save of its first bytes).
inline bool is_torch_save_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  char head[4] = {};
  return in.read(head, sizeof head) && looks_like_torch_save(std::string_view(head, sizeof head));
}

/// What a file that is not a hat checkpoint is, by its first bytes, for the error.
inline std::string not_a_checkpoint(std::string_view head) {
  if (looks_like_torch_save(head))
    return "not a hat checkpoint but a torch.save file (HAT's fairseq .pt?): hat import reads it, and hat test, valid-loss, "
           "search, translate, export and train --restore-file take it as it is";
  return "not a hat checkpoint (bad magic)";
}

inline checkpoint_extras read_checkpoint_state(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw config_error(path.string() + ": cannot open");
  char magic[8] = {};
  std::uint64_t len = 0;
  if (!in.read(magic, 8) || std::string_view(magic, 8) != "HATCKPT\n" || !in.read(reinterpret_cast<char*>(&len), 8))
    throw config_error(path.string() + ": " + not_a_checkpoint(std::string_view(magic, 8)));
  std::string header(len < (std::uint64_t{1} << 30) ? len : 0, '\0');
  if (header.size() != len || !in.read(header.data(), static_cast<std::streamsize>(len)))
    throw config_error(path.string() + ": truncated: the header is cut off");
  return checkpoint_state_of_header(header);
}

/// The `state` values of a checkpoint header's text.
inline checkpoint_extras checkpoint_state_of_header(const std::string& header) {
  checkpoint_extras x;
  std::istringstream lines(header);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("state ", 0) != 0) continue;
    const std::string rest = line.substr(6);
    const std::size_t sp = rest.find(' ');
    x.values.emplace_back(rest.substr(0, sp), sp == std::string::npos ? std::string() : rest.substr(sp + 1));
  }
  return x;
}

/// Reads a checkpoint written for the same maxima M. Throws config_error naming the file and
/// what is wrong: not a checkpoint, another version or dtype, other maxima, a header line it
/// cannot read (with its number), tensors that differ from the model's layout, truncation,
/// or a checksum mismatch. The state values and arrays go to `extras` when given.
template <class M, backend_policy Backend, class T = float>
super_transformer<M, Backend, T> checkpoint_from_bytes(Backend& be, std::string_view data, const std::string& name,
                                                       checkpoint_extras* extras = nullptr);

template <class M, backend_policy Backend, class T = float>
super_transformer<M, Backend, T> load_checkpoint(Backend& be, const std::filesystem::path& path,
                                                 checkpoint_extras* extras = nullptr) {
  return checkpoint_from_bytes<M, Backend, T>(be, read_file(path, model_file_limit), path.string(), extras);
}

/// load_checkpoint on a checkpoint's bytes; `name` stands for the file in errors.
template <class M, backend_policy Backend, class T>
super_transformer<M, Backend, T> checkpoint_from_bytes(Backend& be, std::string_view data, const std::string& name,
                                                       checkpoint_extras* extras) {
  const auto fail = [&](const std::string& what) { throw config_error(name + ": " + what); };
  if (data.size() < 16 || data.compare(0, 8, "HATCKPT\n") != 0) fail(not_a_checkpoint(data.substr(0, 8)));
  std::uint64_t len = 0;
  std::memcpy(&len, data.data() + 8, 8);
  if (len > data.size() - 16) fail("truncated: the header is cut off");
  std::istringstream header(std::string(data.substr(16, len)));
  vocabulary_sizes vocab;
  model_storage storage;
  std::vector<std::pair<std::string, std::string>> tensors;
  checkpoint_extras found;
  std::vector<std::size_t> array_sizes;
  std::size_t declared = 0, line_no = 0;
  bool have_format = false, have_vocab = false, have_storage = false;
  for (std::string line; std::getline(header, line);) {
    ++line_no;
    std::istringstream in(line);
    std::string key;
    in >> key;
    const auto bad = [&](const std::string& what) { fail("header line " + std::to_string(line_no) + " ('" + key + "'): " + what); };
    std::string rest;
    std::getline(in >> std::ws, rest);
    if (key == "format") {
      if (rest != std::to_string(checkpoint_version))
        bad("format version " + rest + ", this build reads " + std::to_string(checkpoint_version));
      have_format = true;
    } else if (key == "dtype") {
      if (rest != "float32") bad("dtype " + rest + ", this build reads float32");
    } else if (key == "maxima") {
      if (rest != detail::maxima_line<M>())
        bad("the checkpoint's model maxima are " + rest + ", this program's are " + detail::maxima_line<M>() +
            " (embed, encoder FFN, decoder FFN, qkv, encoder layers, decoder layers, positions | the embed, encoder "
            "FFN and decoder FFN choices)");
    } else if (key == "vocab") {
      std::istringstream v(rest);
      std::string sharing;
      if (!(v >> vocab.source >> vocab.target >> sharing)) bad("expected 'vocab SOURCE TARGET SHARING'");
      if (sharing == "all") vocab.sharing = embedding_sharing::all;
      else if (sharing == "decoder") vocab.sharing = embedding_sharing::decoder;
      else if (sharing == "none") vocab.sharing = embedding_sharing::none;
      else bad("unknown sharing '" + sharing + "'");
      have_vocab = true;
    } else if (key == "storage") {
      if (rest != "super" && rest != "dense") bad("storage must be super or dense");
      storage.dense = rest == "dense";
      have_storage = true;
    } else if (key == "arch") {
      std::vector<std::string> parts;
      std::istringstream ps(rest);
      for (std::string part; std::getline(ps, part, '|');) parts.push_back(part);
      if (parts.size() != 7) bad("expected 7 '|'-separated groups");
      const auto sizes = [](const std::string& s) {
        std::istringstream in2(s);
        std::vector<std::size_t> v;
        for (long long x; in2 >> x;) v.push_back(x > 0 ? static_cast<std::size_t>(x) : 0);
        return v;
      };
      const auto dims = sizes(parts[0]);
      if (dims.size() != 2) bad("expected the encoder and decoder widths first");
      auto& a = storage.arch;
      a.encoder_embed_dim = dims[0];
      a.decoder_embed_dim = dims[1];
      a.encoder_ffn = sizes(parts[1]);
      a.encoder_heads = sizes(parts[2]);
      a.decoder_ffn = sizes(parts[3]);
      a.decoder_self_heads = sizes(parts[4]);
      a.decoder_ende_heads = sizes(parts[5]);
      std::istringstream arb(parts[6]);
      for (int x; arb >> x;) a.decoder_arbitrary.push_back(x);
      try {
        a.template check<M>();
      } catch (const invalid_arch& e) {
        bad(e.what());
      }
    } else if (key == "tensors") {
      std::istringstream n(rest);
      if (!(n >> declared)) bad("expected a tensor count");
    } else if (key == "tensor") {
      if (rest.find(' ') == std::string::npos) bad("expected 'tensor NAME SHAPE [panels ...]'");
      tensors.emplace_back(rest.substr(0, rest.find(' ')), rest);
    } else if (key == "state") {
      const std::size_t sp = rest.find(' ');
      if (rest.empty()) bad("expected 'state KEY [VALUE]'");
      found.values.emplace_back(rest.substr(0, sp), sp == std::string::npos ? std::string() : rest.substr(sp + 1));
    } else if (key == "array") {
      std::istringstream a(rest);
      std::string array_name;
      std::size_t count = 0;
      if (!(a >> array_name >> count)) bad("expected 'array NAME COUNT'");
      if (count > data.size() / sizeof(float)) bad("array '" + array_name + "' is larger than the file");
      found.arrays.emplace_back(array_name, std::vector<float>());
      array_sizes.push_back(count);
    } else if (!key.empty()) {
      bad("unknown key");
    }
  }
  if (!have_format || !have_vocab || !have_storage) fail("the header lacks format, vocab or storage");
  if (storage.dense && storage.arch.encoder_layers() == 0) fail("a dense checkpoint needs its 'arch' line");
  if (tensors.size() != declared)
    fail("the header declares " + std::to_string(declared) + " tensors and lists " + std::to_string(tensors.size()));
  // Tables the file cannot hold are refused before anything is allocated.
  const std::size_t width = storage.dense ? std::max<std::size_t>(1, std::min(storage.arch.encoder_embed_dim, storage.arch.decoder_embed_dim))
                                          : M::embed;
  for (const std::size_t v : {vocab.source, vocab.target})
    if (v == 0 || v > data.size() / sizeof(T) / width)
      fail("vocab " + std::to_string(v) + ": an embedding table of that size is larger than the file");
  super_transformer<M, Backend, T> model = [&] {
    try {
      return super_transformer<M, Backend, T>(be, vocab, storage);
    } catch (const std::exception& e) {
      fail(e.what());
      throw;
    }
  }();
  const auto& info = model.parameters();
  if (tensors.size() != info.size())
    fail("holds " + std::to_string(tensors.size()) + " tensors, the model has " + std::to_string(info.size()));
  for (std::size_t i = 0; i < info.size(); ++i)
    if (tensors[i].second != detail::tensor_line(info[i]))
      fail("tensor " + std::to_string(i) + " is '" + tensors[i].second + "', the model expects '" +
           detail::tensor_line(info[i]) + "'");
  std::size_t extra_floats = 0;
  for (std::size_t n : array_sizes) extra_floats += n;
  const std::size_t at = 16 + len, bytes = (model.size() + extra_floats) * sizeof(T);
  if (data.size() != at + bytes + 8)
    fail("truncated or padded: expected " + std::to_string(at + bytes + 8) + " bytes, found " + std::to_string(data.size()));
  std::uint64_t stored = 0;
  std::memcpy(&stored, data.data() + at + bytes, 8);
  if (stored != fnv1a(data.substr(0, at + bytes)))
    fail("checksum mismatch (the file is corrupted)");
  std::vector<T> host(model.size());
  std::memcpy(host.data(), data.data() + at, model.size() * sizeof(T));
  // A weight that is not a number (written by something else, checksum and all) would decode garbage.
  for (std::size_t i = 0; i < host.size(); ++i)
    if (!std::isfinite(host[i])) fail("weight " + std::to_string(i) + " is not a finite number");
  be.upload(host.data(), host.size(), model.data());
  std::size_t pos = at + model.size() * sizeof(T);
  for (std::size_t i = 0; i < array_sizes.size(); ++i) {
    auto& a = found.arrays[i].second;
    a.resize(array_sizes[i]);
    if (!a.empty()) std::memcpy(a.data(), data.data() + pos, a.size() * sizeof(float));
    for (const float v : a)
      if (!std::isfinite(v)) fail("array '" + found.arrays[i].first + "' holds a value that is not a finite number");
    pos += a.size() * sizeof(float);
  }
  if (extras) *extras = std::move(found);
  return model;
}

}  // namespace hat
