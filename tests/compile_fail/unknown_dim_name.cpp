// Must not compile: looking up a dimension the space does not have.
#include <hat/space/space.hpp>
using s = hat::space<hat::choice<"width", 1, 2>>;
int main() { return s::max<"depth">(); }
