// Must not compile: a layer instantiated with a type that is not a backend_policy (it has no gemm).
#include <hat/nn/elastic_linear.hpp>
#include <vector>
struct not_a_backend {
  template <class T>
  using buffer = std::vector<T>;
  void synchronize() {}
};
int main() { return static_cast<int>(hat::elastic_linear<4, 4, not_a_backend>::param_count); }
