// SPDX-License-Identifier: MIT
// hat::cpu: the backend policy on host memory, with OpenBLAS (through xtensor-blas) for GEMMs.
#pragma once

#include <algorithm>  // std::copy
#include <array>
#include <cstdint>
#include <cstring>  // std::memcpy
#include <cmath>
#include <limits>
#include <cstddef>
#include <memory>  // std::shared_ptr
#include <span>
#include <string>
#include <type_traits>
#include <utility>  // std::pair
#include <vector>

#include <hat/backend/concepts.hpp>
#include <hat/backend/cpu_blas.hpp>
#include <hat/backend/cpu_bf16_products.hpp>
#include <hat/backend/cpu_onednn.hpp>
#include <hat/backend/cpu_bf16_weights.hpp>
#include <hat/backend/cpu_dropout.hpp>
#include <hat/backend/cpu_few_rows.hpp>
#include <hat/backend/cpu_few_rows_bf16.hpp>
#include <hat/backend/cpu_few_rows_int8.hpp>
#include <hat/backend/cpu_int8_weights.hpp>
#include <hat/backend/cpu_vector_math.hpp>
#include <hat/backend/cpu_worker_pool.hpp>
#include <hat/backend/dropout_mask.hpp>
#include <hat/backend/flush_subnormals.hpp>
#include <hat/backend/huge_page_allocator.hpp>
#include <hat/backend/precision.hpp>
#include <hat/config.hpp>

namespace hat {

/// The CPU backend: host memory, OpenBLAS GEMMs on strided views (leading dimension = the
/// super width, so an elastic slice is never copied), a weight-streaming kernel for products
/// with few rows (decoding), plain loops elsewhere. The thread count (set_threads) is
/// process-wide: OpenBLAS's and the few-row kernel's.
struct cpu {
  template <class T>
  using buffer = std::vector<T, detail::huge_page_allocator<T>>;

  /// Products x W^T with at most detail::few_rows_max rows of x use the few-row kernel (on
  /// AVX2 or AVX-512 CPUs); false sends every product to OpenBLAS (benchmarks, cross-checks).
  bool few_rows = true;

  /// When one is set, products x W^T whose weights W lie in the model it was made from read its
  /// bf16 or int8 copy instead (set_decode_precision), with fp32 x (int8: 13-bit integers within
  /// the product) and fp32 accumulation; every other kernel stays fp32.
  std::shared_ptr<const detail::bf16_weights> bf16_copy;
  std::shared_ptr<const detail::int8_weights> int8_copy;

  /// Training at bf16 (set_training_precision): every float product rounds both operands to
  /// bf16 and accumulates in fp32 (cpu_bf16_products.hpp), as PyTorch's bf16 autocast does for
  /// matmuls; the outputs, the weights (fp32 masters), the gradients, the optimizer and every
  /// other kernel stay fp32. Doubles (the finite-difference checks) are never rounded.
  bool bf16_products = false;

  /// bf16 products run on oneDNN's matmul where it is loaded and the CPU multiplies bf16
  /// (cpu_onednn.hpp: bf16_products_engine() says which ran); false keeps them on the rounding
  /// path everywhere (tests, benchmarks). Either way: bf16 operands, fp32 sums.
  bool onednn = true;

  /// What runs this backend's bf16 products: oneDNN's version, kernel and ISA (products under
  /// detail::onednn_min_work multiply-adds still take the rounding path), or the rounding path
  /// and why (onednn false, no library, a CPU without bf16 arithmetic, HAT_ONEDNN=off).
  std::string bf16_products_engine() const {
    return onednn ? detail::bf16_products_engine() : "operands rounded to bf16, OpenBLAS sgemm (cpu::onednn = false)";
  }

  /// The products' precision in training: fp32 (the default) or bf16; int8 is a config_error.
  void set_training_precision(precision p) {
    if (p == precision::int8) throw config_error("precision int8: training runs at fp32 or bf16");
    bf16_products = p == precision::bf16;
  }
  precision training_precision() const noexcept { return bf16_products ? precision::bf16 : precision::fp32; }

  /// Inference on `p` weights of `model` (anything whose data() and size() span its fp32
  /// parameters, e.g. a super_transformer; int8 also reads its parameters() list for the
  /// matrices and their panels): bf16 and int8 convert them once, here, and every copy of this
  /// backend shares the conversion; fp32 drops it. The copy is found by the address of the
  /// model's parameters: use the backend only while the model lives, and set it again after the
  /// weights change (training never sets it). A conversion that throws (a non-finite int8
  /// weight) leaves the backend as it was.
  template <class Model>
  void set_decode_precision(precision p, const Model& model, int8_scales scales = int8_scales::panel) {
    std::shared_ptr<const detail::bf16_weights> bf16;
    std::shared_ptr<const detail::int8_weights> int8;
    if (p == precision::bf16) bf16 = std::make_shared<const detail::bf16_weights>(model.data(), model.size());
    if (p == precision::int8) {
      if constexpr (requires { model.parameters(); }) {
        std::vector<detail::int8_matrix> matrices;
        for (const auto& info : model.parameters())
          if (info.shape.size() == 2)
            matrices.push_back({info.name, info.offset, info.shape[0],
                                info.panels.empty() ? std::vector<std::size_t>{info.shape[1]} : info.panels});
        int8 = std::make_shared<const detail::int8_weights>(model.data(), model.size(), std::move(matrices), scales);
      } else {
        throw config_error("precision int8: the model does not list its weight matrices (parameters())");
      }
    }
    bf16_copy = std::move(bf16);
    int8_copy = std::move(int8);
  }
  precision decode_precision() const noexcept {
    return bf16_copy ? precision::bf16 : int8_copy ? precision::int8 : precision::fp32;
  }
  /// int8's scales (panel when the backend is not at int8).
  int8_scales decode_int8_scales() const noexcept { return int8_copy ? int8_copy->scales() : int8_scales::panel; }
  /// True when this backend runs `model` at p (for int8: with `scales`) already: a copy made
  /// from another model's weights does not count.
  template <class Model>
  bool decodes_at(precision p, const Model& model, int8_scales scales = int8_scales::panel) const noexcept {
    if (decode_precision() != p) return false;
    if (p == precision::bf16) return bf16_copy->begin() == model.data();
    if (p == precision::int8) return int8_copy->begin() == model.data() && int8_copy->scales() == scales;
    return true;
  }

  // --- GEMM ---
  /// While the result lives, this thread's bf16 products that read x (as either operand) share
  /// one bf16 conversion of it (cpu_bf16_convert.hpp); x must not change meanwhile. Nothing
  /// without bf16 products. Use it through hat::pin_operand (concepts.hpp).
  template <class T>
  [[nodiscard]] auto pin_operand(matrix_ref<const T> x) const noexcept {
    if constexpr (std::is_same_v<T, float>)
      return detail::bf16_operand_pin(bf16_products && onednn ? x : matrix_ref<const float>{});
    else
      return detail::no_pin{};
  }

  template <class T>
  void gemm(matrix_cref<T> a, op ta, matrix_cref<T> b, op tb, matrix_ref<T> c, T alpha, T beta) const {
    const auto [m, n, k] = gemm_dims(a, ta, b, tb, c);
    if (m == 0 || n == 0) return;
    const detail::flush_subnormals ftz;
    if constexpr (std::is_same_v<T, float>)
      if (ta == op::none && tb == op::transpose && k > 0) {
        // bf16 or int8 weights for every x W^T on the model's weights, whatever the rows (a batch of
        // beams too), so that what --precision says is what ran: the few-row kernels, which read
        // each block of W once for all rows, or past lowp_many_rows rows tiles of W widened for
        // sgemm (cpu_lowp_many_rows.hpp).
        if (bf16_copy)
          if (const bf16* w = bf16_copy->find(b.data, n, k, b.ld)) {
            const detail::few_rows_panel<bf16> whole{w, b.ld, k};
            detail::lowp_product(m, n, alpha, a.data, a.ld, &whole, 1, beta, c.data, c.ld);
            return;
          }
        if (int8_copy)
          if (const detail::int8_view w = int8_copy->find(b.data, n, k, b.ld); w.q) {
            const detail::int8_panel whole{w.q, b.ld, k, w.scale};
            detail::lowp_product(m, n, alpha, a.data, a.ld, &whole, 1, beta, c.data, c.ld);
            return;
          }
      }
    if constexpr (std::is_same_v<T, float>) {
      if (bf16_products) {
        if (onednn && k > 0 && m * n * k >= detail::onednn_min_work &&
            detail::onednn_bf16_gemm(a, ta == op::transpose, b, tb == op::transpose, c, alpha, beta, threads()))
          return;
        thread_local std::vector<float> rounded_a, rounded_b;  // per thread: ranks run as threads in tests
        a = detail::bf16_rounded(a, rounded_a);
        b = detail::bf16_rounded(b, rounded_b);
      }
      if (ta == op::none && tb == op::transpose && k > 0 && few_rows && m <= detail::few_rows_max &&
          detail::few_rows_gemm(m, n, k, alpha, a.data, a.ld, b.data, b.ld, beta, c.data, c.ld))
        return;
    }
    detail::blas_gemm(ta == op::transpose, tb == op::transpose, m, n, k, alpha, a.data, a.ld, b.data, b.ld, beta,
                      c.data, c.ld);
  }

  /// y [m, n] = alpha x [m, k_0 + k_1 + ...] [W_0 | W_1 | ...]^T + beta y, panel W_p [n, k_p]
  /// multiplying the k_p columns of x after those of the panels before it: paneled_matrix's
  /// product in one call. Decoding (at most few_rows_max rows, fp32 weights, up to
  /// few_rows_max_panels panels) reads every panel of a block of W in one pass, with one
  /// horizontal sum per output, so a paneled weight split at multiples of 16 columns gives a
  /// dense copy's bits (and 0-6 % less time than a product per panel on an AMD EPYC:
  /// docs/performance.md, section 5). bf16 and int8 weights (set_decode_precision) take one
  /// pass at any rows where every panel has its converted twin: bf16 with a dense copy's bits
  /// where split at multiples of 32 columns, int8 with the bits of one product per panel; past
  /// detail::lowp_many_rows rows, one sgemm over the panels side by side (bf16: a dense copy's
  /// bits at any split; int8: each panel's quantised values, summed in fp32).
  /// Otherwise, one gemm per panel. A backend derived from cpu that replaces gemm must replace
  /// this too: it calls cpu::gemm.
  template <class T>
  void gemm_panels(matrix_cref<T> x, std::span<const matrix_cref<T>> w, matrix_ref<T> y, T alpha, T beta) const {
    std::size_t k = 0;
    for (const matrix_cref<T>& p : w) {
      HAT_ASSERT(p.rows == y.cols, "cpu::gemm_panels: every panel has a row per output column");
      k += p.cols;
    }
    HAT_ASSERT(k == x.cols && x.rows == y.rows, "cpu::gemm_panels: x has the columns of all panels, y its rows");
    if constexpr (std::is_same_v<T, float>)
      if ((bf16_copy || int8_copy) && w.size() > 1 && w.size() <= detail::few_rows_max_panels && y.rows > 0 &&
          y.cols > 0 && std::all_of(w.begin(), w.end(), [](const matrix_cref<T>& p) { return p.cols > 0; })) {
        // bf16 or int8 weights: every panel of a block in one pass, any rows (as gemm's products on
        // them), when every panel has its converted twin
        detail::few_rows_panel<bf16> half[detail::few_rows_max_panels];
        detail::int8_panel quarter[detail::few_rows_max_panels];
        std::size_t found = 0;
        for (; found < w.size(); ++found) {
          const matrix_cref<T>& p = w[found];
          if (bf16_copy) {
            const bf16* v = bf16_copy->find(p.data, p.rows, p.cols, p.ld);
            if (!v) break;
            half[found] = {v, p.ld, p.cols};
          } else {
            const detail::int8_view v = int8_copy->find(p.data, p.rows, p.cols, p.ld);
            if (!v.q) break;
            quarter[found] = {v.q, p.ld, p.cols, v.scale};
          }
        }
        if (found == w.size()) {
          const detail::flush_subnormals ftz;
          if (bf16_copy)
            detail::lowp_product(y.rows, y.cols, alpha, x.data, x.ld, half, w.size(), beta, y.data, y.ld);
          else
            detail::lowp_product(y.rows, y.cols, alpha, x.data, x.ld, quarter, w.size(), beta, y.data, y.ld);
          return;
        }
      }
    if constexpr (std::is_same_v<T, float>)
      if (w.size() > 1 && w.size() <= detail::few_rows_max_panels && few_rows && !bf16_products && !bf16_copy &&
          !int8_copy && y.rows > 0 && y.rows <= detail::few_rows_max && y.cols > 0 &&
          std::all_of(w.begin(), w.end(), [](const matrix_cref<T>& p) { return p.cols > 0; })) {
        detail::few_rows_panel<float> panels[detail::few_rows_max_panels];
        for (std::size_t p = 0; p < w.size(); ++p) panels[p] = {w[p].data, w[p].ld, w[p].cols};
        const detail::flush_subnormals ftz;
        if (detail::few_rows_gemm_panels(y.rows, y.cols, alpha, x.data, x.ld, panels, w.size(), beta, y.data, y.ld))
          return;
      }
    std::size_t s = 0;
    for (std::size_t p = 0; p < w.size(); ++p) {
      gemm(matrix_cref<T>{x.data + s, x.rows, w[p].cols, x.ld}, op::none, w[p], op::transpose, y, alpha,
           p == 0 ? beta : T(1));
      s += w[p].cols;
    }
  }

  // --- element-wise primitives ---
  // The element-wise loops below are written branch-free (selects, not ifs) so that the
  // compiler vectorises them: ReLU signs are random, and a branch per element mispredicts
  // half the time (measured: relu_backward was 40 % of a predictor training step).
  template <class T>
  void bias_forward(matrix_ref<T> y /*[n, d]*/, const T* bias /*[d]*/, bool relu) const noexcept {
    const detail::flush_subnormals ftz;
    for (std::size_t r = 0; r < y.rows; ++r) {
      T* row = y.data + r * y.ld;
      if (relu)
        for (std::size_t j = 0; j < y.cols; ++j) {
          const T v = row[j] + bias[j];
          row[j] = v > T(0) ? v : T(0);
        }
      else
        for (std::size_t j = 0; j < y.cols; ++j) row[j] += bias[j];
    }
  }
  template <class T>
  void relu_backward(matrix_ref<T> g /*[n, d]*/, matrix_cref<T> act /*[n, d]*/) const noexcept {
    for (std::size_t r = 0; r < g.rows; ++r) {
      T* gr = g.data + r * g.ld;
      const T* ar = act.data + r * act.ld;
      for (std::size_t j = 0; j < g.cols; ++j) gr[j] = ar[j] > T(0) ? gr[j] : T(0);
    }
  }
  template <class T>
  void bias_backward(matrix_cref<T> g /*[n, d]*/, T* bias_grad /*[d]*/, bool accumulate) const noexcept {
    const detail::flush_subnormals ftz;
    if (!accumulate)
      for (std::size_t j = 0; j < g.cols; ++j) bias_grad[j] = T(0);
    for (std::size_t r = 0; r < g.rows; ++r)
      for (std::size_t j = 0; j < g.cols; ++j) bias_grad[j] += g.data[r * g.ld + j];
  }
  /// y[i, :] = scale * table[tokens[i], :] + positions[pos[i], :]; a row with pos[i] < 0 is a
  /// padding position and becomes 0 (fairseq's zero padding rows). `tokens` and `pos` are host
  /// arrays [n], already checked; table [vocab, d] and positions [P, d] are views.
  template <class T>
  void embedding_forward(matrix_cref<T> table, const int* tokens, T scale, matrix_cref<T> positions,
                         const int* pos, matrix_ref<T> y) const noexcept {
    for (std::size_t i = 0; i < y.rows; ++i) {
      T* out = y.data + i * y.ld;
      if (pos[i] < 0) {
        for (std::size_t c = 0; c < y.cols; ++c) out[c] = T(0);
        continue;
      }
      const T* e = table.data + static_cast<std::size_t>(tokens[i]) * table.ld;
      const T* p = positions.data + static_cast<std::size_t>(pos[i]) * positions.ld;
      for (std::size_t c = 0; c < y.cols; ++c) out[c] = scale * e[c] + p[c];
    }
  }

  template <class T>
  void add(matrix_cref<T> x, matrix_ref<T> y) const noexcept {
    for (std::size_t r = 0; r < y.rows; ++r) {
      const T* xr = x.data + r * x.ld;
      T* yr = y.data + r * y.ld;
      for (std::size_t c = 0; c < y.cols; ++c) yr[c] += xr[c];
    }
  }
  template <class T>
  void copy(matrix_cref<T> x, matrix_ref<T> y) const noexcept {
    for (std::size_t r = 0; r < y.rows; ++r) std::copy(x.data + r * x.ld, x.data + r * x.ld + y.cols, y.data + r * y.ld);
  }
  template <class T>
  void fill(matrix_ref<T> y, T value) const noexcept {
    for (std::size_t r = 0; r < y.rows; ++r) std::fill(y.data + r * y.ld, y.data + r * y.ld + y.cols, value);
  }
  /// y[i, :] = x[ids[i], :] for host ids [y.rows] (beam search reorders its caches with it).
  template <class T>
  void gather_rows(matrix_cref<T> x, const int* ids, matrix_ref<T> y) const noexcept {
    for (std::size_t r = 0; r < y.rows; ++r) {
      const T* xr = x.data + static_cast<std::size_t>(ids[r]) * x.ld;
      std::copy(xr, xr + y.cols, y.data + r * y.ld);
    }
  }

  /// The attention core for every item and head (see attention_shape). Few query rows
  /// (decoding) use direct dot products; more use two GEMMs per head. `scratch`: [tq * tk].
  template <class T>
  void attention_forward(const attention_shape& s, matrix_cref<T> q /*[batch tq, Q]*/,
                         matrix_cref<T> k /*[key rows, Q]*/, matrix_cref<T> v /*[key rows, Q]*/,
                         const unsigned char* key_padding /*[key blocks tk] or null*/, matrix_ref<T> ctx /*[batch tq, Q]*/,
                         T* scratch /*[tq tk]*/) const {
    HAT_ASSERT(s.heads > 0 && q.cols % s.heads == 0 && k.cols == q.cols && v.cols == q.cols && ctx.cols == q.cols,
               "attention_forward: q, k, v and ctx must share a width the head count divides");
    HAT_ASSERT(q.rows == s.batch * s.tq && ctx.rows == q.rows, "attention_forward: q and ctx must be [batch tq, Q]");
    HAT_ASSERT(s.dropout <= 0 || s.save_probs, "attention_forward: attention dropout is for training (save_probs)");
    const detail::flush_subnormals ftz;
    const std::size_t hd = q.cols / s.heads, offset = s.tk - std::min(s.tk, s.tq);
    const T scaling = static_cast<T>(s.scaling);
    T* dropped = s.dropout > 0 ? scratch + s.batch * s.heads * s.tq * s.tk : nullptr;  // [tq, tk]
    // Few query rows take plain loops (cheaper than a GEMM call), except with bf16 products,
    // whose rounding lives in gemm: every product of a bf16 training is a bf16 product.
    bool by_gemm = s.tq >= 8;
    if constexpr (std::is_same_v<T, float>) by_gemm = by_gemm || bf16_products;
    for (std::size_t i = 0; i < s.batch; ++i) {
      const std::size_t block = i / s.kv_group;
      const T* kb = k.data + block * s.kv_stride * k.ld;
      const T* vb = v.data + block * s.kv_stride * v.ld;
      const unsigned char* pad = key_padding ? key_padding + block * s.tk : nullptr;
      for (std::size_t h = 0; h < s.heads; ++h) {
        const matrix_ref<const T> qh{q.data + i * s.tq * q.ld + h * hd, s.tq, hd, q.ld}, kh{kb + h * hd, s.tk, hd, k.ld},
            vh{vb + h * hd, s.tk, hd, v.ld};
        T* probs = s.save_probs ? scratch + (i * s.heads + h) * s.tq * s.tk : scratch;
        const matrix_ref<T> ch{ctx.data + i * s.tq * ctx.ld + h * hd, s.tq, hd, ctx.ld}, sc = dense(probs, s.tq, s.tk);
        if (by_gemm) {
          gemm(qh, op::none, kh, op::transpose, sc, scaling, T(0));
        } else {
          for (std::size_t r = 0; r < s.tq; ++r) {
            T* row = probs + r * s.tk;
            for (std::size_t j = 0; j < s.tk; ++j) row[j] = scaling * detail::dot(qh.data + r * qh.ld, kh.data + j * kh.ld, hd);
          }
        }
        softmax_forward(sc, s.causal, offset, pad);
        const T* weights = probs;  // what multiplies V: the probabilities, or their dropped copy
        if (dropped) {
          drop_probs_(s, i, h, probs, dropped);
          weights = dropped;
        }
        if (by_gemm) {
          gemm(dense(weights, s.tq, s.tk), op::none, vh, op::none, ch, T(1), T(0));
          continue;
        }
        for (std::size_t r = 0; r < s.tq; ++r) {
          T* out = ch.data + r * ch.ld;
          for (std::size_t c = 0; c < hd; ++c) out[c] = T(0);
          for (std::size_t j = 0; j < s.tk; ++j) {
            const T p = weights[r * s.tk + j];
            const T* vr = vh.data + j * vh.ld;
            for (std::size_t c = 0; c < hd; ++c) out[c] += p * vr[c];
          }
        }
      }
    }
  }

  /// y[i, j] = y[i, j] / (1 - p) where dropout_keeps(key, i cols + j, p), else 0. The same
  /// call is the forward (on activations) and the backward (on their gradients).
  template <class T>
  void dropout(matrix_ref<T> y, float p, std::uint64_t key) const noexcept {
    if (p <= 0) return;
    const T keep_scale = static_cast<T>(1.0 / (1.0 - static_cast<double>(p)));
    if (y.ld == y.cols) return detail::dropout_n(y.data, y.data, y.rows * y.cols, key, 0, p, keep_scale);
    for (std::size_t r = 0; r < y.rows; ++r) {
      T* row = y.data + r * y.ld;
      detail::dropout_n(row, row, y.cols, key, r * y.cols, p, keep_scale);
    }
  }

  /// The backward of attention_forward (run with save_probs, `probs` its scratch): dq [batch
  /// tq, Q] is set; dk and dv (laid out as k and v) accumulate, since items of a kv_group share
  /// their keys. Per item and head, with P the probabilities and S the scaled scores:
  /// dV += P^T dctx, dP = dctx V^T, dS = P * (dP - rowsum(dP * P)), dQ = scaling dS K,
  /// dK += scaling dS^T Q. `scratch`: [tq tk].
  template <class T>
  void attention_backward(const attention_shape& s, matrix_cref<T> q, matrix_cref<T> k, matrix_cref<T> v,
                          const T* probs, matrix_cref<T> dctx, matrix_ref<T> dq, matrix_ref<T> dk, matrix_ref<T> dv,
                          T* scratch) const {
    HAT_ASSERT(s.save_probs, "attention_backward: the forward must have saved its probabilities");
    const detail::flush_subnormals ftz;
    const std::size_t hd = q.cols / s.heads;
    const T scaling = static_cast<T>(s.scaling);
    for (std::size_t i = 0; i < s.batch; ++i) {
      const std::size_t block = i / s.kv_group;
      for (std::size_t h = 0; h < s.heads; ++h) {
        const std::size_t qo = i * s.tq, ko = block * s.kv_stride;
        const matrix_ref<const T> qh{q.data + qo * q.ld + h * hd, s.tq, hd, q.ld}, kh{k.data + ko * k.ld + h * hd, s.tk, hd, k.ld},
            vh{v.data + ko * v.ld + h * hd, s.tk, hd, v.ld}, ch{dctx.data + qo * dctx.ld + h * hd, s.tq, hd, dctx.ld};
        const matrix_ref<const T> p{probs + (i * s.heads + h) * s.tq * s.tk, s.tq, s.tk, s.tk};
        const matrix_ref<T> dqh{dq.data + qo * dq.ld + h * hd, s.tq, hd, dq.ld}, dkh{dk.data + ko * dk.ld + h * hd, s.tk, hd, dk.ld},
            dvh{dv.data + ko * dv.ld + h * hd, s.tk, hd, dv.ld}, dp = dense(scratch, s.tq, s.tk);
        if (s.dropout > 0) {  // ctx = D V with D the dropped P: dV += D^T dctx, dP = mask (dctx V^T) / (1 - rate)
          T* dropped = scratch + s.tq * s.tk;
          drop_probs_(s, i, h, p.data, dropped);
          gemm(dense(static_cast<const T*>(dropped), s.tq, s.tk), op::transpose, ch, op::none, dvh, T(1), T(1));
          gemm(ch, op::none, vh, op::transpose, dp, T(1), T(0));
          drop_probs_(s, i, h, static_cast<const T*>(dp.data), dp.data);
        } else {
          gemm(p, op::transpose, ch, op::none, dvh, T(1), T(1));  // dV += P^T dctx
          gemm(ch, op::none, vh, op::transpose, dp, T(1), T(0));  // dP = dctx V^T
        }
        for (std::size_t r = 0; r < s.tq; ++r) {                  // dS = P * (dP - rowsum(dP * P))
          T* dr = scratch + r * s.tk;
          const T* pr = p.data + r * s.tk;
          const double sum = detail::lane_sums<1>(s.tk, [&](std::size_t j) {
            return std::array<double, 1>{static_cast<double>(dr[j]) * pr[j]};
          })[0];
          for (std::size_t j = 0; j < s.tk; ++j) dr[j] = pr[j] * (dr[j] - static_cast<T>(sum));
        }
        gemm(dp, op::none, kh, op::none, dqh, scaling, T(0));       // dQ = scaling dS K
        gemm(dp, op::transpose, qh, op::none, dkh, scaling, T(1));  // dK += scaling dS^T Q
      }
    }
  }

  // Item i, head h's dropout of [tq, tk] values (probabilities, or their gradient; `dropped` may
  // be `probs`): element (r, j) is element ((i heads + h) tq + r) tk + j of the whole
  // probability tensor under the shape's key.
  template <class T>
  void drop_probs_(const attention_shape& s, std::size_t i, std::size_t h, const T* probs, T* dropped) const noexcept {
    const std::size_t n = s.tq * s.tk;
    const T keep_scale = static_cast<T>(1.0 / (1.0 - static_cast<double>(s.dropout)));
    const std::uint64_t base = (i * s.heads + h) * n;
    detail::dropout_n(probs, dropped, n, s.dropout_key, base, s.dropout, keep_scale);
  }

  /// fairseq's label-smoothed cross-entropy summed over rows: per row with target t != ignore,
  /// nll = -log p_t and loss = (1 - eps) nll - eps / V sum_j log p_j (natural log; the caller
  /// divides by ln 2 and the token count, as fairseq reports it).
  template <class T>
  void label_smoothed_loss(matrix_ref<const T> logits /*[n, V]*/, const int* targets /*[n]*/, double eps, int ignore,
                           double& loss, double& nll) const noexcept {
    loss = 0;
    nll = 0;
    const std::size_t vocab = logits.cols;
    for (std::size_t r = 0; r < logits.rows; ++r) {
      if (targets[r] == ignore) continue;
      const T* x = logits.data + r * logits.ld;
      T mx = x[0];
      for (std::size_t j = 1; j < vocab; ++j) mx = x[j] > mx ? x[j] : mx;
      T sum = 0, total = 0;  // float lanes vectorise; a row is at most a vocabulary long
      for (std::size_t j = 0; j < vocab; ++j) {
        sum += detail::exp_nonpositive(x[j] - mx);
        total += x[j];
      }
      const double lse = static_cast<double>(mx) + std::log(static_cast<double>(sum));
      const double n = lse - static_cast<double>(x[targets[r]]);
      const double smooth = static_cast<double>(vocab) * lse - static_cast<double>(total);
      nll += n;
      loss += (1.0 - eps) * n + eps / static_cast<double>(vocab) * smooth;
    }
  }

  /// label_smoothed_loss and its gradient in one pass over the logits: `x` [n, V] holds the
  /// logits on entry and scale * d(loss)/d(logits) on return (label_smoothed_loss_backward's
  /// values); loss and nll are label_smoothed_loss's. Training needs both, and the logits are
  /// the largest tensor of a step: one read and one write instead of three passes.
  template <class T>
  void label_smoothed_loss_gradient(matrix_ref<T> x, const int* targets, double eps, int ignore, T scale, double& loss,
                                    double& nll) const noexcept {
    const detail::flush_subnormals ftz;
    loss = 0;
    nll = 0;
    const std::size_t vocab = x.cols;
    const double smooth = eps / static_cast<double>(vocab);
    for (std::size_t r = 0; r < x.rows; ++r) {
      T* g = x.data + r * x.ld;
      if (targets[r] == ignore) {
        for (std::size_t j = 0; j < vocab; ++j) g[j] = T(0);
        continue;
      }
      T mx = g[0];
      for (std::size_t j = 1; j < vocab; ++j) mx = g[j] > mx ? g[j] : mx;
      const T target_logit = g[targets[r]];
      const double total = detail::sum_lanes(g, vocab);
      if constexpr (std::is_same_v<T, float>)
        detail::exp_shift(g, vocab, mx);
      else
        for (std::size_t j = 0; j < vocab; ++j) g[j] = detail::exp_nonpositive(g[j] - mx);
      const double sum = detail::sum_lanes(g, vocab);
      const double lse = static_cast<double>(mx) + std::log(sum);
      const double n = lse - static_cast<double>(target_logit);
      nll += n;
      loss += (1.0 - eps) * n + smooth * (static_cast<double>(vocab) * lse - total);
      const T a = static_cast<T>(scale / sum), b = static_cast<T>(scale * smooth);
      for (std::size_t j = 0; j < vocab; ++j) g[j] = g[j] * a - b;
      g[targets[r]] -= static_cast<T>(scale * (1.0 - eps));
    }
  }

  /// Row-wise softmax of attention scores s [tq, tk], in place. Key j is masked for query i
  /// when `key_padding[j]` is non-zero or, if `causal`, when j > i + causal_offset (the query
  /// rows are the last tq of tk positions: offset tk - tq). Masked keys get probability 0; a
  /// row with every key masked becomes all zeros.
  template <class T>
  void softmax_forward(matrix_ref<T> s /*[tq, tk]*/, bool causal, std::size_t causal_offset,
                       const unsigned char* key_padding /*[tk] or null*/) const noexcept {
    const detail::flush_subnormals ftz;
    for (std::size_t i = 0; i < s.rows; ++i) {
      T* row = s.data + i * s.ld;
      const std::size_t visible = causal ? std::min(s.cols, i + causal_offset + 1) : s.cols;
      constexpr T inf = std::numeric_limits<T>::infinity();
      T mx = -inf;
      bool finite = true;  // every unmasked score finite (not NaN, not infinite)
      for (std::size_t j = 0; j < visible; ++j)
        if (!key_padding || !key_padding[j]) {
          mx = row[j] > mx ? row[j] : mx;
          finite = finite && row[j] > -inf && row[j] < inf;
        }
      bool vector = false;
      if constexpr (std::is_same_v<T, float>) vector = finite && mx > -inf;
      if (vector) {
        // the vector exp (clamped below, NaN-blind: hence finite scores only, the others take the
        // loop below as before) over the visible keys, padded ones set to the maximum first (e^0,
        // never a positive argument) and zeroed after
        if (key_padding)
          for (std::size_t j = 0; j < visible; ++j)
            if (key_padding[j]) row[j] = mx;
        if constexpr (std::is_same_v<T, float>) detail::exp_shift(row, visible, mx);
        for (std::size_t j = 0; j < s.cols; ++j)
          if (j >= visible || (key_padding && key_padding[j])) row[j] = T(0);
      } else {
        for (std::size_t j = 0; j < s.cols; ++j) {
          const bool masked = j >= visible || (key_padding && key_padding[j]);
          row[j] = masked ? T(0) : detail::exp_nonpositive(row[j] - mx);
        }
      }
      const double sum = detail::lane_sums<1>(s.cols, [&](std::size_t j) { return std::array<double, 1>{row[j]}; })[0];
      const T inv = sum > 0 ? static_cast<T>(1.0 / sum) : T(0);
      for (std::size_t j = 0; j < s.cols; ++j) row[j] *= inv;
    }
  }

  /// y[i, :] = (x[i, :] - mean) / sqrt(var + eps) * gamma + beta over each row's `cols`
  /// features (biased variance, as torch.nn.LayerNorm); sums in double.
  template <class T>
  void layernorm_forward(matrix_cref<T> x /*[n, d]*/, const T* gamma /*[d]*/, const T* beta /*[d]*/,
                         matrix_ref<T> y /*[n, d]*/, T eps) const noexcept {
    const detail::flush_subnormals ftz;
    const std::size_t d = x.cols;
    for (std::size_t r = 0; r < x.rows; ++r) {
      const T* xr = x.data + r * x.ld;
      T* yr = y.data + r * y.ld;
      const auto [mean, inv_d] = detail::row_stats(xr, d, eps);
      const T inv = static_cast<T>(inv_d);
      const T m = static_cast<T>(mean);
      for (std::size_t j = 0; j < d; ++j) yr[j] = (xr[j] - m) * inv * gamma[j] + beta[j];
    }
  }

  /// total = sum of x[i]^2, in double.
  template <class T>
  void sum_squares(const T* x, std::size_t n, double& total) const noexcept {
    double acc[4] = {};
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4)
      for (std::size_t u = 0; u < 4; ++u) acc[u] += static_cast<double>(x[i + u]) * x[i + u];
    for (; i < n; ++i) acc[0] += static_cast<double>(x[i]) * x[i];
    total = (acc[0] + acc[1]) + (acc[2] + acc[3]);
  }
  template <class T>
  void scale(T* x, std::size_t n, T factor) const noexcept {
    for (std::size_t i = 0; i < n; ++i) x[i] *= factor;
  }

  /// Adam with bias correction; weight decay is decoupled (p -= wd * lr * p), as fairseq's.
  template <class T>
  void adam_step(T* __restrict p, const T* __restrict g, T* __restrict m, T* __restrict v, std::size_t n, T lr,
                 T beta1, T beta2, T eps, T weight_decay, std::size_t step) const noexcept {
    const detail::flush_subnormals ftz;
    const T c1 = T(1) - static_cast<T>(std::pow(beta1, static_cast<T>(step)));
    const T c2 = T(1) - static_cast<T>(std::pow(beta2, static_cast<T>(step)));
    const T step_size = lr / c1;
    const T inv_c2_sqrt = T(1) / std::sqrt(c2);
    const T decay = T(1) - weight_decay * lr;  // 1 when there is no weight decay
    std::size_t i = 0;
#if defined(__SSE__) || defined(__x86_64__)
    // std::sqrt keeps a scalar errno check per element (-fmath-errno), which blocks
    // vectorisation: the SSE square root has none and v >= 0 anyway.
    if constexpr (std::is_same_v<T, float>) {
      const __m128 b1 = _mm_set1_ps(beta1), nb1 = _mm_set1_ps(1 - beta1), b2 = _mm_set1_ps(beta2),
                   nb2 = _mm_set1_ps(1 - beta2), dec = _mm_set1_ps(decay), ss = _mm_set1_ps(step_size),
                   ic2 = _mm_set1_ps(inv_c2_sqrt), ep = _mm_set1_ps(eps);
      for (; i + 4 <= n; i += 4) {
        const __m128 gi = _mm_loadu_ps(g + i);
        const __m128 mi = _mm_add_ps(_mm_mul_ps(b1, _mm_loadu_ps(m + i)), _mm_mul_ps(nb1, gi));
        const __m128 vi = _mm_add_ps(_mm_mul_ps(b2, _mm_loadu_ps(v + i)), _mm_mul_ps(nb2, _mm_mul_ps(gi, gi)));
        _mm_storeu_ps(m + i, mi);
        _mm_storeu_ps(v + i, vi);
        const __m128 den = _mm_add_ps(_mm_mul_ps(_mm_sqrt_ps(vi), ic2), ep);
        _mm_storeu_ps(p + i, _mm_sub_ps(_mm_mul_ps(_mm_loadu_ps(p + i), dec), _mm_div_ps(_mm_mul_ps(ss, mi), den)));
      }
    }
#endif
    for (; i < n; ++i) {
      const T mi = beta1 * m[i] + (T(1) - beta1) * g[i];
      const T vi = beta2 * v[i] + (T(1) - beta2) * g[i] * g[i];
      m[i] = mi;
      v[i] = vi;
      p[i] = p[i] * decay - step_size * mi / (std::sqrt(vi) * inv_c2_sqrt + eps);
    }
  }

  // --- backward ---
  /// dx [n, d] from dy [n, d] through y = LayerNorm(x) (statistics recomputed from x, in
  /// double); dgamma [d] and dbeta [d] accumulate.
  template <class T>
  void layernorm_backward(matrix_cref<T> x, const T* gamma, matrix_cref<T> dy, matrix_ref<T> dx, T* dgamma,
                          T* dbeta, T eps) const noexcept {
    const detail::flush_subnormals ftz;
    const std::size_t d = x.cols;
    for (std::size_t r = 0; r < x.rows; ++r) {
      const T* xr = x.data + r * x.ld;
      const T* gr = dy.data + r * dy.ld;
      T* out = dx.data + r * dx.ld;
      const std::pair<double, double> stats = detail::row_stats(xr, d, eps);
      const double mean = stats.first, inv = stats.second;  // not a structured binding: clang 14's lambdas cannot capture one
      for (std::size_t j = 0; j < d; ++j) {
        dgamma[j] += static_cast<T>(gr[j] * ((xr[j] - mean) * inv));
        dbeta[j] += gr[j];
      }
      const auto [g_sum, gx_sum] = detail::lane_sums<2>(d, [&](std::size_t j) {  // sums of dxhat and dxhat * xhat
        const double xhat = (xr[j] - mean) * inv, g = static_cast<double>(gr[j]) * gamma[j];
        return std::array<double, 2>{g, g * xhat};
      });
      const double m1 = g_sum / static_cast<double>(d), m2 = gx_sum / static_cast<double>(d);
      for (std::size_t j = 0; j < d; ++j) {
        const double xhat = (xr[j] - mean) * inv;
        out[j] = static_cast<T>(inv * (static_cast<double>(gr[j]) * gamma[j] - m1 - xhat * m2));
      }
    }
  }

  /// dtable[tokens[i], :] += scale * dy[i, :] (padding rows, pos[i] < 0, add nothing).
  template <class T>
  void embedding_backward(const int* tokens, const int* pos, T scale, matrix_cref<T> dy,
                          matrix_ref<T> dtable) const noexcept {
    for (std::size_t i = 0; i < dy.rows; ++i) {
      if (pos[i] < 0) continue;
      T* e = dtable.data + static_cast<std::size_t>(tokens[i]) * dtable.ld;
      const T* g = dy.data + i * dy.ld;
      for (std::size_t c = 0; c < dy.cols; ++c) e[c] += scale * g[c];
    }
  }

  /// The gradient of label_smoothed_loss's `loss` times `scale`: per row with target t !=
  /// ignore, scale * (softmax(x) - (1 - eps) [j = t] - eps / V); ignored rows get 0.
  template <class T>
  void label_smoothed_loss_backward(matrix_cref<T> logits, const int* targets, double eps, int ignore, T scale,
                                    matrix_ref<T> dlogits) const noexcept {
    const std::size_t vocab = logits.cols;
    for (std::size_t r = 0; r < logits.rows; ++r) {
      T* g = dlogits.data + r * dlogits.ld;
      if (targets[r] == ignore) {
        for (std::size_t j = 0; j < vocab; ++j) g[j] = T(0);
        continue;
      }
      const T* x = logits.data + r * logits.ld;
      T mx = x[0];
      for (std::size_t j = 1; j < vocab; ++j) mx = x[j] > mx ? x[j] : mx;
      double sum = 0;
      for (std::size_t j = 0; j < vocab; ++j) sum += std::exp(static_cast<double>(x[j] - mx));
      const double smooth = eps / static_cast<double>(vocab);
      for (std::size_t j = 0; j < vocab; ++j)
        g[j] = static_cast<T>(scale * (std::exp(static_cast<double>(x[j] - mx)) / sum - smooth));
      g[targets[r]] -= static_cast<T>(scale * (1.0 - eps));
    }
  }

  // --- memory ---
  template <class T>
  void upload(const T* host, std::size_t n, T* dev) const noexcept {
    std::copy(host, host + n, dev);
  }
  template <class T>
  void download(const T* dev, std::size_t n, T* host) const noexcept {
    std::copy(dev, dev + n, host);
  }
  void synchronize() const noexcept {}

  /// hat::host_parts: [0, count) in one contiguous range per thread of the worker pool.
  template <class Part>
  void host_parts(std::size_t count, Part& part) const noexcept {
    auto& pool = detail::worker_pool::instance();
    const std::size_t parts = std::min<std::size_t>(static_cast<std::size_t>(pool.threads()), count);
    if (parts <= 1) {
      if (count > 0) part(std::size_t{0}, count);
      return;
    }
    auto range = [&](int p) {
      const auto q = static_cast<std::size_t>(p);
      part(q * count / parts, (q + 1) * count / parts);
    };
    pool.run(static_cast<int>(parts), range);
  }

  // --- threads and OpenBLAS ---
  /// OpenBLAS's threads (the GEMMs of the encoder and of training) and the worker pool's (the
  /// few-row products of decoding, split by output columns, and host_parts: the same bits on any
  /// count).
  static void set_threads(int n) noexcept {
    detail::blas_set_threads(n);
    detail::worker_pool::instance().set_threads(n);
  }
  static int threads() noexcept { return detail::blas_threads(); }
  /// The kernel family OpenBLAS picked for this CPU ("SkylakeX", "Haswell", "Prescott", ...).
  static std::string blas_core() { return detail::blas_core(); }
  /// A warning when OpenBLAS runs its generic SSE3 kernels on a CPU that has AVX2 or AVX-512;
  /// empty when all is well (detail::blas_warning).
  static std::string blas_warning() { return detail::blas_warning(); }
  /// An error when OPENBLAS_CORETYPE names kernels whose instructions this CPU lacks; empty when
  /// all is well (detail::blas_error).
  static std::string blas_error() { return detail::blas_error(); }
  /// A note when `p` runs on this CPU's portable scalar kernels (no AVX2: bf16 and int8 are then
  /// slower than fp32, though they still give the same bits); empty when it runs fast. `path`:
  /// the kernels' path, the best this CPU has unless a test says otherwise.
  static std::string precision_warning(precision p, detail::lowp_path path = detail::best_lowp_path()) {
    if (p == precision::fp32 || path != detail::lowp_path::scalar) return {};
    return "precision " + std::string(precision_name(p)) +
           " runs the portable scalar kernels on this CPU (no AVX2): slower than fp32 (the same results as the vector "
           "kernels)";
  }
};

static_assert(backend_policy<cpu>);

}  // namespace hat
