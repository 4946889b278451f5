// Proves the Conan package: the core (space, YAML via yaml-cpp, profiler), the cpu component
// (xtensor-blas on OpenBLAS), the text component (SentencePiece) and the torch component (libzip)
// compile, link and run.
#include <hat/data/subword_model.hpp>
#include <hat/io/torch_file.hpp>
#include <hat/yaml/subtransformer.hpp>
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
  bool text_ok = false;
  try {
    (void)hat::subword_model::load("/dev/null");  // not a model: a clean error proves the link
  } catch (const hat::config_error&) {
    text_ok = true;
  }
  bool torch_ok = false;
  try {
    (void)hat::torch_file::from_bytes(std::string("PK\x03\x04not an archive"), "mem.pt");  // libzip refuses it
  } catch (const hat::config_error&) {
    torch_ok = true;
  }
  return back.same_network(a) && d == 22.0 && text_ok && torch_ok ? 0 : 1;
}
