# SPDX-License-Identifier: MIT
"""What the peer-engine scripts (benchmarks/pytorch/hat_latency.py,
benchmarks/ctranslate2/ct2_latency.py) share of HAT's latency protocol, with no dependency
beyond Python, so that either interpreter (Debian's with torch, a virtual environment with
ctranslate2) can import it."""


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
