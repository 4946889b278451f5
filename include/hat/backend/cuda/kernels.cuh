// SPDX-License-Identifier: MIT
// The CUDA backend's kernels: every primitive of backend_policy except the GEMMs (cuBLAS).
#pragma once

// Written in the subset of CUDA that cuda/dialect.hpp provides, so the host emulator runs the
// very same source. Conventions: one thread block per row for row-wise work (grid-stride over
// rows, so any grid size is correct), grid-stride loops over elements for element-wise work,
// one thread per column for column sums (rows summed in order, as the CPU backend does, so
// bias and embedding gradients match it bit for bit). Block sizes are powers of two. Views are
// row-major with a leading dimension (elastic slices of the super weights: no copies).

#include <cmath>  // expf, logf, sqrtf (device overloads under nvcc)
#include <cstddef>
#include <cstdint>

#include <hat/backend/concepts.hpp>  // attention_shape
#include <hat/backend/cuda/dialect.hpp>
#include <hat/backend/dropout_mask.hpp>

namespace hat::cuda_kernels {

using std::size_t;

HAT_DEVICE float exp_of(float x) { return expf(x); }
HAT_DEVICE double exp_of(double x) { return exp(x); }
HAT_DEVICE float log_of(float x) { return logf(x); }
HAT_DEVICE double log_of(double x) { return log(x); }
HAT_DEVICE float sqrt_of(float x) { return sqrtf(x); }
HAT_DEVICE double sqrt_of(double x) { return sqrt(x); }
template <class T>
HAT_DEVICE T max_of(T a, T b) {
  return a > b ? a : b;
}
HAT_DEVICE size_t global_id() { return block_x() * block_dim() + thread_x(); }
HAT_DEVICE size_t global_stride() { return grid_dim() * block_dim(); }

/// The sum over the block of every thread's v (every thread gets it). `red`: [block_dim].
template <class A>
HAT_DEVICE A block_sum(A v, A* red) {
  const size_t t = thread_x();
  red[t] = v;
  sync_block();
  for (size_t s = block_dim() / 2; s > 0; s /= 2) {
    if (t < s) red[t] += red[t + s];
    sync_block();
  }
  const A total = red[0];
  sync_block();  // red is reused by the next reduction
  return total;
}
template <class A>
HAT_DEVICE A block_max(A v, A* red) {
  const size_t t = thread_x();
  red[t] = v;
  sync_block();
  for (size_t s = block_dim() / 2; s > 0; s /= 2) {
    if (t < s) red[t] = max_of(red[t], red[t + s]);
    sync_block();
  }
  const A m = red[0];
  sync_block();
  return m;
}

// --- element-wise ----------------------------------------------------------------------
template <class T>
HAT_GLOBAL void bias_forward(T* y, size_t rows, size_t cols, size_t ld, const T* bias /*[cols]*/, bool relu) {
  for (size_t e = global_id(); e < rows * cols; e += global_stride()) {
    T& v = y[(e / cols) * ld + e % cols];
    const T s = v + bias[e % cols];
    v = relu ? (s > T(0) ? s : T(0)) : s;
  }
}
template <class T>
HAT_GLOBAL void add(const T* x, size_t ldx, T* y, size_t rows, size_t cols, size_t ldy) {
  for (size_t e = global_id(); e < rows * cols; e += global_stride()) y[(e / cols) * ldy + e % cols] += x[(e / cols) * ldx + e % cols];
}
template <class T>
HAT_GLOBAL void copy(const T* x, size_t ldx, T* y, size_t rows, size_t cols, size_t ldy) {
  for (size_t e = global_id(); e < rows * cols; e += global_stride()) y[(e / cols) * ldy + e % cols] = x[(e / cols) * ldx + e % cols];
}
template <class T>
HAT_GLOBAL void fill(T* y, size_t rows, size_t cols, size_t ld, T value) {
  for (size_t e = global_id(); e < rows * cols; e += global_stride()) y[(e / cols) * ld + e % cols] = value;
}
template <class T>
HAT_GLOBAL void scale(T* x, size_t n, T factor) {
  for (size_t e = global_id(); e < n; e += global_stride()) x[e] *= factor;
}
/// Element (r, c) is the mask's index r cols + c, as on the CPU.
template <class T>
HAT_GLOBAL void dropout(T* y, size_t rows, size_t cols, size_t ld, float p, std::uint64_t key, T keep_scale) {
  for (size_t e = global_id(); e < rows * cols; e += global_stride()) {
    T& v = y[(e / cols) * ld + e % cols];
    v = dropout_keeps(key, e, p) ? v * keep_scale : T(0);
  }
}
template <class T>
HAT_GLOBAL void relu_backward(T* g, size_t ldg, const T* act, size_t lda, size_t rows, size_t cols) {
  for (size_t e = global_id(); e < rows * cols; e += global_stride()) {
    T& v = g[(e / cols) * ldg + e % cols];
    v = act[(e / cols) * lda + e % cols] > T(0) ? v : T(0);
  }
}
/// y[r, :] = x[ids[r], :]; `ids` in device memory.
template <class T>
HAT_GLOBAL void gather_rows(const T* x, size_t ldx, const int* ids, T* y, size_t rows, size_t cols, size_t ldy) {
  for (size_t e = global_id(); e < rows * cols; e += global_stride())
    y[(e / cols) * ldy + e % cols] = x[static_cast<size_t>(ids[e / cols]) * ldx + e % cols];
}
/// y[i, :] = scale table[tokens[i], :] + positions[pos[i], :], or 0 where pos[i] < 0.
template <class T>
HAT_GLOBAL void embedding_forward(const T* table, size_t ldt, const int* tokens, T scale, const T* positions, size_t ldp,
                                  const int* pos, T* y, size_t rows, size_t cols, size_t ldy) {
  for (size_t e = global_id(); e < rows * cols; e += global_stride()) {
    const size_t i = e / cols, c = e % cols;
    y[i * ldy + c] = pos[i] < 0 ? T(0)
                                : scale * table[static_cast<size_t>(tokens[i]) * ldt + c] +
                                      positions[static_cast<size_t>(pos[i]) * ldp + c];
  }
}
/// Adam with bias correction and decoupled weight decay; the scalars are precomputed on the host.
template <class T>
HAT_GLOBAL void adam_step(T* p, const T* g, T* m, T* v, size_t n, T beta1, T beta2, T eps, T decay, T step_size,
                          T inv_c2_sqrt) {
  for (size_t i = global_id(); i < n; i += global_stride()) {
    const T mi = beta1 * m[i] + (T(1) - beta1) * g[i];
    const T vi = beta2 * v[i] + (T(1) - beta2) * g[i] * g[i];
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * decay - step_size * mi / (sqrt_of(vi) * inv_c2_sqrt + eps);
  }
}

// --- column sums (one thread per column, rows in order) --------------------------------
template <class T>
HAT_GLOBAL void bias_backward(const T* g, size_t rows, size_t cols, size_t ld, T* bias_grad, bool accumulate) {
  for (size_t c = global_id(); c < cols; c += global_stride()) {
    T acc = accumulate ? bias_grad[c] : T(0);
    for (size_t r = 0; r < rows; ++r) acc += g[r * ld + c];
    bias_grad[c] = acc;
  }
}
/// dtable[token, :] += scale dy[row, :] for every row of each token, in row order: block b
/// handles distinct token tokens[b], whose rows are rows[offsets[b], offsets[b + 1]).
template <class T>
HAT_GLOBAL void embedding_backward(const int* tokens, const int* offsets, const int* rows, size_t n_tokens, T scale,
                                   const T* dy, size_t ldy, T* dtable, size_t ldt, size_t cols) {
  for (size_t b = block_x(); b < n_tokens; b += grid_dim()) {
    T* e = dtable + static_cast<size_t>(tokens[b]) * ldt;
    for (size_t c = thread_x(); c < cols; c += block_dim()) {
      T acc = e[c];
      for (int k = offsets[b]; k < offsets[b + 1]; ++k) acc += scale * dy[static_cast<size_t>(rows[k]) * ldy + c];
      e[c] = acc;
    }
  }
}

// --- row-wise (one block per row) ------------------------------------------------------
template <class T>
struct moments {
  T mean, inv;  // mean and 1 / sqrt(biased variance + eps)
};
/// A row's LayerNorm statistics (two passes: the centred sum of squares loses nothing to the mean).
template <class T>
HAT_DEVICE moments<T> row_moments(const T* xr, size_t d, T eps, T* red) {
  T s = 0;
  for (size_t j = thread_x(); j < d; j += block_dim()) s += xr[j];
  const T mean = block_sum(s, red) / static_cast<T>(d);
  T q = 0;
  for (size_t j = thread_x(); j < d; j += block_dim()) q += (xr[j] - mean) * (xr[j] - mean);
  return {mean, T(1) / sqrt_of(block_sum(q, red) / static_cast<T>(d) + eps)};
}

/// Shared memory: block_dim T.
template <class T>
HAT_GLOBAL void layernorm_forward(const T* x, size_t ldx, const T* gamma, const T* beta, T* y, size_t ldy, size_t rows,
                                  size_t d, T eps) {
  T* red = shared_memory<T>();
  for (size_t r = block_x(); r < rows; r += grid_dim()) {
    const T* xr = x + r * ldx;
    const auto [mean, inv] = row_moments(xr, d, eps, red);
    for (size_t j = thread_x(); j < d; j += block_dim()) y[r * ldy + j] = (xr[j] - mean) * inv * gamma[j] + beta[j];
  }
}
/// dx from dy (statistics recomputed); each row's mean and 1/std go to stats [rows, 2] for
/// layernorm_backward_params. Shared memory: block_dim T.
template <class T>
HAT_GLOBAL void layernorm_backward_rows(const T* x, size_t ldx, const T* gamma, const T* dy, size_t lddy, T* dx,
                                        size_t lddx, size_t rows, size_t d, T eps, T* stats) {
  T* red = shared_memory<T>();
  for (size_t r = block_x(); r < rows; r += grid_dim()) {
    const T* xr = x + r * ldx;
    const T* gr = dy + r * lddy;
    const auto [mean, inv] = row_moments(xr, d, eps, red);
    T a = 0, b = 0;  // sums of dxhat and dxhat * xhat
    for (size_t j = thread_x(); j < d; j += block_dim()) {
      const T g = gr[j] * gamma[j];
      a += g;
      b += g * (xr[j] - mean) * inv;
    }
    const T m1 = block_sum(a, red) / static_cast<T>(d), m2 = block_sum(b, red) / static_cast<T>(d);
    for (size_t j = thread_x(); j < d; j += block_dim())
      dx[r * lddx + j] = inv * (gr[j] * gamma[j] - m1 - (xr[j] - mean) * inv * m2);
    if (thread_x() == 0) {
      stats[2 * r] = mean;
      stats[2 * r + 1] = inv;
    }
  }
}
/// dgamma[j] += sum_r dy[r, j] xhat[r, j], dbeta[j] += sum_r dy[r, j] (one thread per column).
template <class T>
HAT_GLOBAL void layernorm_backward_params(const T* x, size_t ldx, const T* dy, size_t lddy, const T* stats, size_t rows,
                                          size_t d, T* dgamma, T* dbeta) {
  for (size_t j = global_id(); j < d; j += global_stride()) {
    T g = dgamma[j], b = dbeta[j];
    for (size_t r = 0; r < rows; ++r) {
      const T dyr = dy[r * lddy + j];
      g += dyr * ((x[r * ldx + j] - stats[2 * r]) * stats[2 * r + 1]);
      b += dyr;
    }
    dgamma[j] = g;
    dbeta[j] = b;
  }
}
/// Masked row softmax in place (softmax_forward's contract). Shared memory: block_dim T.
template <class T>
HAT_GLOBAL void softmax_rows(T* s, size_t rows, size_t cols, size_t ld, bool causal, size_t offset,
                             const unsigned char* pad) {
  T* red = shared_memory<T>();
  for (size_t r = block_x(); r < rows; r += grid_dim()) {
    T* row = s + r * ld;
    const size_t visible = causal ? (r + offset + 1 < cols ? r + offset + 1 : cols) : cols;
    T mx = -INFINITY;
    for (size_t j = thread_x(); j < visible; j += block_dim())
      if (!pad || !pad[j]) mx = max_of(mx, row[j]);
    mx = block_max(mx, red);
    T sum = 0;
    for (size_t j = thread_x(); j < cols; j += block_dim()) {
      const bool masked = j >= visible || (pad && pad[j]);
      row[j] = masked ? T(0) : exp_of(row[j] - mx);
      sum += row[j];
    }
    sum = block_sum(sum, red);
    const T inv = sum > T(0) ? T(1) / sum : T(0);
    for (size_t j = thread_x(); j < cols; j += block_dim()) row[j] *= inv;
  }
}

/// Label-smoothed loss of each row (loss_rows, nll_rows [rows], natural log; 0 for ignored
/// rows); with `grad` (x itself or another array), grad = scale * d(loss)/d(logits).
/// Shared memory: block_dim double.
template <class T>
HAT_GLOBAL void label_smoothed_rows(const T* x, size_t ldx, size_t rows, size_t vocab, const int* targets, double eps,
                                    int ignore, double* loss_rows, double* nll_rows, T* grad, size_t ldg, T scale) {
  double* red = shared_memory<double>();
  for (size_t r = block_x(); r < rows; r += grid_dim()) {
    const T* xr = x + r * ldx;
    T* gr = grad ? grad + r * ldg : nullptr;  // may be xr itself: each thread writes only what it last reads
    if (targets[r] == ignore) {
      if (gr)
        for (size_t j = thread_x(); j < vocab; j += block_dim()) gr[j] = T(0);
      if (thread_x() == 0) loss_rows[r] = nll_rows[r] = 0;
      continue;
    }
    double mx = -INFINITY;
    for (size_t j = thread_x(); j < vocab; j += block_dim()) mx = max_of(mx, static_cast<double>(xr[j]));
    mx = block_max(mx, red);
    const T target_logit = xr[targets[r]];
    double sum = 0, total = 0;
    for (size_t j = thread_x(); j < vocab; j += block_dim()) {
      sum += exp_of(static_cast<double>(xr[j]) - mx);
      total += static_cast<double>(xr[j]);
    }
    sum = block_sum(sum, red);
    total = block_sum(total, red);
    const double lse = mx + log_of(sum), nll = lse - static_cast<double>(target_logit);
    if (thread_x() == 0) {
      nll_rows[r] = nll;
      loss_rows[r] = (1.0 - eps) * nll + eps / static_cast<double>(vocab) * (static_cast<double>(vocab) * lse - total);
    }
    if (!gr) continue;
    const double smooth = eps / static_cast<double>(vocab);
    for (size_t j = thread_x(); j < vocab; j += block_dim()) {
      const double p = exp_of(static_cast<double>(xr[j]) - lse);
      gr[j] = static_cast<T>(scale * (p - smooth - (static_cast<int>(j) == targets[r] ? 1.0 - eps : 0.0)));
    }
  }
}

/// Partial sums of squares: partial[b] for block b over a grid-stride share of x [n]; the host
/// adds the partials in order (deterministic). Shared memory: block_dim double.
template <class T>
HAT_GLOBAL void sum_squares(const T* x, size_t n, double* partial) {
  double* red = shared_memory<double>();
  double s = 0;
  for (size_t i = global_id(); i < n; i += global_stride()) s += static_cast<double>(x[i]) * x[i];
  s = block_sum(s, red);
  if (thread_x() == 0) partial[block_x()] = s;
}

// --- attention -------------------------------------------------------------------------
// Row `row` = (i heads + h) tq + r is query r of item i, head h: element (row, j) of the
// probabilities [batch, heads, tq, tk] is also the index of its dropout draw, as on the CPU.
struct attention_row {
  size_t i, h, r, key0;  // item, head, query, first key row of the item's block
  const unsigned char* pad;
  size_t visible;  // keys [0, visible) pass the causal mask
};
HAT_DEVICE attention_row locate(const attention_shape& s, size_t row, const unsigned char* key_padding) {
  attention_row a{};
  a.r = row % s.tq;
  a.h = (row / s.tq) % s.heads;
  a.i = row / (s.tq * s.heads);
  const size_t block = a.i / s.kv_group, offset = s.tk - (s.tk < s.tq ? s.tk : s.tq);
  a.key0 = block * s.kv_stride;
  a.pad = key_padding ? key_padding + block * s.tk : nullptr;
  a.visible = s.causal ? (a.r + offset + 1 < s.tk ? a.r + offset + 1 : s.tk) : s.tk;
  return a;
}

/// What every attention kernel derives from the shape: head width, score scaling, and the
/// dropout of element e of the probabilities (the CPU's mask and scaling).
template <class T>
struct attention_constants {
  size_t hd;
  T scaling, keep_scale;
  attention_shape s;
  HAT_DEVICE T drop(size_t e, T value) const {
    return s.dropout > 0 ? (dropout_keeps(s.dropout_key, e, s.dropout) ? value * keep_scale : T(0)) : value;
  }
};
template <class T>
HAT_DEVICE attention_constants<T> constants_of(const attention_shape& s, size_t width) {
  return {width / s.heads, static_cast<T>(s.scaling),
          s.dropout > 0 ? static_cast<T>(1.0 / (1.0 - static_cast<double>(s.dropout))) : T(1), s};
}

/// The attention core, one block per query row and head. Shared memory: block_dim T for
/// reductions, then tk T of scores. `probs` [batch heads tq, tk] or null (save_probs off).
template <class T>
HAT_GLOBAL void attention_forward(attention_shape s, const T* q, size_t ldq, const T* k, size_t ldk, const T* v,
                                  size_t ldv, const unsigned char* key_padding, T* ctx, size_t ldc, T* probs, size_t width) {
  T* red = shared_memory<T>();
  T* sc = red + block_dim();
  const attention_constants<T> ac = constants_of<T>(s, width);
  const size_t hd = ac.hd, rows = s.batch * s.heads * s.tq;
  for (size_t row = block_x(); row < rows; row += grid_dim()) {
    const attention_row a = locate(s, row, key_padding);
    const T* qr = q + (a.i * s.tq + a.r) * ldq + a.h * hd;
    T mx = -INFINITY;
    for (size_t j = thread_x(); j < s.tk; j += block_dim()) {
      const bool masked = j >= a.visible || (a.pad && a.pad[j]);
      T dot = 0;
      if (!masked) {
        const T* kr = k + (a.key0 + j) * ldk + a.h * hd;
        for (size_t c = 0; c < hd; ++c) dot += qr[c] * kr[c];
        dot *= ac.scaling;
        mx = max_of(mx, dot);
      }
      sc[j] = dot;
    }
    mx = block_max(mx, red);
    T sum = 0;
    for (size_t j = thread_x(); j < s.tk; j += block_dim()) {
      const bool masked = j >= a.visible || (a.pad && a.pad[j]);
      sc[j] = masked ? T(0) : exp_of(sc[j] - mx);
      sum += sc[j];
    }
    sum = block_sum(sum, red);
    const T inv = sum > T(0) ? T(1) / sum : T(0);
    for (size_t j = thread_x(); j < s.tk; j += block_dim()) {
      T p = sc[j] * inv;
      if (probs) probs[row * s.tk + j] = p;
      sc[j] = ac.drop(row * s.tk + j, p);
    }
    sync_block();
    T* out = ctx + (a.i * s.tq + a.r) * ldc + a.h * hd;
    for (size_t c = thread_x(); c < hd; c += block_dim()) {
      T acc = 0;
      for (size_t j = 0; j < s.tk; ++j) acc += sc[j] * v[(a.key0 + j) * ldv + a.h * hd + c];
      out[c] = acc;
    }
    sync_block();  // sc is the next row's
  }
}

/// attention_backward, part 1, one block per query row and head: dS = P (dP - rowsum(dP P))
/// with dP = dctx V^T (dropout-masked), into ds [batch heads tq, tk]; dQ = scaling dS K.
/// Shared memory: block_dim T, then tk T.
template <class T>
HAT_GLOBAL void attention_backward_queries(attention_shape s, const T* k, size_t ldk, const T* v, size_t ldv,
                                           const T* probs, const T* dctx, size_t lddc, T* dq, size_t lddq, T* ds,
                                           size_t width) {
  T* red = shared_memory<T>();
  T* sc = red + block_dim();
  const attention_constants<T> ac = constants_of<T>(s, width);
  const size_t hd = ac.hd, rows = s.batch * s.heads * s.tq;
  for (size_t row = block_x(); row < rows; row += grid_dim()) {
    const attention_row a = locate(s, row, nullptr);
    const T* dc = dctx + (a.i * s.tq + a.r) * lddc + a.h * hd;
    const T* pr = probs + row * s.tk;
    T dot_sum = 0;
    for (size_t j = thread_x(); j < s.tk; j += block_dim()) {
      const T* vr = v + (a.key0 + j) * ldv + a.h * hd;
      T dp = 0;
      for (size_t c = 0; c < hd; ++c) dp += dc[c] * vr[c];
      dp = ac.drop(row * s.tk + j, dp);
      sc[j] = dp;
      dot_sum += dp * pr[j];
    }
    dot_sum = block_sum(dot_sum, red);
    for (size_t j = thread_x(); j < s.tk; j += block_dim()) {
      sc[j] = pr[j] * (sc[j] - dot_sum);
      ds[row * s.tk + j] = sc[j];
    }
    sync_block();
    T* out = dq + (a.i * s.tq + a.r) * lddq + a.h * hd;
    for (size_t c = thread_x(); c < hd; c += block_dim()) {
      T acc = 0;
      for (size_t j = 0; j < s.tk; ++j) acc += sc[j] * k[(a.key0 + j) * ldk + a.h * hd + c];
      out[c] = ac.scaling * acc;
    }
    sync_block();
  }
}

/// attention_backward, part 2, one block per key row and head of each key block (the items of
/// a kv_group in order, no atomics): dK += scaling dS^T Q, dV += D^T dctx with D the
/// (dropout-masked) probabilities.
template <class T>
HAT_GLOBAL void attention_backward_keys(attention_shape s, const T* q, size_t ldq, const T* probs, const T* dctx,
                                        size_t lddc, const T* ds, T* dk, size_t lddk, T* dv, size_t lddv, size_t width) {
  const attention_constants<T> ac = constants_of<T>(s, width);
  const size_t hd = ac.hd, groups = (s.batch + s.kv_group - 1) / s.kv_group, rows = groups * s.heads * s.tk;
  for (size_t row = block_x(); row < rows; row += grid_dim()) {
    const size_t j = row % s.tk, h = (row / s.tk) % s.heads, g = row / (s.tk * s.heads);
    const size_t first = g * s.kv_group, last = first + s.kv_group < s.batch ? first + s.kv_group : s.batch;
    for (size_t c = thread_x(); c < hd; c += block_dim()) {
      T dk_acc = 0, dv_acc = 0;
      for (size_t i = first; i < last; ++i)
        for (size_t r = 0; r < s.tq; ++r) {
          const size_t e = ((i * s.heads + h) * s.tq + r) * s.tk + j;
          dk_acc += ds[e] * q[(i * s.tq + r) * ldq + h * hd + c];
          dv_acc += ac.drop(e, probs[e]) * dctx[(i * s.tq + r) * lddc + h * hd + c];
        }
      dk[(g * s.kv_stride + j) * lddk + h * hd + c] += ac.scaling * dk_acc;
      dv[(g * s.kv_stride + j) * lddv + h * hd + c] += dv_acc;
    }
  }
}

}  // namespace hat::cuda_kernels
