// SPDX-License-Identifier: MIT
// hat/io/pickle.hpp on hand-made pickles: what it builds, and how it refuses what torch.save
// never writes (the torch-specific allow-list is tested in tests/torch/).
#include <catch2/catch.hpp>

#include <string>

#include <hat/io/pickle.hpp>

using namespace std::string_literals;

namespace {

/// Unpickles `bytes` with no globals allowed; returns the document and its root.
std::pair<hat::pickle_document, std::uint32_t> read(const std::string& bytes) {
  hat::pickle_document doc{.name = "t.pkl", .nodes = {}};
  std::size_t pos = 0;
  const hat::pickle_hooks none{};
  const auto root = hat::unpickle(doc, bytes, pos, none);
  CHECK(pos == bytes.size());
  return {std::move(doc), root};
}

std::string error_of(const std::string& bytes) {
  try {
    (void)read(bytes);
  } catch (const hat::pickle_error& e) {
    return e.what();
  }
  return "(accepted)";
}

}  // namespace

TEST_CASE("pickle: the values torch.save's pickles hold", "[io][pickle]") {
  // {'a': [1, -2, 3.5, None, True], 'b': (b'xy', 'z'), 'n': 2**70, 'm': -129}
  const auto bytes = "\x80\x02}q\x00(X\x01\x00\x00\x00" "a]q\x01(K\x01J\xfe\xff\xff\xffG\x40\x0c\x00\x00\x00\x00\x00\x00N\x88"
                     "eX\x01\x00\x00\x00" "bC\x02xyX\x01\x00\x00\x00z\x86X\x01\x00\x00\x00n\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x40"
                     "X\x01\x00\x00\x00m\x8a\x02\x7f\xffu."s;
  const auto [doc, root] = read(bytes);
  const hat::pickle_ref r(doc, root, "obj");
  REQUIRE(r.is(hat::pickle_kind::dict));
  CHECK(r.size() == 4);
  CHECK(r.at("a").size() == 5);
  CHECK(r.at("a")[0].as_int() == 1);
  CHECK(r.at("a")[1].as_int() == -2);
  CHECK(r.at("a")[2].as_number() == 3.5);
  CHECK(r.at("a")[3].is(hat::pickle_kind::none));
  CHECK(r.at("a")[4].as_bool());
  CHECK(r.at("b")[0].as_string() == "xy");
  CHECK(r.at("b")[0].is(hat::pickle_kind::bytes));
  CHECK(r.at("b")[1].as_string() == "z");
  CHECK(r.at("n").is(hat::pickle_kind::big_integer));
  CHECK(r.at("m").as_int() == -129);
  CHECK_THROWS_WITH(r.at("a")[9], Catch::Contains("t.pkl: obj['a'] has 5 elements, element 9 was expected"));
  CHECK_THROWS_WITH(r.at("b").as_int(), Catch::Contains("t.pkl: obj['b'] is a tuple of 2 elements, expected an integer"));
  CHECK_THROWS_WITH(r.at("zz"), Catch::Contains("obj has no 'zz'"));
}

TEST_CASE("pickle: memo references are shared and a cycle costs nothing", "[io][pickle]") {
  // l = []; l.append(l); (l, l)
  const auto [doc, root] = read("\x80\x02]q\x00h\x00" "ah\x00\x86."s);
  const hat::pickle_ref r(doc, root, "t");
  CHECK(r[0].index() == r[1].index());
  CHECK(r[0][0].index() == r[0].index());  // the list holds itself: no ownership, no leak
}

TEST_CASE("pickle: what torch.save never writes is refused with its offset", "[io][pickle]") {
  CHECK_THAT(error_of("\x80\x02I1\n."s), Catch::Contains("t.pkl: pickle offset 2: opcode 'I' is not one torch.save writes"));
  CHECK_THAT(error_of("\x80\x02" "cos\nsystem\n."s), Catch::Contains("pickle offset 2: GLOBAL 'os.system' is not on the allow-list"));
  CHECK_THAT(error_of("\x80\x06N."s), Catch::Contains("pickle protocol 6"));
  CHECK_THAT(error_of("\x80\x02X\xff\x00\x00\x00" "ab."s), Catch::Contains("an operand of 255 bytes runs past the end"));
  CHECK_THAT(error_of("\x80\x02N"s), Catch::Contains("ends before its STOP"));
  CHECK_THAT(error_of("\x80\x02" "a."s), Catch::Contains("the stack is empty"));
  CHECK_THAT(error_of("\x80\x02NNe."s), Catch::Contains("needs a MARK"));
  CHECK_THAT(error_of("\x80\x02h\x05."s), Catch::Contains("memo key 5 was never stored"));
  CHECK_THAT(error_of("\x80\x02NN."s), Catch::Contains("STOP with 2 objects"));
  CHECK_THAT(error_of("\x80\x02K\x01K\x02K\x03s."s), Catch::Contains("SETITEM on an integer, not a dict"));
  CHECK_THAT(error_of("\x80\x02(NNN)R."s), Catch::Contains("REDUCE of None, not of an allowed global"));
  CHECK_THAT(error_of("\x80\x02NQ."s), Catch::Contains("a persistent id where none may appear"));
  CHECK_THAT(error_of("\x80\x02\x8b\xff\xff\xff\xff."s), Catch::Contains("LONG4 with a negative length"));
  CHECK_THAT(error_of("\x80\x02Nb."s), Catch::Contains("needs an object"));
}
