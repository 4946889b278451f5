// SPDX-License-Identifier: MIT
// pickle: a restricted reader of Python pickles, the container of torch.save files. It runs no code:
// it knows only the opcodes torch.save emits (protocols 2-4), lets the caller allow each GLOBAL by
// name and decide what calling it means (hat/io/torch_file.hpp), and checks every length and offset.
// What it builds is a tree of nodes in one arena (memo references are node indices, so a hostile
// pickle that makes a cycle costs nothing and leaks nothing).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <hat/config.hpp>

namespace hat {

/// A pickle the restricted reader refuses: the message names the file, the byte offset and what
/// was found there.
struct pickle_error : config_error {
  using config_error::config_error;
};

enum class pickle_kind : std::uint8_t {
  none,
  boolean,
  integer,      // fits int64
  big_integer,  // text: the two's-complement little-endian bytes (torch's 80-bit magic number)
  real,
  string,  // text: UTF-8
  bytes,   // text: raw
  tuple,
  list,
  set,
  dict,      // items: key0, value0, key1, value1, ... in insertion order
  global,    // text: "module.name"
  object,    // text: the class or function ("argparse.Namespace"); items: arguments; state: BUILD's
  external,  // made by the caller's hooks: text is its tag, integer its id in the caller's tables
};

inline const char* pickle_kind_name(pickle_kind k) {
  switch (k) {
    case pickle_kind::none: return "None";
    case pickle_kind::boolean: return "a bool";
    case pickle_kind::integer:
    case pickle_kind::big_integer: return "an integer";
    case pickle_kind::real: return "a float";
    case pickle_kind::string: return "a string";
    case pickle_kind::bytes: return "bytes";
    case pickle_kind::tuple: return "a tuple";
    case pickle_kind::list: return "a list";
    case pickle_kind::set: return "a set";
    case pickle_kind::dict: return "a dict";
    case pickle_kind::global: return "a global";
    case pickle_kind::object: return "an object";
    case pickle_kind::external: return "an external object";
  }
  return "?";
}

struct pickle_node {
  static constexpr std::uint32_t no_state = std::numeric_limits<std::uint32_t>::max();
  pickle_node() = default;
  explicit pickle_node(pickle_kind k, std::int64_t i = 0, std::string t = {}) : kind(k), integer(i), text(std::move(t)) {}

  pickle_kind kind = pickle_kind::none;
  std::int64_t integer = 0;  // integer, boolean, external id
  double real = 0;
  std::string text;
  std::vector<std::uint32_t> items;
  std::uint32_t state = no_state;
  std::uint64_t offset = 0;  // byte offset of the opcode that made it
};

/// The nodes of one or more pickles; `name` stands for the file in errors.
struct pickle_document {
  std::string name;
  std::vector<pickle_node> nodes;

  std::uint32_t add(pickle_node n) {
    if (nodes.size() >= std::numeric_limits<std::uint32_t>::max() - 1)
      throw pickle_error(name + ": more pickle objects than this reader holds");
    nodes.push_back(std::move(n));
    return static_cast<std::uint32_t>(nodes.size() - 1);
  }
};

/// A node of a document with the path that led to it ("model['encoder.layers.0.fc1.weight']",
/// "args.encoder_embed_dim"), so an accessor's error says where the unexpected value sits.
class pickle_ref {
 public:
  pickle_ref(const pickle_document& doc, std::uint32_t index, std::string path)
      : doc_(&doc), index_(index), path_(std::move(path)) {}

  const pickle_node& node() const { return doc_->nodes[index_]; }
  std::uint32_t index() const noexcept { return index_; }
  pickle_kind kind() const { return node().kind; }
  bool is(pickle_kind k) const { return kind() == k; }
  const std::string& path() const noexcept { return path_; }
  const pickle_document& document() const noexcept { return *doc_; }

  /// "PATH: WHAT is <what was found>": the error every accessor throws.
  [[noreturn]] void fail(const std::string& expected) const {
    throw pickle_error(doc_->name + ": " + path_ + " is " + describe() + ", expected " + expected);
  }

  std::int64_t as_int() const {
    if (is(pickle_kind::integer) || is(pickle_kind::boolean)) return node().integer;
    fail("an integer");
  }
  double as_number() const {
    if (is(pickle_kind::real)) return node().real;
    if (is(pickle_kind::integer)) return static_cast<double>(node().integer);
    fail("a number");
  }
  bool as_bool() const {
    if (is(pickle_kind::boolean)) return node().integer != 0;
    fail("True or False");
  }
  /// A str, or bytes (Python 2 pickles store many strings as bytes).
  const std::string& as_string() const {
    if (is(pickle_kind::string) || is(pickle_kind::bytes)) return node().text;
    fail("a string");
  }

  /// Elements of a tuple, list or set (an object: the arguments it was made with); a dict's items.
  std::size_t size() const {
    if (is(pickle_kind::dict)) return node().items.size() / 2;
    if (sequence_()) return node().items.size();
    fail("a sequence");
  }
  pickle_ref operator[](std::size_t i) const {
    if (!sequence_()) fail("a sequence");
    if (i >= node().items.size())
      throw pickle_error(doc_->name + ": " + path_ + " has " + std::to_string(node().items.size()) +
                         " elements, element " + std::to_string(i) + " was expected");
    return {*doc_, node().items[i], path_ + "[" + std::to_string(i) + "]"};
  }

  /// (key, value) pairs of a dict, in insertion order.
  std::vector<std::pair<pickle_ref, pickle_ref>> entries() const {
    if (!is(pickle_kind::dict)) fail("a dict");
    std::vector<std::pair<pickle_ref, pickle_ref>> out;
    const auto& it = node().items;
    for (std::size_t i = 0; i + 1 < it.size(); i += 2) {
      pickle_ref key(*doc_, it[i], path_ + ".<key>");
      const std::string shown = key.is(pickle_kind::string) || key.is(pickle_kind::bytes) ? "'" + key.node().text + "'"
                                : key.is(pickle_kind::integer) ? std::to_string(key.node().integer)
                                                               : "?";
      out.emplace_back(key, pickle_ref(*doc_, it[i + 1], path_ + "[" + shown + "]"));
    }
    return out;
  }

  /// The value under string key `key` of a dict, or the attribute `key` of an object whose state
  /// is a dict (argparse.Namespace); nullopt when absent. The last of repeated keys wins, as in Python.
  std::optional<pickle_ref> find(std::string_view key) const {
    const pickle_node* d = &node();
    std::string sep = "['";
    std::string close = "']";
    if (d->kind == pickle_kind::object) {
      if (d->state == pickle_node::no_state) return std::nullopt;
      d = &doc_->nodes[d->state];
      sep = ".";
      close = "";
    }
    if (d->kind != pickle_kind::dict) fail("a dict or an object with attributes");
    std::optional<pickle_ref> found;
    for (std::size_t i = 0; i + 1 < d->items.size(); i += 2) {
      const auto& k = doc_->nodes[d->items[i]];
      if ((k.kind == pickle_kind::string || k.kind == pickle_kind::bytes) && k.text == key)
        found.emplace(*doc_, d->items[i + 1], path_ + sep + std::string(key) + close);
    }
    return found;
  }
  pickle_ref at(std::string_view key) const {
    if (auto r = find(key)) return *r;
    throw pickle_error(doc_->name + ": " + path_ + " has no '" + std::string(key) + "'");
  }

  /// A short description for errors: "a string 'abc'", "a dict of 3 items", "an object argparse.Namespace".
  std::string describe() const {
    const auto& n = node();
    switch (n.kind) {
      case pickle_kind::integer: return "the integer " + std::to_string(n.integer);
      case pickle_kind::boolean: return n.integer ? "True" : "False";
      case pickle_kind::real: return "the float " + std::to_string(n.real);
      case pickle_kind::string:
      case pickle_kind::bytes: {
        const std::string shown = n.text.size() > 40 ? n.text.substr(0, 40) + "..." : n.text;
        return std::string(pickle_kind_name(n.kind)) + " '" + shown + "'";
      }
      case pickle_kind::tuple:
      case pickle_kind::list:
      case pickle_kind::set: return std::string(pickle_kind_name(n.kind)) + " of " + std::to_string(n.items.size()) + " elements";
      case pickle_kind::dict: return "a dict of " + std::to_string(n.items.size() / 2) + " items";
      case pickle_kind::global:
      case pickle_kind::object:
      case pickle_kind::external: return std::string(pickle_kind_name(n.kind)) + " " + n.text;
      default: return pickle_kind_name(n.kind);
    }
  }

 private:
  bool sequence_() const {
    return is(pickle_kind::tuple) || is(pickle_kind::list) || is(pickle_kind::set) || is(pickle_kind::object);
  }

  const pickle_document* doc_;
  std::uint32_t index_;
  std::string path_;
};

/// What the caller decides: which globals exist, what calling one makes, what a persistent id
/// stands for. Each returns a node index of the document (add() makes new nodes) or throws.
struct pickle_hooks {
  /// True when GLOBAL `module`.`name` may appear at all.
  std::function<bool(std::string_view module, std::string_view name)> allow_global;
  /// REDUCE / NEWOBJ of the allowed global `callable` ("module.name") on the tuple `args`.
  std::function<std::uint32_t(pickle_document&, const std::string& callable, std::uint32_t args, std::uint64_t offset)> call;
  /// BINPERSID of `pid` (torch: the ('storage', ...) tuples); null: persistent ids are refused.
  std::function<std::uint32_t(pickle_document&, std::uint32_t pid, std::uint64_t offset)> persistent_load;
};

namespace detail {

class unpickler {
 public:
  unpickler(pickle_document& doc, std::string_view bytes, std::size_t pos, const pickle_hooks& hooks)
      : doc_(doc), in_(bytes), pos_(pos), hooks_(hooks) {}

  std::size_t position() const noexcept { return pos_; }

  std::uint32_t run() {
    for (;;) {
      if (pos_ >= in_.size()) throw error_(pos_, "the pickle ends before its STOP opcode (truncated file?)");
      op_at_ = pos_;
      const auto op = static_cast<unsigned char>(in_[pos_++]);
      switch (op) {
        case 0x80: {  // PROTO
          const auto v = u8_();
          if (v > 5) throw error_(op_at_, "pickle protocol " + std::to_string(v) + " is newer than any torch.save writes");
          break;
        }
        case 0x95: take_(8); break;  // FRAME: a length hint only
        case '.': {                  // STOP
          if (stack_.size() != 1 || !marks_.empty())
            throw error_(op_at_, "STOP with " + std::to_string(stack_.size()) + " objects on the stack (a malformed pickle)");
          return stack_.back();
        }
        case '(': marks_.push_back(stack_.size()); break;
        case '0': pop_(); break;
        case '1': pop_mark_(); break;
        case '2': push_(top_()); break;
        case 'N': push_node_(pickle_kind::none); break;
        case 0x88: push_bool_(true); break;
        case 0x89: push_bool_(false); break;
        case 'J': push_int_(static_cast<std::int32_t>(le_<std::uint32_t>(4))); break;
        case 'K': push_int_(u8_()); break;
        case 'M': push_int_(static_cast<std::int64_t>(le_<std::uint32_t>(2))); break;
        case 0x8a: long_(u8_()); break;
        case 0x8b: {
          const std::int64_t n = static_cast<std::int32_t>(le_<std::uint32_t>(4));
          if (n < 0) throw error_(op_at_, "LONG4 with a negative length");
          long_(static_cast<std::size_t>(n));
          break;
        }
        case 'G': {  // BINFLOAT: big-endian IEEE double
          const auto b = take_(8);
          std::uint64_t bits = 0;
          for (unsigned char c : b) bits = bits << 8 | c;
          pickle_node n(pickle_kind::real);
          std::memcpy(&n.real, &bits, 8);
          push_new_(std::move(n));
          break;
        }
        case 'X': text_(pickle_kind::string, le_<std::uint32_t>(4)); break;
        case 0x8c: text_(pickle_kind::string, u8_()); break;
        case 0x8d: text_(pickle_kind::string, le_<std::uint64_t>(8)); break;
        case 'T': {
          const std::int64_t n = static_cast<std::int32_t>(le_<std::uint32_t>(4));
          if (n < 0) throw error_(op_at_, "BINSTRING with a negative length");
          text_(pickle_kind::bytes, static_cast<std::uint64_t>(n));
          break;
        }
        case 'U': text_(pickle_kind::bytes, u8_()); break;
        case 'B': text_(pickle_kind::bytes, le_<std::uint32_t>(4)); break;
        case 'C': text_(pickle_kind::bytes, u8_()); break;
        case 0x8e: text_(pickle_kind::bytes, le_<std::uint64_t>(8)); break;
        case ')': push_node_(pickle_kind::tuple); break;
        case 't': push_sequence_(pickle_kind::tuple, pop_mark_()); break;
        case 0x85:
        case 0x86:
        case 0x87: {
          const std::size_t n = op - 0x84u;
          if (stack_.size() < n + floor_()) throw error_(op_at_, "TUPLE" + std::to_string(n) + " on a stack too short");
          std::vector<std::uint32_t> items(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
          stack_.resize(stack_.size() - n);
          push_sequence_(pickle_kind::tuple, std::move(items));
          break;
        }
        case ']': push_node_(pickle_kind::list); break;
        case 'l': push_sequence_(pickle_kind::list, pop_mark_()); break;
        case 0x8f: push_node_(pickle_kind::set); break;
        case 0x91: push_sequence_(pickle_kind::set, pop_mark_()); break;
        case 'a': {
          const auto v = pop_();
          append_(top_(), {v});
          break;
        }
        case 'e':
        case 0x90: {  // APPENDS, ADDITEMS
          auto items = pop_mark_();
          append_(top_(), items);
          break;
        }
        case '}': push_node_(pickle_kind::dict); break;
        case 'd': {
          auto items = pop_mark_();
          if (items.size() % 2) throw error_(op_at_, "DICT with an odd number of keys and values");
          const auto d = push_node_(pickle_kind::dict);
          set_items_(d, items);
          break;
        }
        case 's': {
          const auto v = pop_();
          const auto k = pop_();
          set_items_(top_(), {k, v});
          break;
        }
        case 'u': {
          auto items = pop_mark_();
          if (items.size() % 2) throw error_(op_at_, "SETITEMS with an odd number of keys and values");
          set_items_(top_(), items);
          break;
        }
        case 'q': memo_[u8_()] = top_(); break;
        case 'r': memo_[le_<std::uint32_t>(4)] = top_(); break;
        case 0x94: memo_[static_cast<std::uint32_t>(memo_.size())] = top_(); break;
        case 'h': get_(u8_()); break;
        case 'j': get_(le_<std::uint32_t>(4)); break;
        case 'c': {  // GLOBAL: "module\nname\n"
          auto module = line_();
          auto name = line_();
          global_(std::move(module), std::move(name));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          const auto name = pop_();
          const auto module = pop_();
          if (node_(module).kind != pickle_kind::string || node_(name).kind != pickle_kind::string)
            throw error_(op_at_, "STACK_GLOBAL on operands that are not strings");
          global_(node_(module).text, node_(name).text);
          break;
        }
        case 'R':
        case 0x81: {  // REDUCE (callable, args), NEWOBJ (cls, args)
          const auto args = pop_();
          const auto callable = pop_();
          const char* what = op == 'R' ? "REDUCE" : "NEWOBJ";
          if (node_(callable).kind != pickle_kind::global)
            throw error_(op_at_, std::string(what) + " of " + pickle_kind_name(node_(callable).kind) + ", not of an allowed global");
          if (node_(args).kind != pickle_kind::tuple) throw error_(op_at_, std::string(what) + " with arguments that are not a tuple");
          const std::string callee = node_(callable).text;  // copied: the hook may grow the arena
          if (!hooks_.call) throw error_(op_at_, std::string(what) + " where no call may appear");
          push_(hooks_.call(doc_, callee, args, op_at_));
          break;
        }
        case 'b': {  // BUILD: setstate on an object or a dict (a state dict's _metadata)
          const auto state = pop_();
          auto& target = node_(top_());
          if (target.kind != pickle_kind::object && target.kind != pickle_kind::dict)
            throw error_(op_at_, std::string("BUILD on ") + pickle_kind_name(target.kind) + " (only objects and dicts take a state)");
          target.state = state;
          break;
        }
        case 'Q': {  // BINPERSID
          const auto pid = pop_();
          if (!hooks_.persistent_load) throw error_(op_at_, "a persistent id where none may appear");
          push_(hooks_.persistent_load(doc_, pid, op_at_));
          break;
        }
        default: throw error_(op_at_, "opcode " + opcode_name_(op) + " is not one torch.save writes");
      }
    }
  }

 private:
  pickle_error error_(std::size_t at, const std::string& what) const {
    return pickle_error(doc_.name + ": pickle offset " + std::to_string(at) + ": " + what);
  }
  static std::string opcode_name_(unsigned char op) {
    char b[8];
    if (op >= 0x20 && op < 0x7f) return std::string("'") + static_cast<char>(op) + "'";
    std::snprintf(b, sizeof b, "0x%02x", op);
    return b;
  }

  std::string_view take_(std::uint64_t n) {
    if (n > in_.size() - pos_) throw error_(op_at_, "an operand of " + std::to_string(n) + " bytes runs past the end of the data");
    const auto s = in_.substr(pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return s;
  }
  std::uint32_t u8_() { return static_cast<unsigned char>(take_(1)[0]); }
  template <class U>
  U le_(std::size_t n) {
    const auto b = take_(n);
    U v = 0;
    for (std::size_t i = n; i-- > 0;) v = static_cast<U>(v << 8 | static_cast<unsigned char>(b[i]));
    return v;
  }
  std::string line_() {
    const auto end = in_.find('\n', pos_);
    if (end == std::string_view::npos || end - pos_ > 256) throw error_(op_at_, "GLOBAL without a short newline-terminated name");
    std::string s(in_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }

  pickle_node& node_(std::uint32_t i) { return doc_.nodes[i]; }
  std::size_t floor_() const { return marks_.empty() ? 0 : marks_.back(); }
  void push_(std::uint32_t i) { stack_.push_back(i); }
  std::uint32_t push_new_(pickle_node n) {
    n.offset = op_at_;
    const auto i = doc_.add(std::move(n));
    push_(i);
    return i;
  }
  std::uint32_t push_node_(pickle_kind k) { return push_new_(pickle_node(k)); }
  void push_bool_(bool b) { push_new_(pickle_node(pickle_kind::boolean, b)); }
  void push_int_(std::int64_t v) { push_new_(pickle_node(pickle_kind::integer, v)); }
  void push_sequence_(pickle_kind k, std::vector<std::uint32_t> items) {
    pickle_node n(k);
    n.items = std::move(items);
    push_new_(std::move(n));
  }
  std::uint32_t top_() {
    if (stack_.size() <= floor_()) throw error_(op_at_, "an opcode needs an object and the stack is empty");
    return stack_.back();
  }
  std::uint32_t pop_() {
    const auto v = top_();
    stack_.pop_back();
    return v;
  }
  std::vector<std::uint32_t> pop_mark_() {
    if (marks_.empty()) throw error_(op_at_, "an opcode needs a MARK and there is none");
    const auto m = marks_.back();
    marks_.pop_back();
    std::vector<std::uint32_t> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  void get_(std::uint32_t key) {
    const auto it = memo_.find(key);
    if (it == memo_.end()) throw error_(op_at_, "memo key " + std::to_string(key) + " was never stored");
    push_(it->second);
  }
  void long_(std::size_t n) {
    const auto b = take_(n);
    if (n <= 8) {
      std::uint64_t v = 0;
      for (std::size_t i = n; i-- > 0;) v = v << 8 | static_cast<unsigned char>(b[i]);
      if (n > 0 && n < 8 && (static_cast<unsigned char>(b[n - 1]) & 0x80)) v |= ~std::uint64_t{0} << (8 * n);  // sign-extend
      push_int_(static_cast<std::int64_t>(v));
    } else {
      pickle_node node(pickle_kind::big_integer);
      node.text = std::string(b);
      push_new_(std::move(node));
    }
  }
  void text_(pickle_kind k, std::uint64_t n) {
    pickle_node node(k);
    node.text = std::string(take_(n));
    push_new_(std::move(node));
  }
  void append_(std::uint32_t target, const std::vector<std::uint32_t>& items) {
    auto& t = node_(target);
    if (t.kind != pickle_kind::list && t.kind != pickle_kind::set)
      throw error_(op_at_, std::string("APPEND to ") + pickle_kind_name(t.kind) + ", not a list");
    t.items.insert(t.items.end(), items.begin(), items.end());
  }
  void set_items_(std::uint32_t target, const std::vector<std::uint32_t>& kv) {
    auto& t = node_(target);
    if (t.kind != pickle_kind::dict) throw error_(op_at_, std::string("SETITEM on ") + pickle_kind_name(t.kind) + ", not a dict");
    t.items.insert(t.items.end(), kv.begin(), kv.end());
  }
  void global_(std::string module, std::string name) {
    if (!hooks_.allow_global || !hooks_.allow_global(module, name))
      throw error_(op_at_, "GLOBAL '" + module + "." + name +
                               "' is not on the allow-list (only tensors, storages, OrderedDict, argparse.Namespace and "
                               "numbers may appear); nothing was run");
    pickle_node n(pickle_kind::global);
    n.text = module + "." + name;
    push_new_(std::move(n));
  }

  pickle_document& doc_;
  std::string_view in_;
  std::size_t pos_;
  std::size_t op_at_ = 0;
  const pickle_hooks& hooks_;
  std::vector<std::uint32_t> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint32_t, std::uint32_t> memo_;
};

}  // namespace detail

/// Reads one pickle of `bytes` starting at `pos` (offsets in errors count from the start of
/// `bytes`) into `doc`; returns its root node and sets `pos` past its STOP opcode, so the pickles
/// of a legacy torch.save file are read one after the other.
inline std::uint32_t unpickle(pickle_document& doc, std::string_view bytes, std::size_t& pos, const pickle_hooks& hooks) {
  detail::unpickler u(doc, bytes, pos, hooks);
  const auto root = u.run();
  pos = u.position();
  return root;
}

}  // namespace hat
