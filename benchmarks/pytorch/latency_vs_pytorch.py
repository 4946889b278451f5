#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""hat vs PyTorch on HAT's latency protocol, side by side in one run: for each thread count and
config, `hat latency --json` and hat_latency.py (PyTorch at its best) alternate for R rounds in
fresh processes with the same environment (so the same OPENBLAS_CORETYPE); medians and the
ratio are printed as a Markdown table.

Threads: hat gets `--threads T` (OpenBLAS's threads). PyTorch gets T threads in the better of
two placements, tried every round: T intra-op threads with OpenBLAS at 1, or 1 intra-op thread
with OpenBLAS at T (both at T, OpenBLAS's and PyTorch's pools oversubscribe T cores and PyTorch
runs several times slower: that is not PyTorch at its best).

--precision P runs hat on P weights (`hat latency --precision`); --quantize int8 runs PyTorch's
dynamic int8 quantisation of the same model (hat_latency.py --quantize int8), the peer of
`--precision int8`.

  OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 benchmarks/pytorch/latency_vs_pytorch.py \
      --hat build/examples/hat [--threads 1 2] [--rounds 3] [--iters 10] [--device cuda] \
      [--precision fp32|bf16|int8] [--quantize none|int8] [FILE.yml ... | max]
"""
import argparse
import glob
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DIR = os.path.join(HERE, "..", "..", "..", "shared", "reference", "hat-configs", "wmt14.en-de", "subtransformer")


def run(cmd, env):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--hat", required=True)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--device", default="cpu", help="cpu, or cuda: both engines on the first GPU (CUDA events)")
    p.add_argument("--configs", default=DEFAULT_DIR, help="folder of HAT's WMT'14 En-De SubTransformer YAMLs")
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "int8"], help="hat's weights")
    p.add_argument("--quantize", default="none", choices=["none", "int8"], help="PyTorch's: int8 dynamic quantisation")
    p.add_argument("files", nargs="*")
    a = p.parse_args()
    released = "*titanxp*.yml" if a.device == "cuda" else "*xeon*.yml"
    files = a.files or sorted(glob.glob(os.path.join(a.configs, released))) + ["max"]
    if a.device == "cuda":
        a.threads = [1]  # host threads do not matter on the GPU
    env = dict(os.environ)
    print("device %s, OPENBLAS_CORETYPE=%s; WMT'14 En-De, |V| = 32768, beam 5, L = 30; medians of %d rounds x %d timed runs;"
          " hat %s, PyTorch %s" % (a.device, env.get("OPENBLAS_CORETYPE", "unset"), a.rounds, a.iters, a.precision,
                                   "fp32" if a.quantize == "none" else "dynamic int8"))
    print()
    print("| threads | config | hat enc | hat dec | hat total | PyTorch enc | PyTorch dec | PyTorch total | speed-up |")
    print("|---|---|---|---|---|---|---|---|---|")
    for t in a.threads:
        for f in files:
            hat_rows, torch_rows = [], []
            for _ in range(a.rounds):
                hat_rows.append(run([a.hat, "latency", "--task", "wmt14.en-de", "--json", "--threads", str(t), "--device",
                                     a.device, "--iters", str(a.iters), "--precision", a.precision] +
                                    (["--space-max"] if f == "max" else [f]), env))
                tries = []
                for torch_threads, blas_threads in ([(1, 1)] if t == 1 else [(t, 1), (1, t)]):
                    e2 = dict(env, OPENBLAS_NUM_THREADS=str(blas_threads))
                    tries.append(run([sys.executable, os.path.join(HERE, "hat_latency.py"), "--threads",
                                      str(torch_threads), "--device", a.device, "--iters", str(a.iters),
                                      "--quantize", a.quantize, f], e2))
                torch_rows.append(min(tries, key=lambda r: r["total_ms"]))
            med = lambda rows, k: statistics.median(r[k] for r in rows)
            name = "space0 max" if f == "max" else os.path.splitext(os.path.basename(f))[0]
            print("| %d | %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.2fx |" % (
                t, name, med(hat_rows, "encoder_ms"), med(hat_rows, "decoder_ms"), med(hat_rows, "total_ms"),
                med(torch_rows, "encoder_ms"), med(torch_rows, "decoder_ms"), med(torch_rows, "total_ms"),
                med(torch_rows, "total_ms") / med(hat_rows, "total_ms")))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
