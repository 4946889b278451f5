// SPDX-License-Identifier: MIT
// onednn_bf16_gemm: training's bf16 products (bf16 operands, fp32 sums and output) on oneDNN's
// matmul, loaded at run time from libdnnl.so.2 where the CPU multiplies bf16 in hardware.
#pragma once

// Why oneDNN: the portable bf16 product (operands rounded into fp32 copies, then OpenBLAS's
// sgemm: cpu_bf16_products.hpp) runs at fp32 speed at best, while oneDNN multiplies bf16 pairs
// with the CPU's bf16 dot products (AVX512-BF16): about 2x fp32 on one AMD EPYC core,
// conversion included (docs/performance.md, "Training in bf16"). Which kernel it picks on an
// AMX CPU for these primitives is not measured.
// Why at run time (dlopen, as NCCL): a program built with oneDNN's header starts on any machine;
// without the library, or on a CPU without bf16 arithmetic, cpu::gemm takes the rounding path:
// the same products, summed in another order.
// Why one primitive per operand layout, with sizes and scale given per call: training's products
// change shape with every batch and SubTransformer, and a primitive of fixed sizes takes
// 0.2-0.6 ms to generate; oneDNN 2.6 runs run-time sizes on its gemm:jit kernel as fast as fixed
// ones, but run-time strides on its reference kernel (both measured on an AMD EPYC). So operands
// are converted into dense bf16 scratch, and an output that is strided, or scaled by a beta other
// than 0 or 1 (oneDNN's sum post-op adds C as it writes), is computed densely first.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <hat/backend/bf16.hpp>
#include <hat/backend/concepts.hpp>
#include <hat/backend/cpu_bf16_convert.hpp>
#include <hat/backend/runtime_library.hpp>

#if __has_include(<oneapi/dnnl/dnnl.h>)
#include <oneapi/dnnl/dnnl.h>
#if DNNL_VERSION_MAJOR == 2  // oneDNN 3 replaced the operation descriptors this file uses
#define HAT_ONEDNN 1
#else
#define HAT_ONEDNN_HEADER_NOT_2 1
#endif
#endif

namespace hat::detail {

/// Products with fewer multiply-adds than this take the rounding path: oneDNN's fixed cost per
/// call (descriptors, memory objects, the stream) is about that of a product this small (on an
/// AMD EPYC core: even at 32 x 32 x 64, 2^16; 1.5x faster at 2^18; benchmarks/table_cpu_bf16_gemm.cpp).
inline constexpr std::size_t onednn_min_work = std::size_t{1} << 17;

/// Products with fewer multiply-adds than this run on one of oneDNN's threads whatever the thread
/// count: waking the others cost more than they saved up to 512 x 256 x 256 (2^25), while at 2^26
/// two threads ran 1.7x faster than one (AMD EPYC, two cores).
inline constexpr std::size_t onednn_split_min_work = std::size_t{1} << 26;

#ifdef HAT_ONEDNN

/// The oneDNN functions hat calls, and whether bf16 products can run on them.
struct onednn_library {
  decltype(&::dnnl_version) version = nullptr;
  decltype(&::dnnl_get_effective_cpu_isa) effective_isa = nullptr;
  decltype(&::dnnl_engine_create) engine_create = nullptr;
  decltype(&::dnnl_engine_destroy) engine_destroy = nullptr;
  decltype(&::dnnl_stream_create) stream_create = nullptr;
  decltype(&::dnnl_stream_destroy) stream_destroy = nullptr;
  decltype(&::dnnl_stream_wait) stream_wait = nullptr;
  decltype(&::dnnl_memory_desc_init_by_tag) desc_by_tag = nullptr;
  decltype(&::dnnl_matmul_desc_init) matmul_desc = nullptr;
  decltype(&::dnnl_primitive_attr_create) attr_create = nullptr;
  decltype(&::dnnl_primitive_attr_destroy) attr_destroy = nullptr;
  decltype(&::dnnl_primitive_attr_set_output_scales) attr_output_scales = nullptr;
  decltype(&::dnnl_post_ops_create) post_ops_create = nullptr;
  decltype(&::dnnl_post_ops_append_sum) post_ops_append_sum = nullptr;
  decltype(&::dnnl_post_ops_destroy) post_ops_destroy = nullptr;
  decltype(&::dnnl_primitive_attr_set_post_ops) attr_post_ops = nullptr;
  decltype(&::dnnl_primitive_desc_create) pd_create = nullptr;
  decltype(&::dnnl_primitive_desc_destroy) pd_destroy = nullptr;
  decltype(&::dnnl_primitive_desc_query) pd_query = nullptr;
  decltype(&::dnnl_primitive_create) primitive_create = nullptr;
  decltype(&::dnnl_primitive_destroy) primitive_destroy = nullptr;
  decltype(&::dnnl_primitive_execute) execute = nullptr;
  decltype(&::dnnl_memory_create) memory_create = nullptr;
  decltype(&::dnnl_memory_destroy) memory_destroy = nullptr;
  void (*set_threads)(int) = nullptr;  // omp_set_num_threads, where oneDNN runs on OpenMP
  int (*max_threads)() = nullptr;      // omp_get_max_threads
  bool ready = false;
  std::string engine;  // what runs bf16 products: oneDNN's version, kernel and ISA, or why not oneDNN
};

inline void onednn_check(dnnl_status_t s, const char* call) {
  if (s != dnnl_success) throw std::runtime_error(std::string("oneDNN: ") + call + " failed (status " + std::to_string(static_cast<int>(s)) + ")");
}

/// A matmul primitive for op(A) [m, k] op(B) [k, n] -> C [m, n] (accumulate: added to C),
/// dense row-major operands (op(A) transposed: A stored [k, m]), every size and the output scale
/// given per call.
inline dnnl_primitive_t onednn_matmul(const onednn_library& l, dnnl_engine_t engine, bool ta, bool tb, bool accumulate,
                                      std::string* impl = nullptr) {
  const dnnl_dim_t any[2] = {DNNL_RUNTIME_DIM_VAL, DNNL_RUNTIME_DIM_VAL};
  dnnl_memory_desc_t a, b, c;
  onednn_check(l.desc_by_tag(&a, 2, any, dnnl_bf16, ta ? dnnl_ba : dnnl_ab), "dnnl_memory_desc_init_by_tag");
  onednn_check(l.desc_by_tag(&b, 2, any, dnnl_bf16, tb ? dnnl_ba : dnnl_ab), "dnnl_memory_desc_init_by_tag");
  onednn_check(l.desc_by_tag(&c, 2, any, dnnl_f32, dnnl_ab), "dnnl_memory_desc_init_by_tag");
  dnnl_matmul_desc_t desc;
  onednn_check(l.matmul_desc(&desc, &a, &b, nullptr, &c), "dnnl_matmul_desc_init");
  dnnl_primitive_attr_t attr;
  onednn_check(l.attr_create(&attr), "dnnl_primitive_attr_create");
  const float runtime_scale = DNNL_RUNTIME_F32_VAL;
  dnnl_primitive_desc_t pd = nullptr;
  dnnl_status_t s = l.attr_output_scales(attr, 1, 0, &runtime_scale);
  dnnl_post_ops_t sum = nullptr;  // C += ...: a weight gradient summed over micro-batches
  if (s == dnnl_success && accumulate) {
    s = l.post_ops_create(&sum);
    if (s == dnnl_success) s = l.post_ops_append_sum(sum, 1.0f);
    if (s == dnnl_success) s = l.attr_post_ops(attr, sum);
  }
  if (s == dnnl_success) s = l.pd_create(&pd, &desc, attr, engine, nullptr);
  if (sum) l.post_ops_destroy(sum);
  l.attr_destroy(attr);
  onednn_check(s, "dnnl_primitive_desc_create (matmul)");
  const char* info = nullptr;
  if (impl && l.pd_query(pd, dnnl_query_impl_info_str, 0, &info) == dnnl_success && info) *impl = info;
  dnnl_primitive_t p = nullptr;
  s = l.primitive_create(&p, pd);
  l.pd_destroy(pd);
  onednn_check(s, "dnnl_primitive_create (matmul)");
  return p;
}

inline std::string onednn_isa_name(dnnl_cpu_isa_t isa) {
  if ((isa & dnnl_cpu_isa_avx512_core_amx) == dnnl_cpu_isa_avx512_core_amx) return "avx512_core_amx";
  if ((isa & dnnl_cpu_isa_avx512_core_bf16) == dnnl_cpu_isa_avx512_core_bf16) return "avx512_core_bf16";
  return "an ISA without bf16 arithmetic";
}

/// oneDNN, loaded once per process: the file HAT_ONEDNN_LIBRARY names, else libdnnl.so.2 where
/// the loader finds it; HAT_ONEDNN=off (or 0, false, no) keeps every product on the rounding path.
inline const onednn_library& onednn() {
  static const onednn_library lib = [] {
    onednn_library l;
    const std::string fallback = "operands rounded to bf16, OpenBLAS sgemm";
    if (const char* v = std::getenv("HAT_ONEDNN"); v && *v) {
      std::string off(v);
      for (char& ch : off) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (off == "off" || off == "0" || off == "false" || off == "no") {
        l.engine = fallback + " (HAT_ONEDNN=" + v + ")";
        return l;
      }
    }
    const char* file = std::getenv("HAT_ONEDNN_LIBRARY");
    if (!file || !*file) file = "libdnnl.so.2";
    std::string why;
    void* h = open_runtime_library(file, why);
    if (!h) {
      l.engine = fallback + " (oneDNN not loaded: " + why + "; hat needs oneDNN 2.x, Debian's libdnnl2)";
      return l;
    }
    bool all = bind_runtime_symbol(h, l.version, "dnnl_version") &&
               bind_runtime_symbol(h, l.effective_isa, "dnnl_get_effective_cpu_isa") &&
               bind_runtime_symbol(h, l.engine_create, "dnnl_engine_create") &&
               bind_runtime_symbol(h, l.engine_destroy, "dnnl_engine_destroy") &&
               bind_runtime_symbol(h, l.stream_create, "dnnl_stream_create") &&
               bind_runtime_symbol(h, l.stream_destroy, "dnnl_stream_destroy") &&
               bind_runtime_symbol(h, l.stream_wait, "dnnl_stream_wait") &&
               bind_runtime_symbol(h, l.desc_by_tag, "dnnl_memory_desc_init_by_tag") &&
               bind_runtime_symbol(h, l.matmul_desc, "dnnl_matmul_desc_init") &&
               bind_runtime_symbol(h, l.attr_create, "dnnl_primitive_attr_create") &&
               bind_runtime_symbol(h, l.attr_destroy, "dnnl_primitive_attr_destroy") &&
               bind_runtime_symbol(h, l.attr_output_scales, "dnnl_primitive_attr_set_output_scales") &&
               bind_runtime_symbol(h, l.post_ops_create, "dnnl_post_ops_create") &&
               bind_runtime_symbol(h, l.post_ops_append_sum, "dnnl_post_ops_append_sum") &&
               bind_runtime_symbol(h, l.post_ops_destroy, "dnnl_post_ops_destroy") &&
               bind_runtime_symbol(h, l.attr_post_ops, "dnnl_primitive_attr_set_post_ops") &&
               bind_runtime_symbol(h, l.pd_create, "dnnl_primitive_desc_create") &&
               bind_runtime_symbol(h, l.pd_destroy, "dnnl_primitive_desc_destroy") &&
               bind_runtime_symbol(h, l.pd_query, "dnnl_primitive_desc_query") &&
               bind_runtime_symbol(h, l.primitive_create, "dnnl_primitive_create") &&
               bind_runtime_symbol(h, l.primitive_destroy, "dnnl_primitive_destroy") &&
               bind_runtime_symbol(h, l.execute, "dnnl_primitive_execute") &&
               bind_runtime_symbol(h, l.memory_create, "dnnl_memory_create") &&
               bind_runtime_symbol(h, l.memory_destroy, "dnnl_memory_destroy");
    if (!all) {
      l.engine = fallback + " (" + file + " is not oneDNN 2.x)";
      return l;
    }
    if (bind_runtime_symbol(h, l.set_threads, "omp_set_num_threads")) bind_runtime_symbol(h, l.max_threads, "omp_get_max_threads");
    if (!l.max_threads) l.set_threads = nullptr;
    const dnnl_version_t* v = l.version();
    const std::string name = "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
    if (v->major != 2) {
      l.engine = fallback + " (" + file + " is " + name + ": hat needs oneDNN 2.x)";
      return l;
    }
    const dnnl_cpu_isa_t isa = l.effective_isa();
    if ((isa & dnnl_cpu_isa_avx512_core_bf16) != dnnl_cpu_isa_avx512_core_bf16) {
      l.engine = fallback + " (" + name + " found, but this CPU has no AVX512-BF16 or AMX)";
      return l;
    }
    // The kernel oneDNN picks for these primitives on this CPU; its reference kernel would be
    // far slower than the rounding path.
    std::string impl;
    try {
      dnnl_engine_t engine;
      onednn_check(l.engine_create(&engine, dnnl_cpu, 0), "dnnl_engine_create");
      dnnl_primitive_t probe = nullptr;
      try {
        probe = onednn_matmul(l, engine, false, true, false, &impl);
      } catch (const std::exception&) {
        l.engine_destroy(engine);
        throw;
      }
      l.primitive_destroy(probe);
      l.engine_destroy(engine);
    } catch (const std::exception& e) {
      l.engine = fallback + " (" + name + ": " + e.what() + ")";
      return l;
    }
    if (impl.rfind("ref", 0) == 0) {
      l.engine = fallback + " (" + name + " would run its reference kernel " + impl + ")";
      return l;
    }
    l.ready = true;
    l.engine = name + " matmul, " + impl + " on " + onednn_isa_name(isa) +
               (l.set_threads ? "" : " (not on OpenMP: its own thread count, not --threads)");
    return l;
  }();
  return lib;
}

/// One thread's engine, stream, primitives (index accumulate * 4 + ta * 2 + tb) and scratch:
/// oneDNN streams are not shared between threads, and ranks run as threads in tests.
class onednn_thread_state {
 public:
  explicit onednn_thread_state(const onednn_library& l) : l_(l) {
    onednn_check(l.engine_create(&engine_, dnnl_cpu, 0), "dnnl_engine_create");
    if (const dnnl_status_t s = l.stream_create(&stream_, engine_, dnnl_stream_default_flags); s != dnnl_success) {
      l.engine_destroy(engine_);
      onednn_check(s, "dnnl_stream_create");
    }
  }
  onednn_thread_state(const onednn_thread_state&) = delete;
  onednn_thread_state& operator=(const onednn_thread_state&) = delete;
  ~onednn_thread_state() {
    for (dnnl_primitive_t p : matmul_)
      if (p) l_.primitive_destroy(p);
    l_.stream_destroy(stream_);
    l_.engine_destroy(engine_);
  }

  /// The primitive of this layout, made on first use at `threads` OpenMP threads (made again
  /// where a call brings more threads than it was made for: oneDNN sizes a primitive's work for
  /// the threads it was made with, and running it on fewer is the safe direction); nullptr where
  /// oneDNN cannot make it or would run it on its reference kernel (that layout then takes the
  /// rounding path).
  dnnl_primitive_t matmul(bool ta, bool tb, bool accumulate, int threads) {
    const int i = (accumulate ? 4 : 0) + (ta ? 2 : 0) + (tb ? 1 : 0);
    if (matmul_[i] && threads > made_for_[i]) {
      l_.primitive_destroy(matmul_[i]);
      matmul_[i] = nullptr;
    }
    if (!matmul_[i] && !unusable_[i]) {
      made_for_[i] = threads;
      std::string impl;
      try {
        matmul_[i] = onednn_matmul(l_, engine_, ta, tb, accumulate, &impl);
      } catch (const std::exception&) {
        unusable_[i] = true;
      }
      if (matmul_[i] && impl.rfind("ref", 0) == 0) {
        l_.primitive_destroy(matmul_[i]);
        matmul_[i] = nullptr;
        unusable_[i] = true;
      }
    }
    return matmul_[i];
  }

  /// A memory object over `data` of the given dims and layout; destroyed with the holder.
  struct memory {
    const onednn_library& l;
    dnnl_memory_t m = nullptr;
    memory(const onednn_library& lib, dnnl_engine_t e, dnnl_dim_t d0, dnnl_dim_t d1, int ndims, dnnl_data_type_t t,
           dnnl_format_tag_t tag, const void* data)
        : l(lib) {
      const dnnl_dim_t dims[2] = {d0, d1};
      dnnl_memory_desc_t desc;
      onednn_check(l.desc_by_tag(&desc, ndims, dims, t, tag), "dnnl_memory_desc_init_by_tag");
      onednn_check(l.memory_create(&m, &desc, e, const_cast<void*>(data)), "dnnl_memory_create");
    }
    memory(const memory&) = delete;
    memory& operator=(const memory&) = delete;
    ~memory() { l.memory_destroy(m); }
  };

  dnnl_engine_t engine() const noexcept { return engine_; }
  dnnl_stream_t stream() const noexcept { return stream_; }
  std::vector<bf16> a, b;  // the operands in bf16, dense
  std::vector<float> c;    // a dense output, where the caller's is strided or summed into

 private:
  const onednn_library& l_;
  dnnl_engine_t engine_ = nullptr;
  dnnl_stream_t stream_ = nullptr;
  dnnl_primitive_t matmul_[8] = {};
  int made_for_[8] = {};
  bool unusable_[8] = {};
};

/// Sets the calling thread's OpenMP thread count (oneDNN's) for a scope and restores the
/// caller's: omp_set_num_threads lasts, and an OpenMP build of OpenBLAS takes its thread
/// count from it.
class onednn_threads {
 public:
  onednn_threads(const onednn_library& l, int n) noexcept : l_(l), saved_(l.max_threads ? l.max_threads() : 0) { set(n); }
  void set(int n) noexcept {
    if (l_.set_threads && l_.max_threads() != n) l_.set_threads(n);
  }
  onednn_threads(const onednn_threads&) = delete;
  onednn_threads& operator=(const onednn_threads&) = delete;
  ~onednn_threads() { set(saved_); }

 private:
  const onednn_library& l_;
  int saved_;
};

/// c [m, n] = alpha op(a) op(b) + beta c, op(a) [m, k] and op(b) [k, n] rounded to bf16
/// (to_bf16) and multiplied with fp32 sums on oneDNN, with `threads` OpenMP threads (one below
/// onednn_split_min_work; the caller's OpenMP thread count is restored); false (nothing
/// written) where oneDNN is not ready, cannot run this layout fast, or fails before running;
/// throws where it fails while running (c may be partly written then). k > 0; beta 0 never
/// reads c.
inline bool onednn_bf16_gemm(matrix_ref<const float> a, bool ta, matrix_ref<const float> b, bool tb, matrix_ref<float> c,
                             float alpha, float beta, int threads) {
  const onednn_library& l = onednn();
  if (!l.ready) return false;
  thread_local std::unique_ptr<onednn_thread_state> state;
  thread_local bool no_state = false;  // this thread's engine or stream could not be made
  if (!state && !no_state) {
    try {
      state = std::make_unique<onednn_thread_state>(l);
    } catch (const std::exception&) {
      no_state = true;
    }
  }
  if (!state) return false;
  onednn_thread_state& st = *state;
  const std::size_t m = c.rows, n = c.cols, k = ta ? a.rows : a.cols;
  const bool direct = (beta == 0.0f || beta == 1.0f) && c.ld == n;  // else computed densely, then combined
  const int most = std::max(threads, 1);
  onednn_threads omp(l, most);  // made at the full thread count, run on one below onednn_split_min_work
  const dnnl_primitive_t matmul = st.matmul(ta, tb, direct && beta == 1.0f, most);
  if (!matmul) return false;
  omp.set(m * n * k >= onednn_split_min_work ? most : 1);
  const bf16* a16 = bf16_operand_pin::convert(a, st.a);
  const bf16* b16 = bf16_operand_pin::convert(b, st.b);
  if (!direct && st.c.size() < m * n) st.c.resize(m * n);
  float* out = direct ? c.data : st.c.data();
  const auto d = [](std::size_t v) { return static_cast<dnnl_dim_t>(v); };
  bool running = false;  // until then, a failure leaves c untouched and the product to the rounding path
  try {
    using mem = onednn_thread_state::memory;
    const mem ma(l, st.engine(), d(m), d(k), 2, dnnl_bf16, ta ? dnnl_ba : dnnl_ab, a16);
    const mem mb(l, st.engine(), d(k), d(n), 2, dnnl_bf16, tb ? dnnl_ba : dnnl_ab, b16);
    const mem mc(l, st.engine(), d(m), d(n), 2, dnnl_f32, dnnl_ab, out);
    const mem ms(l, st.engine(), 1, 0, 1, dnnl_f32, dnnl_a, &alpha);
    const dnnl_exec_arg_t args[4] = {
        {DNNL_ARG_SRC, ma.m}, {DNNL_ARG_WEIGHTS, mb.m}, {DNNL_ARG_DST, mc.m}, {DNNL_ARG_ATTR_OUTPUT_SCALES, ms.m}};
    running = true;
    onednn_check(l.execute(matmul, st.stream(), 4, args), "dnnl_primitive_execute (matmul)");
    onednn_check(l.stream_wait(st.stream()), "dnnl_stream_wait");
  } catch (const std::exception&) {
    if (!running) return false;
    throw;
  }
  if (!direct)
    for (std::size_t i = 0; i < m; ++i) {
      const float* s = out + i * n;
      float* to = c.data + i * c.ld;
      if (beta == 0.0f)
        for (std::size_t j = 0; j < n; ++j) to[j] = s[j];
      else
        for (std::size_t j = 0; j < n; ++j) to[j] = s[j] + beta * to[j];
    }
  return true;
}

/// What runs bf16 products in this process: oneDNN (version, kernel, ISA), or the rounding path
/// and why.
inline std::string bf16_products_engine() { return onednn().engine; }

#else

inline bool onednn_bf16_gemm(matrix_ref<const float>, bool, matrix_ref<const float>, bool, matrix_ref<float>, float,
                             float, int) {
  return false;
}

inline std::string bf16_products_engine() {
#ifdef HAT_ONEDNN_HEADER_NOT_2
  return "operands rounded to bf16, OpenBLAS sgemm (built with oneDNN " + std::to_string(DNNL_VERSION_MAJOR) +
         "'s header: hat uses oneDNN 2.x's C API)";
#else
  return "operands rounded to bf16, OpenBLAS sgemm (built without oneDNN 2.x's header, libdnnl-dev)";
#endif
}

#endif

}  // namespace hat::detail
