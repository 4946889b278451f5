// SPDX-License-Identifier: MIT
// translate_ids: length-sorted batches, decoded longest first on one set of buffers, give each
// batch's own beam search, in input order; progress counts the sentences up to the total.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/decode/translate.hpp>

#include "parity_fixture.hpp"

using namespace hat_test;

TEST_CASE("translate_ids: each length-sorted batch's beam search, in input order, whatever the batch order",
          "[train][translate]") {
  hat::cpu be;
  const fixture fx = load("parity_shared.txt");
  model_t model(be, fx.vocab);
  fill(be, model, fx);
  const auto& pc = fx.cases.at(3);
  // Sources of several lengths in no order (cut copies of the fixture's rows), and an empty one.
  std::vector<std::vector<int>> ids;
  for (std::size_t s = 0; s < pc.src.rows; ++s) {
    std::vector<int> row(pc.src.row(s).begin(), pc.src.row(s).end());
    row.erase(std::remove(row.begin(), row.end(), hat::special_tokens::pad), row.end());
    ids.push_back(row);
    for (std::size_t keep = 1; keep + 1 < row.size(); ++keep) {  // odd counts: padded batches
      std::vector<int> cut(row.begin(), row.begin() + static_cast<std::ptrdiff_t>(keep));
      cut.push_back(hat::special_tokens::eos);
      ids.push_back(cut);
    }
  }
  ids.insert(ids.begin() + 2, std::vector<int>{});
  REQUIRE(ids.size() >= 8);  // four batches of two at least

  hat::translate_options o;
  o.batch_sentences = 2;
  o.generation.beam = 3;
  o.generation.lenpen = 0.6;
  o.generation.max_len_b = 6;
  std::vector<std::pair<std::size_t, std::size_t>> progress;
  o.progress = [&](std::size_t done, std::size_t total) { progress.emplace_back(done, total); };
  const auto out = hat::translate_ids(be, model, pc.config, ids, o);

  // The reference: the same batches (shortest first, as sorted), each on fresh buffers.
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (!ids[i].empty()) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return ids[a].size() < ids[b].size(); });
  std::vector<std::vector<int>> expected(ids.size());
  hat::model_workspace<hat::cpu> ws;
  for (std::size_t b = 0; b < order.size(); b += o.batch_sentences) {
    std::vector<std::vector<int>> rows;
    for (std::size_t k = b; k < std::min(order.size(), b + o.batch_sentences); ++k) rows.push_back(ids[order[k]]);
    const auto found = hat::beam_search(be, model, pc.config, hat::token_batch::pad(rows, true), o.generation, ws);
    for (std::size_t k = 0; k < rows.size(); ++k) expected[order[b + k]] = found[k].front().tokens;
  }
  REQUIRE(out.size() == ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) CHECK(out[i] == expected[i]);
  CHECK(out[2].empty());

  // One call per batch, sentences done counting up to the total.
  REQUIRE(progress.size() == (order.size() + o.batch_sentences - 1) / o.batch_sentences);
  for (std::size_t k = 0; k < progress.size(); ++k) {
    CHECK(progress[k].second == order.size());
    if (k > 0) CHECK(progress[k].first > progress[k - 1].first);
  }
  CHECK(progress.back().first == order.size());
}
