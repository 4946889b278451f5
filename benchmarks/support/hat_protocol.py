# SPDX-License-Identifier: MIT
"""What the peer-engine scripts (benchmarks/pytorch/hat_latency.py,
benchmarks/ctranslate2/ct2_latency.py) share of HAT's latency protocol, with no dependency
beyond Python, so that either interpreter (Debian's with torch, a virtual environment with
ctranslate2) can import it."""
import sys


def trimmed(ms):
    """HAT's trimmed mean (latency_dataset.py): drop the fastest and the slowest 10 % of the
    timings, at least one slowest."""
    ms = sorted(ms)
    n = len(ms)
    low, high = n // 10, max(1, n // 10)
    if low + high >= n:
        high = n - low - 1
    kept = ms[low:n - high]
    return sum(kept) / len(kept)


def read_yaml(path):
    """HAT's SubTransformer YAML: its `*-subtransformer` keys, integers or [a, b, ...] lists, one
    entry per layer. Errors name the file and the key."""
    cfg = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if ":" not in line:
                continue
            k, v = (s.strip() for s in line.split(":", 1))
            if not k.endswith("-subtransformer"):
                continue
            try:
                cfg[k] = [int(x) for x in v.strip("[]").split(",")] if v.startswith("[") else int(v)
            except ValueError:
                sys.exit("%s:%d: key '%s': not an integer or a list of integers: %s" % (path, n, k, v))

    def get(name, layers=None):
        key = name + "-subtransformer"
        if key not in cfg:
            sys.exit("%s: no key '%s' (a HAT SubTransformer YAML?)" % (path, key))
        v = cfg[key]
        if layers is None:
            return v
        v = v if isinstance(v, list) else [v]
        if len(v) < layers:
            sys.exit("%s: key '%s' has %d entries for %d layers" % (path, key, len(v), layers))
        return v[:layers]  # HAT's YAMLs list all six; the first `layers` are used

    enc, dec = get("encoder-layer-num"), get("decoder-layer-num")
    return dict(enc_dim=get("encoder-embed-dim"), dec_dim=get("decoder-embed-dim"), enc_layers=enc, dec_layers=dec,
                enc_ffn=get("encoder-ffn-embed-dim-all", enc), enc_heads=get("encoder-self-attention-heads-all", enc),
                dec_ffn=get("decoder-ffn-embed-dim-all", dec), dec_self=get("decoder-self-attention-heads-all", dec),
                dec_ende=get("decoder-ende-attention-heads-all", dec),
                arb=get("decoder-arbitrary-ende-attn-all", dec))


# HAT space0's largest SubTransformer (the scripts' file name `max`).
SPACE0_MAX = dict(enc_dim=640, dec_dim=640, enc_layers=6, dec_layers=6, enc_ffn=[3072] * 6, enc_heads=[8] * 6,
                  dec_ffn=[3072] * 6, dec_self=[8] * 6, dec_ende=[8] * 6, arb=[2] * 6)
