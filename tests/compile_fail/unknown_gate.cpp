// Must not compile: a per_layer dimension gated by a dimension that does not exist.
#include <hat/space/space.hpp>
using bad = hat::space<hat::choice<"depth", 2, 1>, hat::per_layer<2, hat::choice<"kernel", 3, 5>, "stages">>;
int main() { return static_cast<int>(bad::gene_count); }
