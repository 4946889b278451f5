// Must not compile: a per-layer dimension read without a layer index.
#include <hat/space/arch.hpp>
using s = hat::space<hat::choice<"depth", 2, 1>, hat::per_layer<2, hat::choice<"kernel", 3, 5>, "depth">>;
int main() { return hat::arch<s>{}.get<"kernel">(); }
