// Must not compile: two dimensions share a name.
#include <hat/space/space.hpp>
using bad = hat::space<hat::choice<"width", 1, 2>, hat::choice<"width", 3>>;
int main() { return static_cast<int>(bad::gene_count); }
