// Must not compile: a choice with no values.
#include <hat/space/space.hpp>
using bad = hat::space<hat::choice<"width">>;
int main() { return static_cast<int>(bad::gene_count); }
