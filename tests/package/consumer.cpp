// A consumer of the installed (or add_subdirectory'd) package: declares a space, reads nothing,
// profiles the largest architecture. With HAT_CONSUMER_CPU it also uses the cpu component's BLAS,
// with HAT_CONSUMER_TEXT the text component's SentencePiece, with HAT_CONSUMER_TORCH the torch
// component's libzip, with HAT_CONSUMER_NCCL the nccl component's run-time loading of NCCL.
#include <hat/profile/params.hpp>
#include <hat/space/hat_spaces.hpp>
#include <iostream>

#ifdef HAT_CONSUMER_CPU
#include <xtensor-blas/xlinalg.hpp>
#include <xtensor/xtensor.hpp>
#endif
#ifdef HAT_CONSUMER_TEXT
#include <hat/data/subword_model.hpp>
#endif
#ifdef HAT_CONSUMER_TORCH
#include <hat/io/torch_file.hpp>
#endif
#ifdef HAT_CONSUMER_NCCL
#include <hat/backend/cuda/nccl.hpp>
#endif

using my_space = hat::space<hat::choice<"width", 32, 16>, hat::choice<"depth", 2, 1>,
                            hat::per_layer<2, hat::choice<"kernel", 3, 5>, "depth">>;

int main() {
  static_assert(my_space::max<"width">() == 32);
  hat::rng g(1);
  const auto a = hat::arch<my_space>::sample(g);
  std::cout << "consumer: " << a << " params(largest wmt) = "
            << hat::params(hat::arch<hat::hat_wmt_space>::largest()) << "\n";
#ifdef HAT_CONSUMER_CPU
  xt::xtensor<double, 2> m = {{1, 2}, {3, 4}};
  std::cout << "consumer: blas dot = " << xt::linalg::dot(m, m)(1, 1) << "\n";  // 3*2 + 4*4 = 22
#endif
#ifdef HAT_CONSUMER_TEXT
  try {  // links SentencePiece: loading a file that is not a model must fail cleanly
    (void)hat::subword_model::load("/dev/null");
    return 1;
  } catch (const hat::config_error& e) {
    std::cout << "consumer: text component links (" << e.what() << ")\n";
  }
#endif
#ifdef HAT_CONSUMER_TORCH
  try {  // links libzip: a zip header on bytes that are no archive must fail cleanly
    (void)hat::torch_file::from_bytes(std::string("PK\x03\x04not an archive"), "mem.pt");
    return 1;
  } catch (const hat::config_error& e) {
    std::cout << "consumer: torch component links (" << e.what() << ")\n";
  }
#endif
#ifdef HAT_CONSUMER_NCCL
  try {  // NCCL is loaded at run time: a version where the loader finds it, a clear error where not
    std::cout << "consumer: nccl component loads NCCL " << hat::nccl_version() << "\n";
  } catch (const hat::nccl_error& e) {
    std::cout << "consumer: nccl component builds (" << e.what() << ")\n";
  }
#endif
  return 0;
}
