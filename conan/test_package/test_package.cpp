// Proves the Conan package: the core (space, YAML via yaml-cpp, profiler) and the cpu
// component (xtensor-blas on OpenBLAS) compile, link and run.
#include <hat/io/subtransformer_yaml.hpp>
#include <hat/profile/params.hpp>
#include <hat/space/hat_spaces.hpp>
#include <iostream>
#include <xtensor-blas/xlinalg.hpp>
#include <xtensor/xtensor.hpp>

int main() {
  const auto a = hat::arch<hat::hat_wmt_space>::smallest();
  const auto back = hat::parse_subtransformer_yaml<hat::hat_wmt_space>(hat::to_subtransformer_yaml(a), "mem.yml");
  xt::xtensor<double, 2> m = {{1, 2}, {3, 4}};
  const double d = xt::linalg::dot(m, m)(1, 1);
  std::cout << "hat conan package: params(smallest) = " << hat::params(back) << ", blas dot = " << d << "\n";
  return back.same_network(a) && d == 22.0 ? 0 : 1;
}
