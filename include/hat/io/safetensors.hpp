// SPDX-License-Identifier: MIT
// safetensors: the weight format PyTorch users load without pickles (an 8-byte little-endian header
// length, a JSON header naming each tensor's dtype, shape and byte range, a `__metadata__` map of
// strings, then the tensors' little-endian bytes, row-major and back to back). hat writes float32
// tensors by fairseq's names, so `safetensors.torch.load_file` + `load_state_dict` take them; it
// reads any float dtype back. The JSON is nlohmann's (hat/io/json.hpp).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <hat/config.hpp>
#include <hat/io/atomic_file.hpp>
#include <hat/io/json.hpp>
#include <hat/io/read_file.hpp>
#include <hat/io/float16.hpp>

namespace hat {

/// A float32 tensor to write: its name, shape and row-major values.
struct safetensor {
  std::string name;
  std::vector<std::int64_t> shape;
  std::vector<float> values;
};

/// The bytes of a safetensors file holding `tensors` (in this order) and `metadata`. Names must
/// be unique; every shape must hold its values.
inline std::string safetensors_bytes(const std::vector<safetensor>& tensors, const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) {
    json m = json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    header["__metadata__"] = std::move(m);
  }
  std::uint64_t at = 0;
  for (const auto& t : tensors) {
    HAT_ASSERT(!header.contains(t.name) && t.name != "__metadata__", ("safetensors: the name '" + t.name + "' is used twice").c_str());
    std::uint64_t n = 1;
    for (auto d : t.shape) n *= static_cast<std::uint64_t>(d);
    HAT_ASSERT(n == t.values.size(), ("safetensors: '" + t.name + "': its shape does not hold its values").c_str());
    header[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {at, at + 4 * n}}};
    at += 4 * n;
  }
  std::string text = json_line(header);
  text.pop_back();                                  // json_line's newline
  text.append((8 - text.size() % 8) % 8, ' ');      // the data starts 8-byte aligned, as safetensors writes
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<char>(static_cast<std::uint64_t>(text.size()) >> (8 * i));
  out += text;
  out.reserve(out.size() + at);
  for (const auto& t : tensors) {
    const auto* p = reinterpret_cast<const char*>(t.values.data());  // little-endian hosts only (x86-64, ARM64)
    out.append(p, t.values.size() * sizeof(float));
  }
  return out;
}

inline void write_safetensors(const std::filesystem::path& path, const std::vector<safetensor>& tensors,
                              const std::map<std::string, std::string>& metadata) {
  write_file_atomic(path, safetensors_bytes(tensors, metadata));
}

/// A safetensors file read back: its metadata and tensors (any float dtype, as float32), checked
/// as the safetensors library checks them: a header that is a JSON object, known dtypes, byte
/// ranges that match their shapes, lie in the data and cover it without gaps or overlaps.
struct safetensors_file {
  std::map<std::string, std::string> metadata;
  std::vector<safetensor> tensors;  // in byte order

  const safetensor* find(std::string_view name) const {
    for (const auto& t : tensors)
      if (t.name == name) return &t;
    return nullptr;
  }

  static safetensors_file from_bytes(std::string_view bytes, const std::string& name) {
    const auto fail = [&](const std::string& what) { return config_error(name + ": " + what); };
    if (bytes.size() < 8) throw fail("not a safetensors file (shorter than its 8-byte header length)");
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = n << 8 | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
    if (n > bytes.size() - 8 || n > (std::uint64_t{100} << 20))
      throw fail("a header of " + std::to_string(n) + " bytes, more than the file holds (not a safetensors file?)");
    const json header = parse_json(std::string(bytes.substr(8, static_cast<std::size_t>(n))), name);
    if (!header.is_object()) throw fail("the header is not a JSON object");
    const std::string_view data = bytes.substr(8 + static_cast<std::size_t>(n));
    safetensors_file f;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
    for (const auto& [key, v] : header.items()) {
      if (key == "__metadata__") {
        if (!v.is_object()) throw fail("__metadata__ is not a map of strings");
        for (const auto& [mk, mv] : v.items()) {
          if (!mv.is_string()) throw fail("__metadata__['" + mk + "'] is not a string");
          f.metadata[mk] = mv.get<std::string>();
        }
        continue;
      }
      const auto where = "tensor '" + key + "'";
      if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets") || !v["dtype"].is_string() ||
          !v["shape"].is_array() || !v["data_offsets"].is_array() || v["data_offsets"].size() != 2)
        throw fail(where + ": expected {\"dtype\", \"shape\", \"data_offsets\": [begin, end]}");
      const std::string dtype = v["dtype"].get<std::string>();
      const std::size_t elem = dtype == "F64" ? 8 : dtype == "F32" ? 4 : dtype == "F16" || dtype == "BF16" ? 2 : 0;
      if (!elem) throw fail(where + ": dtype " + dtype + " (this reader takes F64, F32, F16 and BF16 weights)");
      safetensor t{key, {}, {}};
      std::uint64_t count = 1;
      for (const auto& d : v["shape"]) {
        if (!d.is_number_unsigned() || d.get<std::uint64_t>() > (std::uint64_t{1} << 40)) throw fail(where + ": a shape entry that is not a size");
        t.shape.push_back(d.get<std::int64_t>());
        if (__builtin_mul_overflow(count, d.get<std::uint64_t>(), &count)) throw fail(where + ": a shape too large to count");
      }
      for (const auto& o : v["data_offsets"])
        if (!o.is_number_unsigned()) throw fail(where + ": data_offsets are not byte positions");
      const auto begin = v["data_offsets"][0].get<std::uint64_t>(), end = v["data_offsets"][1].get<std::uint64_t>();
      if (end < begin || end > data.size()) throw fail(where + ": bytes [" + std::to_string(begin) + ", " + std::to_string(end) + ") outside the data");
      if ((end - begin) / elem != count || (end - begin) % elem)
        throw fail(where + ": " + std::to_string(end - begin) + " bytes for " + std::to_string(count) + " " + dtype + " elements");
      t.values.resize(static_cast<std::size_t>(count));
      for (std::size_t i = 0; i < t.values.size(); ++i) {
        const char* p = data.data() + begin + i * elem;
        if (elem == 4) {
          std::memcpy(&t.values[i], p, 4);
        } else if (elem == 8) {
          double d;
          std::memcpy(&d, p, 8);
          t.values[i] = static_cast<float>(d);
        } else {
          std::uint16_t h;
          std::memcpy(&h, p, 2);
          t.values[i] = dtype == "F16" ? half_to_float(h) : bfloat16_to_float(h);
        }
      }
      ranges.emplace_back(begin, end);
      f.tensors.push_back(std::move(t));
    }
    // the byte ranges must tile the data exactly, as the safetensors library requires
    std::vector<std::size_t> order(ranges.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return ranges[a] < ranges[b]; });
    std::uint64_t at = 0;
    for (std::size_t i : order) {
      if (ranges[i].first != at) throw fail("tensor '" + f.tensors[i].name + "' does not start where the previous one ends (a gap or an overlap)");
      at = ranges[i].second;
    }
    if (at != data.size()) throw fail(std::to_string(data.size() - at) + " bytes after the last tensor");
    std::vector<safetensor> sorted;
    for (std::size_t i : order) sorted.push_back(std::move(f.tensors[i]));
    f.tensors = std::move(sorted);
    return f;
  }

  static safetensors_file read(const std::filesystem::path& path) {
    return from_bytes(read_file(path, model_file_limit), path.string());
  }
};

}  // namespace hat
