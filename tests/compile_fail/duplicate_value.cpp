// Must not compile: a choice lists a value twice (uniform sampling would be skewed).
#include <hat/space/space.hpp>
using bad = hat::space<hat::choice<"width", 64, 32, 64>>;
int main() { return static_cast<int>(bad::gene_count); }
