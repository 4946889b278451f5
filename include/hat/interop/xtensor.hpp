// SPDX-License-Identifier: MIT
// xtensor faces of hat::cpu data: zero-copy views of matrices, encoder outputs and parameters, parameters set from
// xtensor expressions, and latency datasets and predictor features as xtensor containers (opt-in).
#pragma once

// Compile cost: nothing beyond backend/cpu.hpp, which already includes xtensor through
// xtensor-blas; a TU without the CPU backend pays ~1.5 s for xtensor (docs/performance.md).
#include <algorithm>  // std::equal
#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include <xtensor/xadapt.hpp>
#include <xtensor/xtensor.hpp>

#include <hat/backend/cpu.hpp>
#include <hat/config.hpp>
#include <hat/io/latency_csv.hpp>
#include <hat/nn/super_transformer.hpp>
#include <hat/space/encode.hpp>

namespace hat {

/// A [rows, cols] xtensor view of a CPU matrix with its row stride (an elastic slice stays a
/// slice): no copy, and writes go through unless T is const. The view must not outlive the
/// memory (a model's arena, a workspace).
template <class T>
auto as_xtensor(matrix_ref<T> m) {
  // The size is the shape's element count: xtensor 0.24 checks an adapted buffer's size against
  // the shape, not against the span the strides reach (it refuses (rows - 1) ld + cols).
  return xt::adapt(m.data, m.rows * m.cols, xt::no_ownership(),
                   std::array<std::size_t, 2>{m.rows, m.cols}, std::array<std::size_t, 2>{m.ld, 1});
}

/// Encoder layer l's output [batch time, d] as an xtensor view (identity layers give the last
/// active output, as encoder_output::out does).
template <class T>
auto as_xtensor(const encoder_output<cpu, T>& enc, std::size_t l) {
  return as_xtensor(enc.out(l));
}

/// A parameter of a CPU model by its fairseq name, as a view in PyTorch's shape: no copy. A
/// matrix stored in column panels (a SuperTransformer's weights, so that every elastic width
/// is a contiguous corner) has no single strided view: that is a config_error naming it, and
/// parameter_xarray() copies it instead.
template <class M, class T>
auto parameter_xtensor(super_transformer<M, cpu, T>& model, const std::string& name) {
  const parameter_info& p = model.parameter(name);
  if (!p.panels.empty())
    throw config_error("parameter_xtensor: '" + name + "' is stored in " + std::to_string(p.panels.size()) +
                       " column panels; use parameter_xarray (a copy) for it");
  std::vector<std::size_t> shape(p.shape.begin(), p.shape.end());
  return xt::adapt(model.data() + p.offset, p.size(), xt::no_ownership(), shape);
}

/// A parameter of any model in PyTorch's layout and shape, as an owning xt::xarray (a copy).
template <class M, class Backend, class T>
xt::xarray<T> parameter_xarray(Backend& be, const super_transformer<M, Backend, T>& model, const std::string& name) {
  const parameter_info& p = model.parameter(name);
  std::vector<std::size_t> shape(p.shape.begin(), p.shape.end());
  return xt::adapt(model.parameter_values(be, name), shape);
}

/// Sets a parameter from an xtensor expression of exactly its shape (PyTorch's layout),
/// wherever its panels put the values. Another shape is a config_error naming both.
template <class M, class Backend, class T, class E>
void set_parameter(Backend& be, super_transformer<M, Backend, T>& model, const std::string& name,
                   const xt::xexpression<E>& values) {
  const parameter_info& p = model.parameter(name);
  const xt::xarray<T> v = values.derived_cast();  // evaluated, row-major and contiguous
  const auto& given = v.shape();
  if (!std::equal(given.begin(), given.end(), p.shape.begin(), p.shape.end())) {
    const auto text = [](const auto& s) {
      std::string t = "[";
      for (std::size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
      return t + "]";
    };
    throw config_error("set_parameter: '" + name + "' has shape " + text(p.shape) + ", not " + text(given));
  }
  model.set_parameter(be, name, std::span<const T>(v.data(), v.size()));
}

/// A latency dataset's HAT features [rows, 10] (raw, as in the CSV) and total latencies
/// [rows] in ms, as xtensor containers (copies: the table holds one struct per row).
inline xt::xtensor<double, 2> latency_features(const latency_table& t) {
  xt::xtensor<double, 2> f = xt::zeros<double>({t.rows.size(), std::size_t{10}});
  for (std::size_t r = 0; r < t.rows.size(); ++r)
    for (std::size_t j = 0; j < 10; ++j) f(r, j) = t.rows[r].features[j];
  return f;
}
inline xt::xtensor<double, 1> latency_totals(const latency_table& t) {
  xt::xtensor<double, 1> y = xt::zeros<double>({t.rows.size()});
  for (std::size_t r = 0; r < t.rows.size(); ++r) y(r) = t.rows[r].total_ms();
  return y;
}

/// The predictor's input for one architecture (HAT's 10 features over HAT's maxima), [10].
template <transformer_space S>
xt::xtensor<double, 1> predictor_features(const arch<S>& a) {
  const auto f = hat_normalized_features(a);
  return xt::adapt(std::vector<double>(f.begin(), f.end()), std::vector<std::size_t>{f.size()});
}

}  // namespace hat
