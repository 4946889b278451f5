// Must not compile: 6 per-layer FFN genes, but the encoder has at most 4 layers.
#include <hat/space/space.hpp>
using bad = hat::space<hat::choice<"encoder_layer_num", 4, 2>,
                       hat::per_layer<6, hat::choice<"encoder_ffn_embed_dim", 1024, 512>>>;
int main() { return static_cast<int>(bad::gene_count); }
