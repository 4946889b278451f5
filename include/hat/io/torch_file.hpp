// SPDX-License-Identifier: MIT
// torch_file: what torch.save wrote, read in C++ without Python or PyTorch: the zip format
// (PyTorch >= 1.6: `<dir>/data.pkl` and one raw entry per storage, `<dir>/data/<key>`) and the
// legacy format (PyTorch < 1.6 and `_use_new_zipfile_serialization=False`: a magic-number pickle,
// the protocol version, a system-info pickle, the object's pickle, the list of storage keys, then
// each storage as an 8-byte element count and its raw bytes). The object is read by hat/io/pickle.hpp
// with an allow-list of globals; tensors are checked against their storages before any is used.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <hat/config.hpp>
#include <hat/io/float16.hpp>
#include <hat/io/pickle.hpp>
#include <hat/io/read_file.hpp>
#include <hat/io/zip_archive.hpp>

namespace hat {

enum class torch_dtype : std::uint8_t { float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8, boolean };

struct torch_dtype_info {
  const char* storage;  // the legacy storage class torch.save names ("FloatStorage")
  const char* name;     // PyTorch's dtype name
  std::size_t size;
  torch_dtype dtype;
};
inline constexpr std::array<torch_dtype_info, 10> torch_dtypes{{
    {"FloatStorage", "float32", 4, torch_dtype::float32},
    {"DoubleStorage", "float64", 8, torch_dtype::float64},
    {"HalfStorage", "float16", 2, torch_dtype::float16},
    {"BFloat16Storage", "bfloat16", 2, torch_dtype::bfloat16},
    {"LongStorage", "int64", 8, torch_dtype::int64},
    {"IntStorage", "int32", 4, torch_dtype::int32},
    {"ShortStorage", "int16", 2, torch_dtype::int16},
    {"CharStorage", "int8", 1, torch_dtype::int8},
    {"ByteStorage", "uint8", 1, torch_dtype::uint8},
    {"BoolStorage", "bool", 1, torch_dtype::boolean},
}};
inline const torch_dtype_info& torch_dtype_of(torch_dtype d) { return torch_dtypes[static_cast<std::size_t>(d)]; }

/// A torch.save file: the object it holds as a pickle tree whose tensors are external nodes, and
/// the storages' bytes. Errors name the file and what is wrong (config_error / pickle_error).
class torch_file {
 public:
  struct storage {
    torch_dtype dtype;
    std::string key, location;
    std::uint64_t numel = 0;
    std::uint64_t root = 0, root_offset = 0;  // a legacy storage view: elements of storage `root`
    std::uint64_t byte_offset = 0;            // where the bytes start in data_[source]
    std::size_t source = 0;
    bool loaded = false;
  };
  struct tensor {
    std::uint32_t storage = 0;
    std::uint64_t offset = 0;  // in elements of the storage
    std::vector<std::int64_t> shape, stride;
    std::uint64_t numel = 1;
  };

  /// Reads `path` (both formats; the file's first bytes tell which).
  static torch_file read(const std::filesystem::path& path) { return from_bytes(read_file(path, model_file_limit), path.string()); }

  /// The same on a file's bytes; `name` stands for the file in errors.
  static torch_file from_bytes(std::string bytes, const std::string& name) {
    torch_file f;
    f.file_ = name;
    f.file_bytes_ = bytes.size();
    f.doc_.name = name;
    if (bytes.size() >= 4 && bytes.compare(0, 4, "PK\x03\x04") == 0) {
      f.read_zip_(std::move(bytes));
    } else {
      f.data_.push_back(std::move(bytes));
      f.read_legacy_();
    }
    return f;
  }

  const std::string& name() const noexcept { return file_; }
  bool legacy() const noexcept { return legacy_; }
  /// The object torch.save was given (fairseq: a dict with model, args, ...; a predictor: a state
  /// dict). Errors write paths as Python on `obj = torch.load(file)`: "obj['args'].arch".
  pickle_ref root() const { return {doc_, root_, "obj"}; }

  bool is_tensor(const pickle_ref& r) const { return r.is(pickle_kind::external) && r.node().text == "tensor"; }
  const tensor& tensor_of(const pickle_ref& r) const {
    if (!is_tensor(r)) r.fail("a tensor");
    return tensors_[static_cast<std::size_t>(r.node().integer)];
  }
  torch_dtype dtype(const pickle_ref& r) const { return storages_[tensor_of(r).storage].dtype; }
  const std::vector<std::int64_t>& shape(const pickle_ref& r) const { return tensor_of(r).shape; }

  /// "[400, 10] float32": for messages.
  std::string describe(const pickle_ref& r) const {
    const auto& t = tensor_of(r);
    std::string s = "[";
    for (std::size_t i = 0; i < t.shape.size(); ++i) s += (i ? ", " : "") + std::to_string(t.shape[i]);
    return s + "] " + torch_dtype_of(storages_[t.storage].dtype).name;
  }

  /// The tensor's elements in row-major order as float (any dtype; strides and storage offset
  /// honoured). `expected` (when non-empty) is the shape it must have: otherwise an error names
  /// the tensor's path and both shapes.
  std::vector<float> to_float(const pickle_ref& r, const std::vector<std::int64_t>& expected = {}) const {
    return gather_<float>(r, expected);
  }
  std::vector<std::int64_t> to_int64(const pickle_ref& r, const std::vector<std::int64_t>& expected = {}) const {
    const auto d = dtype(r);
    if (d == torch_dtype::float32 || d == torch_dtype::float64 || d == torch_dtype::float16 || d == torch_dtype::bfloat16)
      throw pickle_error(name() + ": " + r.path() + " is a " + torch_dtype_of(d).name + " tensor, integers were expected");
    return gather_<std::int64_t>(r, expected);
  }

 private:
  torch_file() = default;

  [[noreturn]] void fail_(const std::string& what) const { throw pickle_error(name() + ": " + what); }

  // --- the allow-list: what each permitted global means -------------------------------------------
  static bool allowed_(std::string_view module, std::string_view fn) {
    if (module == "torch")
      return std::any_of(torch_dtypes.begin(), torch_dtypes.end(), [&](const auto& d) { return fn == d.storage; });
    if (module == "torch._utils") return fn == "_rebuild_tensor_v2" || fn == "_rebuild_tensor" || fn == "_rebuild_parameter";
    if (module == "collections") return fn == "OrderedDict";
    if (module == "argparse") return fn == "Namespace";
    if (module == "builtins" || module == "__builtin__") return fn == "set" || fn == "frozenset";
    if (module == "_codecs") return fn == "encode";
    if (module == "numpy" || module == "numpy.core.multiarray" || module == "numpy._core.multiarray")
      return (module == "numpy" && fn == "dtype") || (module != "numpy" && fn == "scalar");
    return false;
  }

  std::uint32_t call_(pickle_document& doc, const std::string& fn, std::uint32_t args_index, std::uint64_t at) {
    const pickle_ref args(doc, args_index, "the arguments of " + fn + " at pickle offset " + std::to_string(at));
    const auto node = [&](pickle_node n) {
      n.offset = at;
      return doc.add(std::move(n));
    };
    if (fn == "torch._utils._rebuild_tensor_v2" || fn == "torch._utils._rebuild_tensor") {
      if (args.size() < 4) args.fail("(storage, offset, size, stride, ...)");
      return node(pickle_node(pickle_kind::external, make_tensor_(args), "tensor"));
    }
    if (fn == "torch._utils._rebuild_parameter") {  // (data, requires_grad, backward_hooks): the data
      if (args.size() < 1 || !is_tensor(args[0])) args.fail("(a tensor, requires_grad, hooks)");
      return args[0].index();
    }
    if (fn == "collections.OrderedDict") {
      pickle_node d(pickle_kind::dict);
      if (args.size() == 1) {  // OrderedDict([(k, v), ...])
        const auto pairs = args[0];
        for (std::size_t i = 0; i < pairs.size(); ++i) {
          const auto kv = pairs[i];
          if (!kv.is(pickle_kind::tuple) || kv.size() != 2) kv.fail("a (key, value) pair");
          d.items.push_back(kv[0].index());
          d.items.push_back(kv[1].index());
        }
      } else if (args.size() != 0) {
        args.fail("() or a list of pairs");
      }
      return node(std::move(d));
    }
    if (fn == "builtins.set" || fn == "builtins.frozenset" || fn == "__builtin__.set" || fn == "__builtin__.frozenset") {
      pickle_node s(pickle_kind::set);
      if (args.size() == 1)
        for (std::size_t i = 0; i < args[0].size(); ++i) s.items.push_back(args[0][i].index());
      return node(std::move(s));
    }
    if (fn == "argparse.Namespace" || fn == "numpy.dtype") {
      pickle_node o(pickle_kind::object);
      o.text = fn;
      for (std::size_t i = 0; i < args.size(); ++i) o.items.push_back(args[i].index());
      return node(std::move(o));
    }
    if (fn == "_codecs.encode") {  // protocol 2's bytes: encode(latin-1 text, 'latin1')
      if (args.size() != 2 || args[1].as_string() != "latin1") args.fail("(text, 'latin1')");
      return node(pickle_node(pickle_kind::bytes, 0, latin1_(args[0].as_string(), args.path())));
    }
    // numpy.core.multiarray.scalar(dtype, bytes): a numpy number (fairseq's extra_state keeps some)
    if (args.size() != 2 || !args[0].is(pickle_kind::object) || args[0].node().text != "numpy.dtype") args.fail("(numpy.dtype, bytes)");
    const auto code = args[0][0].as_string();
    const auto& raw = args[1].as_string();
    const auto width = code.size() == 2 ? static_cast<std::size_t>(code[1] - '0') : 0;
    if (width != raw.size() || (code[0] != 'f' && code[0] != 'i' && code[0] != 'u' && code[0] != 'b'))
      args.fail("a numpy float, integer or bool scalar");
    std::uint64_t bits = 0;
    for (std::size_t i = width; i-- > 0;) bits = bits << 8 | static_cast<unsigned char>(raw[i]);
    if (code[0] == 'f') {
      double v = 0;
      if (width == 8) v = std::bit_cast<double>(bits);
      else if (width == 4) v = std::bit_cast<float>(static_cast<std::uint32_t>(bits));
      else if (width == 2) v = half_to_float(static_cast<std::uint16_t>(bits));
      else args.fail("a numpy float of 2, 4 or 8 bytes");
      pickle_node real(pickle_kind::real);
      real.real = v;
      return node(std::move(real));
    }
    if (code[0] == 'i' && width < 8 && (bits >> (8 * width - 1) & 1)) bits |= ~std::uint64_t{0} << (8 * width);
    return node(pickle_node(code[0] == 'b' ? pickle_kind::boolean : pickle_kind::integer, static_cast<std::int64_t>(bits)));
  }

  static std::string latin1_(const std::string& utf8, const std::string& where) {
    std::string out;
    for (std::size_t i = 0; i < utf8.size(); ++i) {
      const auto c = static_cast<unsigned char>(utf8[i]);
      if (c < 0x80) {
        out += static_cast<char>(c);
      } else if ((c == 0xc2 || c == 0xc3) && i + 1 < utf8.size()) {
        out += static_cast<char>(((c & 0x03) << 6) | (static_cast<unsigned char>(utf8[++i]) & 0x3f));
      } else {
        throw pickle_error(where + ": latin-1 text with a character above U+00FF");
      }
    }
    return out;
  }

  std::uint32_t persistent_(pickle_document& doc, std::uint32_t pid_index, std::uint64_t at) {
    const pickle_ref pid(doc, pid_index, "the persistent id at pickle offset " + std::to_string(at));
    if (!pid.is(pickle_kind::tuple) || pid.size() < 1) pid.fail("a ('storage', ...) tuple");
    if (pid[0].as_string() == "module")
      fail_("pickle offset " + std::to_string(at) +
            ": a whole nn.Module was saved (torch.save(model)); save and read its state_dict() instead");
    if (pid[0].as_string() != "storage" || pid.size() < 5) pid.fail("a ('storage', type, key, location, size) tuple");
    const auto type = pid[1];
    if (!type.is(pickle_kind::global) || type.node().text.rfind("torch.", 0) != 0) type.fail("a torch storage type");
    const auto cls = type.node().text.substr(6);
    const auto* info = std::find_if(torch_dtypes.begin(), torch_dtypes.end(), [&](const auto& d) { return cls == d.storage; });
    if (info == torch_dtypes.end()) type.fail("a torch storage type");
    storage s{.dtype = info->dtype, .key = pid[2].as_string(), .location = pid[3].as_string()};
    const auto numel = pid[4].as_int();
    if (numel < 0) pid[4].fail("a storage size >= 0");
    s.numel = static_cast<std::uint64_t>(numel);
    std::uint64_t view_offset = 0, view_size = 0;
    bool view = false;
    if (legacy_ && pid.size() >= 6 && !pid[5].is(pickle_kind::none)) {  // (view_key, offset, size)
      const auto meta = pid[5];
      if (!meta.is(pickle_kind::tuple) || meta.size() != 3) meta.fail("(view key, offset, size)");
      const auto off = meta[1].as_int(), size = meta[2].as_int();
      if (off < 0 || size < 0 || static_cast<std::uint64_t>(off) > s.numel || static_cast<std::uint64_t>(size) > s.numel - static_cast<std::uint64_t>(off))
        meta.fail("a view inside its storage");
      view = true;
      view_offset = static_cast<std::uint64_t>(off);
      view_size = static_cast<std::uint64_t>(size);
    }
    auto it = by_key_.find(s.key);
    if (it == by_key_.end()) {
      storages_.push_back(s);
      storages_.back().root = storages_.size() - 1;
      it = by_key_.emplace(s.key, storages_.size() - 1).first;
    } else if (storages_[it->second].dtype != s.dtype || storages_[it->second].numel != s.numel) {
      fail_("pickle offset " + std::to_string(at) + ": storage '" + s.key + "' is declared twice with different types or sizes");
    }
    std::size_t index = it->second;
    if (view) {
      storage v = storages_[index];
      v.root = index;
      v.root_offset = view_offset;
      v.numel = view_size;
      storages_.push_back(v);
      index = storages_.size() - 1;
    }
    pickle_node n(pickle_kind::external, static_cast<std::int64_t>(index), "storage");
    n.offset = at;
    return doc.add(std::move(n));
  }

  std::int64_t make_tensor_(const pickle_ref& args) {
    const auto st = args[0];
    if (!st.is(pickle_kind::external) || st.node().text != "storage") st.fail("a storage");
    tensor t;
    t.storage = static_cast<std::uint32_t>(st.node().integer);
    const auto offset = args[1].as_int();
    const auto size = args[2], stride = args[3];
    if (!size.is(pickle_kind::tuple) || !stride.is(pickle_kind::tuple) || size.size() != stride.size() || size.size() > 16)
      args.fail("a size and a stride tuple of the same length (at most 16)");
    if (offset < 0) args[1].fail("a storage offset >= 0");
    t.offset = static_cast<std::uint64_t>(offset);
    std::uint64_t last = t.offset;  // the largest element index the tensor touches
    bool empty = false;
    for (std::size_t i = 0; i < size.size(); ++i) {
      const auto n = size[i].as_int(), s = stride[i].as_int();
      if (n < 0 || s < 0) size.fail("sizes and strides >= 0");
      t.shape.push_back(n);
      t.stride.push_back(s);
      empty = empty || n == 0;
      std::uint64_t span = 0;
      if (n > 0 && (__builtin_mul_overflow(static_cast<std::uint64_t>(n - 1), static_cast<std::uint64_t>(s), &span) ||
                    __builtin_add_overflow(last, span, &last)))
        size.fail("a tensor inside its storage");
      if (__builtin_mul_overflow(t.numel, static_cast<std::uint64_t>(n), &t.numel)) size.fail("a tensor of countable size");
    }
    if (!empty && last >= storages_[t.storage].numel)
      throw pickle_error(name() + ": " + args.path() + ": a tensor of " + std::to_string(t.numel) + " elements reaches element " +
                         std::to_string(last) + " of a storage of " + std::to_string(storages_[t.storage].numel));
    // An expanded tensor (a stride of 0) may hold more elements than its storage, but a hostile file
    // must not make a reader allocate without bound: at most 64 elements per byte of the file.
    if (t.numel > storages_[t.storage].numel && t.numel / 64 > file_bytes_)
      size.fail("a tensor of at most 64 elements per byte of its file");
    tensors_.push_back(std::move(t));
    return static_cast<std::int64_t>(tensors_.size() - 1);
  }

  pickle_hooks hooks_() {
    return {.allow_global = &torch_file::allowed_,
            .call = [this](pickle_document& d, const std::string& fn, std::uint32_t a, std::uint64_t at) { return call_(d, fn, a, at); },
            .persistent_load = [this](pickle_document& d, std::uint32_t pid, std::uint64_t at) { return persistent_(d, pid, at); }};
  }
  static pickle_hooks data_only_() {
    return {.allow_global = [](std::string_view, std::string_view) { return false; }, .call = nullptr, .persistent_load = nullptr};
  }

  void read_legacy_() {
    legacy_ = true;
    const std::string_view in = data_[0];
    if (in.empty() || in[0] != '\x80')
      fail_("not a torch.save file (it starts with neither a zip header nor a pickle's PROTO opcode)");
    std::size_t pos = 0;
    const auto plain = data_only_();
    const auto magic = pickle_ref(doc_, unpickle(doc_, in, pos, plain), "the first pickle");
    static constexpr unsigned char expected[] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
    if (!magic.is(pickle_kind::big_integer) || magic.node().text != std::string(reinterpret_cast<const char*>(expected), sizeof expected))
      fail_("not a torch.save file (no zip header and no legacy magic number)");
    const auto version = pickle_ref(doc_, unpickle(doc_, in, pos, plain), "the protocol version");
    if (!version.is(pickle_kind::integer) || version.node().integer != 1001)
      fail_("legacy torch.save protocol " + version.describe() + ", this reader knows 1001");
    const auto info = pickle_ref(doc_, unpickle(doc_, in, pos, plain), "the system info");
    if (const auto le = info.find("little_endian"); !le || !le->as_bool())
      fail_("written on a big-endian machine; only little-endian files are read");
    const auto hooks = hooks_();
    root_ = unpickle(doc_, in, pos, hooks);
    const auto keys = pickle_ref(doc_, unpickle(doc_, in, pos, plain), "the list of storage keys");
    if (!keys.is(pickle_kind::list)) keys.fail("a list");
    for (std::size_t k = 0; k < keys.size(); ++k) {
      const auto& key = keys[k].as_string();
      const auto it = by_key_.find(key);
      if (it == by_key_.end()) fail_("storage '" + key + "' has data but no tensor declared it");
      auto& s = storages_[it->second];
      if (s.loaded) fail_("storage '" + key + "' is listed twice");
      const auto elem = torch_dtype_of(s.dtype).size;
      if (in.size() - pos < 8) fail_("the file ends before storage '" + key + "' (truncated?)");
      std::uint64_t count = 0;
      for (std::size_t i = 8; i-- > 0;) count = count << 8 | static_cast<unsigned char>(in[pos + i]);
      pos += 8;
      if (count != s.numel)
        fail_("storage '" + key + "' holds " + std::to_string(count) + " elements, its tensors declared " + std::to_string(s.numel));
      if (s.numel > (in.size() - pos) / elem)
        fail_("storage '" + key + "' of " + std::to_string(s.numel) + " " + torch_dtype_of(s.dtype).name +
              " elements runs past the end of the file (truncated?)");
      s.byte_offset = pos;
      s.source = 0;
      s.loaded = true;
      pos += static_cast<std::size_t>(s.numel * elem);
    }
    if (pos != in.size()) fail_(std::to_string(in.size() - pos) + " unexpected bytes after the last storage");
    finish_();
  }

  void read_zip_(std::string bytes) {
    const zip_archive zip(bytes, name());
    std::string prefix;
    for (const auto& e : zip.names()) {
      const auto slash = e.find('/');
      if (slash != std::string::npos && e.compare(slash, std::string::npos, "/data.pkl") == 0) {
        if (!prefix.empty()) fail_("the archive holds more than one data.pkl");
        prefix = e.substr(0, slash + 1);
      }
    }
    if (prefix.empty()) fail_("a zip archive without <dir>/data.pkl: not a torch.save file");
    if (zip.contains(prefix + "byteorder") && zip.read(prefix + "byteorder") != "little")
      fail_("written on a big-endian machine; only little-endian files are read");
    const std::string pkl = zip.read(prefix + "data.pkl");
    doc_.name = name() + " (" + prefix + "data.pkl)";
    std::size_t pos = 0;
    const auto hooks = hooks_();
    root_ = unpickle(doc_, pkl, pos, hooks);
    if (pos != pkl.size()) fail_(std::to_string(pkl.size() - pos) + " unexpected bytes after the pickle");
    for (auto& s : storages_) {
      if (s.root != static_cast<std::uint64_t>(&s - storages_.data())) continue;
      const auto entry = prefix + "data/" + s.key;
      if (!zip.contains(entry)) fail_("storage '" + s.key + "' has no entry " + entry);
      data_.push_back(zip.read(entry));
      const auto elem = torch_dtype_of(s.dtype).size;
      if (data_.back().size() / elem != s.numel || data_.back().size() % elem != 0)
        fail_("entry " + entry + " holds " + std::to_string(data_.back().size()) + " bytes, its tensors declared " +
              std::to_string(s.numel) + " " + torch_dtype_of(s.dtype).name + " elements");
      s.source = data_.size() - 1;
      s.byte_offset = 0;
      s.loaded = true;
    }
    finish_();
  }

  void finish_() {
    for (auto& s : storages_) {
      const auto& root = storages_[s.root];
      if (!root.loaded) fail_("storage '" + s.key + "' is used by a tensor but the file holds no data for it");
      s.source = root.source;
      s.byte_offset = root.byte_offset + s.root_offset * torch_dtype_of(s.dtype).size;
      s.loaded = true;
    }
  }

  template <class T>
  std::vector<T> gather_(const pickle_ref& r, const std::vector<std::int64_t>& expected) const {
    const auto& t = tensor_of(r);
    if (!expected.empty() && expected != t.shape) {
      std::string want = "[";
      for (std::size_t i = 0; i < expected.size(); ++i) want += (i ? ", " : "") + std::to_string(expected[i]);
      throw pickle_error(name() + ": " + r.path() + " is a tensor of shape " + describe(r) + ", expected " + want + "]");
    }
    const auto& s = storages_[t.storage];
    const char* base = data_[s.source].data() + s.byte_offset;
    const auto elem = torch_dtype_of(s.dtype).size;
    std::vector<T> out(static_cast<std::size_t>(t.numel));
    std::vector<std::int64_t> idx(t.shape.size(), 0);
    for (std::size_t n = 0; n < out.size(); ++n) {
      std::uint64_t e = t.offset;
      for (std::size_t d = 0; d < idx.size(); ++d) e += static_cast<std::uint64_t>(idx[d] * t.stride[d]);
      out[n] = element_<T>(base + e * elem, s.dtype);
      for (std::size_t d = idx.size(); d-- > 0;) {  // row-major increment
        if (++idx[d] < t.shape[d]) break;
        idx[d] = 0;
      }
    }
    return out;
  }

  template <class T>
  static T element_(const char* p, torch_dtype d) {
    const auto get = [&]<class U>(U) {
      U v;
      std::memcpy(&v, p, sizeof v);
      return v;
    };
    switch (d) {
      case torch_dtype::float32: return static_cast<T>(get(float{}));
      case torch_dtype::float64: return static_cast<T>(get(double{}));
      case torch_dtype::float16: return static_cast<T>(half_to_float(get(std::uint16_t{})));
      case torch_dtype::bfloat16: return static_cast<T>(bfloat16_to_float(get(std::uint16_t{})));
      case torch_dtype::int64: return static_cast<T>(get(std::int64_t{}));
      case torch_dtype::int32: return static_cast<T>(get(std::int32_t{}));
      case torch_dtype::int16: return static_cast<T>(get(std::int16_t{}));
      case torch_dtype::int8: return static_cast<T>(get(std::int8_t{}));
      case torch_dtype::uint8: return static_cast<T>(get(std::uint8_t{}));
      case torch_dtype::boolean: return static_cast<T>(get(std::uint8_t{}) != 0);
    }
    return T{};
  }

  std::string file_;
  std::uint64_t file_bytes_ = 0;
  pickle_document doc_;  // its name: the file, or the file and its data.pkl entry
  std::uint32_t root_ = 0;
  bool legacy_ = false;
  std::vector<std::string> data_;  // legacy: the file; zip: one entry per root storage
  std::vector<storage> storages_;
  std::map<std::string, std::size_t> by_key_;
  std::vector<tensor> tensors_;
};

}  // namespace hat
