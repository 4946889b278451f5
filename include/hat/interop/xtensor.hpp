// SPDX-License-Identifier: MIT
// xtensor faces of hat::cpu data: zero-copy views of matrices, encoder outputs and parameters, parameters set from
// xtensor expressions, and latency datasets and predictor features as xtensor containers (opt-in).
#pragma once

// Compile cost: nothing beyond backend/cpu.hpp, which already includes xtensor through
// xtensor-blas; a TU without the CPU backend pays ~1.5 s for xtensor (docs/performance.md).
#include <algorithm>  // std::equal
#include <array>
#include <cmath>  // std::isfinite
#include <limits>
#include <tuple>  // std::get
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include <xtensor-blas/xlinalg.hpp>
#include <xtensor/xadapt.hpp>
#include <xtensor/xtensor.hpp>

#include <hat/backend/cpu.hpp>
#include <hat/config.hpp>
#include <hat/io/latency_csv.hpp>
#include <hat/nn/super_transformer.hpp>
#include <hat/predictor/latency_predictor.hpp>
#include <hat/predictor/linear_model.hpp>
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

/// A least_squares_solver through LAPACK (xt::linalg::lstsq, which calls gelsd: an SVD, so a
/// rank-deficient design gets the minimum-norm solution without a ridge term). a: [n, cols]
/// row-major, y: [n], n >= 1; every value finite.
inline std::vector<double> lapack_least_squares(std::span<const double> a, std::span<const double> y, std::size_t cols) {
  if (cols == 0 || y.empty() || a.size() != y.size() * cols)
    throw config_error("lapack_least_squares: the design matrix must be [n, cols] with n = " + std::to_string(y.size()) +
                       " > 0 latencies and cols = " + std::to_string(cols) + " > 0, not " + std::to_string(a.size()) +
                       " values");
  for (double v : a)
    if (!std::isfinite(v)) throw config_error("lapack_least_squares: a feature is not finite");
  for (double v : y)
    if (!std::isfinite(v)) throw config_error("lapack_least_squares: a latency is not finite");
  // lstsq copies both into LAPACK's column-major order itself: adapt, do not copy. Singular
  // values below eps max(n, cols) of the largest count as zero (numpy.linalg.lstsq's default),
  // so exactly collinear features are treated as such despite rounding.
  const auto am = xt::adapt(a.data(), a.size(), xt::no_ownership(), std::array<std::size_t, 2>{y.size(), cols});
  const auto ym = xt::adapt(y.data(), y.size(), xt::no_ownership(), std::array<std::size_t, 1>{y.size()});
  const double rcond = std::numeric_limits<double>::epsilon() * static_cast<double>(std::max(y.size(), cols));
  const auto solution = xt::linalg::lstsq(am, ym, rcond);
  const auto& x = std::get<0>(solution);
  return std::vector<double>(x.begin(), x.end());
}

namespace detail {
inline std::string shape_text(std::size_t rows, std::size_t cols) {
  std::string s(1, '[');  // appended, not "[" + ...: GCC 12 warns falsely (stringop-overflow) on that
  s.append(std::to_string(rows)).append(", ").append(std::to_string(cols)).push_back(']');
  return s;
}
}  // namespace detail

/// Trains a latency predictor on raw features x [n, In] and measured total latencies ms [n]
/// in milliseconds, given as xtensor expressions (a latency_features() table, a slice of one,
/// features of the user's own). Other shapes are a config_error naming them.
template <backend_policy Backend, std::size_t Hidden, std::size_t Layers, std::size_t In, class EX, class EY,
          class Progress = std::nullptr_t>
void fit_predictor(latency_predictor<Backend, Hidden, Layers, In>& p, const xt::xexpression<EX>& x,
                   const xt::xexpression<EY>& ms, const predictor_train_options& o, Progress&& on_step = nullptr) {
  const xt::xtensor<double, 2> xs = x.derived_cast();
  const xt::xtensor<double, 1> ys = ms.derived_cast();
  if (xs.shape()[1] != In)
    throw config_error("fit_predictor: features must be [n, " + std::to_string(In) + "], not " +
                       detail::shape_text(xs.shape()[0], xs.shape()[1]));
  if (ys.size() != xs.shape()[0])
    throw config_error("fit_predictor: " + std::to_string(xs.shape()[0]) + " feature rows but " + std::to_string(ys.size()) +
                       " latencies");
  std::vector<std::array<double, In>> rows(xs.shape()[0]);
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (std::size_t i = 0; i < In; ++i) rows[r][i] = xs(r, i);
  p.fit(std::span<const std::array<double, In>>(rows), std::span<const double>(ys.data(), ys.size()), o,
        std::forward<Progress>(on_step));
}

/// Predicted total latencies [n] (ms) of raw features x [n, In].
template <backend_policy Backend, std::size_t Hidden, std::size_t Layers, std::size_t In, class EX>
xt::xtensor<double, 1> predict_latencies(latency_predictor<Backend, Hidden, Layers, In>& p, const xt::xexpression<EX>& x) {
  const xt::xtensor<double, 2> xs = x.derived_cast();
  if (xs.shape()[1] != In)
    throw config_error("predict_latencies: features must be [n, " + std::to_string(In) + "], not " +
                       detail::shape_text(xs.shape()[0], xs.shape()[1]));
  std::vector<std::array<double, In>> rows(xs.shape()[0]);
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (std::size_t i = 0; i < In; ++i) rows[r][i] = xs(r, i);
  const std::vector<double> out = p.predict_ms(rows);
  return xt::adapt(out, std::array<std::size_t, 1>{out.size()});
}

}  // namespace hat
