// SPDX-License-Identifier: MIT
// basic_cuda: the backend policy on a GPU runtime (device_runtime: hat::cuda; host_runtime: hat::cuda_emulator).
#pragma once

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <hat/backend/concepts.hpp>
#include <hat/backend/cuda/kernels.cuh>
#include <hat/config.hpp>

namespace hat {

/// The GPU backend, written once over a runtime: device memory, one stream on which every
/// primitive is ordered, cuBLAS GEMMs on strided views (the row-major product C = op(A) op(B)
/// is cuBLAS's column-major C^T = op(B)^T op(A)^T with the same leading dimensions, so an
/// elastic slice {w, out, in, MaxIn} is never copied), and kernels for the rest. Token ids,
/// targets and positions arrive as host arrays, as the concept says, and are copied to the
/// device inside the primitive that reads them. Reductions that return to the host (losses,
/// gradient norms) are summed there in a fixed order, and column sums (bias, LayerNorm and
/// embedding gradients) run rows in order: results do not depend on scheduling.
/// Move-only: it owns the stream and the cuBLAS handle.
template <class Runtime>
class basic_cuda {
 public:
  /// Memory on the device, zeroed when allocated (as std::vector's values are). Move-only.
  template <class T>
  class buffer {
   public:
    buffer() noexcept = default;
    explicit buffer(std::size_t n) : data_(static_cast<T*>(Runtime::allocate(n * sizeof(T)))), size_(n) {}
    buffer(buffer&& o) noexcept : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
    buffer& operator=(buffer&& o) noexcept {
      if (this != &o) {
        Runtime::deallocate(data_);
        data_ = std::exchange(o.data_, nullptr);
        size_ = std::exchange(o.size_, 0);
      }
      return *this;
    }
    buffer(const buffer&) = delete;
    buffer& operator=(const buffer&) = delete;
    ~buffer() { Runtime::deallocate(data_); }

    T* data() noexcept { return data_; }
    const T* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }

   private:
    T* data_ = nullptr;
    std::size_t size_ = 0;
  };

  /// The backend on CUDA device `device` (throws cuda_error when it does not exist).
  explicit basic_cuda(int device = 0) : rt_(device) {}

  /// The runtime: on hat::cuda its stream() and cublas() handle, to order a caller's own work with hat's.
  Runtime& runtime() noexcept { return rt_; }
  /// e.g. "NVIDIA H200 (sm_90)".
  std::string describe() const { return rt_.describe(); }

  // --- GEMM ---
  template <class T>
  void gemm(matrix_cref<T> a, op ta, matrix_cref<T> b, op tb, matrix_ref<T> c, T alpha, T beta) {
    const auto [m, n, k] = gemm_dims(a, ta, b, tb, c);
    if (m == 0 || n == 0) return;
    HAT_ASSERT(std::max({m, n, k, a.ld, b.ld, c.ld}) <= static_cast<std::size_t>(INT_MAX), "gemm: sizes exceed cuBLAS's int");
    const auto i = [](std::size_t v) { return static_cast<int>(v); };
    rt_.gemm(tb == op::transpose, ta == op::transpose, i(n), i(m), i(k), alpha, b.data, i(b.ld), a.data, i(a.ld), beta,
             c.data, i(c.ld));
  }

  // --- element-wise ---
  template <class T>
  void bias_forward(matrix_ref<T> y /*[n, d]*/, const T* bias /*[d]*/, bool relu) {
    launch_elems_(cuda_kernels::bias_forward<T>, y.rows * y.cols, y.data, y.rows, y.cols, y.ld, bias, relu);
  }
  template <class T>
  void add(matrix_cref<T> x, matrix_ref<T> y) {
    launch_elems_(cuda_kernels::add<T>, y.rows * y.cols, x.data, x.ld, y.data, y.rows, y.cols, y.ld);
  }
  template <class T>
  void copy(matrix_cref<T> x, matrix_ref<T> y) {
    launch_elems_(cuda_kernels::copy<T>, y.rows * y.cols, x.data, x.ld, y.data, y.rows, y.cols, y.ld);
  }
  template <class T>
  void fill(matrix_ref<T> y, T value) {
    launch_elems_(cuda_kernels::fill<T>, y.rows * y.cols, y.data, y.rows, y.cols, y.ld, value);
  }
  template <class T>
  void dropout(matrix_ref<T> y, float p, std::uint64_t key) {
    if (p <= 0) return;
    const T keep_scale = static_cast<T>(1.0 / (1.0 - static_cast<double>(p)));
    launch_elems_(cuda_kernels::dropout<T>, y.rows * y.cols, y.data, y.rows, y.cols, y.ld, p, key, keep_scale);
  }
  template <class T>
  void relu_backward(matrix_ref<T> g /*[n, d]*/, matrix_cref<T> act /*[n, d]*/) {
    launch_elems_(cuda_kernels::relu_backward<T>, g.rows * g.cols, g.data, g.ld, act.data, act.ld, g.rows, g.cols);
  }
  /// y[i, :] = x[ids[i], :] for host ids [y.rows].
  template <class T>
  void gather_rows(matrix_cref<T> x, const int* ids, matrix_ref<T> y) {
    const int* dev = ints_(0, ids, y.rows);
    launch_elems_(cuda_kernels::gather_rows<T>, y.rows * y.cols, x.data, x.ld, dev, y.data, y.rows, y.cols, y.ld);
  }
  /// y[i, :] = scale table[tokens[i], :] + positions[pos[i], :] (0 where pos[i] < 0); host tokens, pos [n].
  template <class T>
  void embedding_forward(matrix_cref<T> table, const int* tokens, T scale, matrix_cref<T> positions,
                         const int* pos, matrix_ref<T> y) {
    const int* tok = ints_(0, tokens, y.rows);
    const int* at = ints_(1, pos, y.rows);
    launch_elems_(cuda_kernels::embedding_forward<T>, y.rows * y.cols, table.data, table.ld, tok, scale, positions.data,
                  positions.ld, at, y.data, y.rows, y.cols, y.ld);
  }
  template <class T>
  void scale(T* x, std::size_t n, T factor) {
    launch_elems_(cuda_kernels::scale<T>, n, x, n, factor);
  }
  /// Adam with bias correction; weight decay is decoupled (p -= wd * lr * p), as fairseq's.
  template <class T>
  void adam_step(T* p, const T* g, T* m, T* v, std::size_t n, T lr, T beta1, T beta2, T eps, T weight_decay,
                 std::size_t step) {
    const T c1 = T(1) - static_cast<T>(std::pow(beta1, static_cast<T>(step)));
    const T c2 = T(1) - static_cast<T>(std::pow(beta2, static_cast<T>(step)));
    launch_elems_(cuda_kernels::adam_step<T>, n, p, g, m, v, n, beta1, beta2, eps, T(1) - weight_decay * lr, lr / c1,
                  T(1) / std::sqrt(c2));
  }

  // --- column sums ---
  template <class T>
  void bias_backward(matrix_cref<T> g /*[n, d]*/, T* bias_grad /*[d]*/, bool accumulate) {
    launch_elems_(cuda_kernels::bias_backward<T>, g.cols, g.data, g.rows, g.cols, g.ld, bias_grad, accumulate);
  }
  /// dtable[tokens[i], :] += scale dy[i, :] for rows with pos[i] >= 0 (host tokens, pos [n]):
  /// the rows are grouped by token on the host, so each table row is written by one block.
  template <class T>
  void embedding_backward(const int* tokens, const int* pos, T scale, matrix_cref<T> dy, matrix_ref<T> dtable) {
    std::vector<std::pair<int, int>> by_token;  // (token, row), rows ascending within a token
    for (std::size_t i = 0; i < dy.rows; ++i)
      if (pos[i] >= 0) by_token.emplace_back(tokens[i], static_cast<int>(i));
    if (by_token.empty()) return;
    std::sort(by_token.begin(), by_token.end());  // by token, then row
    std::vector<int> distinct, offsets, rows;
    for (std::size_t e = 0; e < by_token.size(); ++e) {
      if (e == 0 || by_token[e].first != by_token[e - 1].first) {
        distinct.push_back(by_token[e].first);
        offsets.push_back(static_cast<int>(e));
      }
      rows.push_back(by_token[e].second);
    }
    offsets.push_back(static_cast<int>(by_token.size()));
    const int* tok = ints_(0, distinct.data(), distinct.size());
    const int* off = ints_(1, offsets.data(), offsets.size());
    const int* row = ints_(2, rows.data(), rows.size());
    rt_.launch(cuda_kernels::embedding_backward<T>, rows_grid_(distinct.size()), 0, tok, off, row, distinct.size(), scale,
               dy.data, dy.ld, dtable.data, dtable.ld, dy.cols);
  }

  // --- row-wise ---
  template <class T>
  void layernorm_forward(matrix_cref<T> x /*[n, d]*/, const T* gamma /*[d]*/, const T* beta /*[d]*/,
                         matrix_ref<T> y /*[n, d]*/, T eps) {
    rt_.launch(cuda_kernels::layernorm_forward<T>, rows_grid_(x.rows), Runtime::block * sizeof(T), x.data, x.ld, gamma,
               beta, y.data, y.ld, x.rows, x.cols, eps);
  }
  /// dx [n, d] from dy [n, d]; dgamma [d] and dbeta [d] accumulate.
  template <class T>
  void layernorm_backward(matrix_cref<T> x, const T* gamma, matrix_cref<T> dy, matrix_ref<T> dx, T* dgamma,
                          T* dbeta, T eps) {
    if (x.rows == 0) return;
    T* stats = scratch_<T>(0, 2 * x.rows);  // [n, 2]: mean, 1/std
    rt_.launch(cuda_kernels::layernorm_backward_rows<T>, rows_grid_(x.rows), Runtime::block * sizeof(T), x.data, x.ld,
               gamma, dy.data, dy.ld, dx.data, dx.ld, x.rows, x.cols, eps, stats);
    launch_elems_(cuda_kernels::layernorm_backward_params<T>, x.cols, x.data, x.ld, dy.data, dy.ld,
                  static_cast<const T*>(stats), x.rows, x.cols, dgamma, dbeta);
  }
  /// Masked row softmax of attention scores s [tq, tk] in place; key_padding [tk] in device memory or null.
  template <class T>
  void softmax_forward(matrix_ref<T> s, bool causal, std::size_t causal_offset, const unsigned char* key_padding) {
    rt_.launch(cuda_kernels::softmax_rows<T>, rows_grid_(s.rows), Runtime::block * sizeof(T), s.data, s.rows, s.cols,
               s.ld, causal, causal_offset, key_padding);
  }

  // --- losses: per-row values summed on the host in row order ---
  template <class T>
  void label_smoothed_loss(matrix_ref<const T> logits /*[n, V]*/, const int* targets /*[n]*/, double eps, int ignore,
                           double& loss, double& nll) {
    loss_rows_(logits.data, logits.ld, logits.rows, logits.cols, targets, eps, ignore, static_cast<T*>(nullptr), 0, T(0),
               &loss, &nll);
  }
  template <class T>
  void label_smoothed_loss_gradient(matrix_ref<T> x, const int* targets, double eps, int ignore, T scale, double& loss,
                                    double& nll) {
    loss_rows_(static_cast<const T*>(x.data), x.ld, x.rows, x.cols, targets, eps, ignore, x.data, x.ld, scale, &loss, &nll);
  }
  template <class T>
  void label_smoothed_loss_backward(matrix_cref<T> logits, const int* targets, double eps, int ignore, T scale,
                                    matrix_ref<T> dlogits) {
    loss_rows_(logits.data, logits.ld, logits.rows, logits.cols, targets, eps, ignore, dlogits.data, dlogits.ld, scale,
               nullptr, nullptr);
  }
  /// total = sum of x[i]^2: a double per block, added on the host.
  template <class T>
  void sum_squares(const T* x, std::size_t n, double& total) {
    total = 0;
    if (n == 0) return;
    const std::size_t grid = elems_grid_(n);
    double* partial = scratch_<double>(1, grid);
    rt_.launch(cuda_kernels::sum_squares<T>, grid, Runtime::block * sizeof(double), x, n, partial);
    std::vector<double> host(grid);
    rt_.to_host(host.data(), partial, grid * sizeof(double));
    for (const double v : host) total += v;
  }

  // --- attention ---
  template <class T>
  void attention_forward(const attention_shape& s, matrix_cref<T> q /*[batch tq, Q]*/,
                         matrix_cref<T> k /*[key rows, Q]*/, matrix_cref<T> v /*[key rows, Q]*/,
                         const unsigned char* key_padding /*[key blocks tk] or null*/, matrix_ref<T> ctx /*[batch tq, Q]*/,
                         T* scratch /*attention_scratch(s)*/) {
    HAT_ASSERT(s.heads > 0 && q.cols % s.heads == 0 && k.cols == q.cols && v.cols == q.cols && ctx.cols == q.cols,
               "attention_forward: q, k, v and ctx must share a width the head count divides");
    HAT_ASSERT(q.rows == s.batch * s.tq && ctx.rows == q.rows, "attention_forward: q and ctx must be [batch tq, Q]");
    HAT_ASSERT(s.dropout <= 0 || s.save_probs, "attention_forward: attention dropout is for training (save_probs)");
    rt_.launch(cuda_kernels::attention_forward<T>, rows_grid_(s.batch * s.heads * s.tq),
               (Runtime::block + s.tk) * sizeof(T), s, q.data, q.ld, k.data, k.ld, v.data, v.ld, key_padding, ctx.data,
               ctx.ld, s.save_probs ? scratch : static_cast<T*>(nullptr), q.cols);
  }
  /// dq is set; dk and dv accumulate (probabilities saved by attention_forward in `probs`).
  /// The per-row dS lives in the backend's own scratch, so `scratch` is unused here.
  template <class T>
  void attention_backward(const attention_shape& s, matrix_cref<T> q, matrix_cref<T> k, matrix_cref<T> v,
                          const T* probs, matrix_cref<T> dctx, matrix_ref<T> dq, matrix_ref<T> dk, matrix_ref<T> dv,
                          T* /*scratch*/) {
    HAT_ASSERT(s.save_probs, "attention_backward: the forward must have saved its probabilities");
    const std::size_t rows = s.batch * s.heads * s.tq;
    T* ds = scratch_<T>(0, rows * s.tk);  // [batch heads tq, tk]
    rt_.launch(cuda_kernels::attention_backward_queries<T>, rows_grid_(rows), (Runtime::block + s.tk) * sizeof(T), s,
               k.data, k.ld, v.data, v.ld, probs, dctx.data, dctx.ld, dq.data, dq.ld, ds, q.cols);
    const std::size_t groups = (s.batch + s.kv_group - 1) / s.kv_group;
    rt_.launch(cuda_kernels::attention_backward_keys<T>, rows_grid_(groups * s.heads * s.tk), 0, s, q.data, q.ld, probs,
               dctx.data, dctx.ld, static_cast<const T*>(ds), dk.data, dk.ld, dv.data, dv.ld, q.cols);
  }

  // --- memory and time ---
  /// Host to device; returns when `host` may be reused.
  template <class T>
  void upload(const T* host, std::size_t n, T* dev) {
    rt_.to_device_async(dev, host, n * sizeof(T));
    rt_.synchronize();
  }
  template <class T>
  void download(const T* dev, std::size_t n, T* host) {
    rt_.to_host(host, dev, n * sizeof(T));
  }
  void synchronize() { rt_.synchronize(); }
  /// Milliseconds of device time f's work takes (CUDA events around it); measure_latency uses it.
  template <class F>
  double elapsed_ms(F&& f) {
    return rt_.time_ms(std::forward<F>(f));
  }

 private:
  std::size_t elems_grid_(std::size_t n) const noexcept {
    return std::min<std::size_t>(Runtime::max_blocks, (n + Runtime::block - 1) / Runtime::block);
  }
  std::size_t rows_grid_(std::size_t rows) const noexcept { return std::min<std::size_t>(Runtime::max_blocks, rows); }
  template <class K, class... Args>
  void launch_elems_(K kernel, std::size_t n, Args&&... args) {
    if (n) rt_.launch(kernel, elems_grid_(n), 0, std::forward<Args>(args)...);
  }

  /// Host ints [n] copied into device slot `slot` (a primitive uses slots 0, 1, 2 at once).
  const int* ints_(std::size_t slot, const int* host, std::size_t n) {
    if (n == 0) return nullptr;
    if (ints_slots_[slot].size() < n) ints_slots_[slot] = buffer<int>(n + n / 4);
    rt_.to_device_async(ints_slots_[slot].data(), host, n * sizeof(int));
    return ints_slots_[slot].data();
  }
  /// n values of scratch slot `slot` (0: T values, 1: doubles), grown as needed, never shrunk.
  template <class T>
  T* scratch_(std::size_t slot, std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (scratch_slots_[slot].size() < bytes) scratch_slots_[slot] = buffer<unsigned char>(bytes + bytes / 4);
    return reinterpret_cast<T*>(scratch_slots_[slot].data());
  }

  template <class T>
  void loss_rows_(const T* x, std::size_t ldx, std::size_t rows, std::size_t vocab, const int* targets, double eps,
                  int ignore, T* grad, std::size_t ldg, T scale, double* loss, double* nll) {
    if (loss) *loss = 0;
    if (nll) *nll = 0;
    if (rows == 0) return;
    const int* tgt = ints_(0, targets, rows);
    double* per_row = scratch_<double>(1, 2 * rows);  // [2, rows]: loss, nll
    rt_.launch(cuda_kernels::label_smoothed_rows<T>, rows_grid_(rows), Runtime::block * sizeof(double), x, ldx, rows,
               vocab, tgt, eps, ignore, per_row, per_row + rows, grad, ldg, scale);
    if (!loss) return;
    std::vector<double> host(2 * rows);
    rt_.to_host(host.data(), per_row, host.size() * sizeof(double));
    for (std::size_t r = 0; r < rows; ++r) {
      *loss += host[r];
      *nll += host[rows + r];
    }
  }

  Runtime rt_;
  buffer<int> ints_slots_[3];
  buffer<unsigned char> scratch_slots_[2];
};

}  // namespace hat
