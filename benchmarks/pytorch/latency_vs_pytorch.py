#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""hat vs PyTorch (or CTranslate2) on HAT's latency protocol, side by side in one run: for each
thread count and config, `hat latency --json` and hat_latency.py (PyTorch at its best) alternate for R rounds in
fresh processes with the same environment (so the same OPENBLAS_CORETYPE); medians and the
ratio are printed as a Markdown table.

Threads: hat gets `--threads T` (OpenBLAS's threads). PyTorch gets T threads in the better of
two placements, tried every round: T intra-op threads with OpenBLAS at 1, or 1 intra-op thread
with OpenBLAS at T (both at T, OpenBLAS's and PyTorch's pools oversubscribe T cores and PyTorch
runs several times slower: that is not PyTorch at its best).

--precision P runs hat on P weights (`hat latency --precision`); --quantize int8 runs PyTorch's
dynamic int8 quantisation of the same model (hat_latency.py --quantize int8), the peer of
`--precision int8`.

--peer ctranslate2 runs CTranslate2 instead of PyTorch (benchmarks/ctranslate2/ct2_latency.py,
under --peer-python, the interpreter of a virtual environment with the pip packages ctranslate2
and numpy): float32, or int8 with --quantize int8; the better of T intra-op threads and one, tried
every round. Its encoder column is an estimate (ct2_latency.py says how); the totals are measured.

  OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 benchmarks/pytorch/latency_vs_pytorch.py \
      --hat build/examples/hat [--threads 1 2] [--rounds 3] [--iters 10] [--device cuda] \
      [--precision fp32|bf16|int8] [--quantize none|int8] [--peer pytorch|ctranslate2 --peer-python PY]
      [FILE.yml ... | max]
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
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit("%s failed (exit %d):\n%s" % (" ".join(cmd), r.returncode, r.stderr.strip()))
    return json.loads(r.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--hat", required=True)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--device", default="cpu", help="cpu, or cuda: both engines on the first GPU (CUDA events)")
    p.add_argument("--configs", default=DEFAULT_DIR, help="folder of HAT's WMT'14 En-De SubTransformer YAMLs")
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "int8"], help="hat's weights")
    p.add_argument("--quantize", default="none", choices=["none", "int8"],
                   help="the peer's int8: PyTorch's dynamic quantisation, CTranslate2's int8")
    p.add_argument("--peer", default="pytorch", choices=["pytorch", "ctranslate2"], help="the engine hat runs against")
    p.add_argument("--peer-python", default=sys.executable,
                   help="the peer script's interpreter (ctranslate2: its virtual environment's python)")
    p.add_argument("files", nargs="*")
    a = p.parse_args()
    if a.peer == "ctranslate2" and a.device != "cpu":
        p.error("--peer ctranslate2: CPU only here")
    peer = "PyTorch" if a.peer == "pytorch" else "CTranslate2"
    released = "*titanxp*.yml" if a.device == "cuda" else "*xeon*.yml"
    files = a.files or sorted(glob.glob(os.path.join(a.configs, released))) + ["max"]
    if a.device == "cuda":
        a.threads = [1]  # host threads do not matter on the GPU
    env = dict(os.environ)
    print("device %s, OPENBLAS_CORETYPE=%s; WMT'14 En-De, |V| = 32768, beam 5, L = 30; medians of %d rounds x %d timed runs;"
          " hat %s, %s %s" % (a.device, env.get("OPENBLAS_CORETYPE", "unset"), a.rounds, a.iters, a.precision, peer,
                              ("fp32" if a.quantize == "none" else "dynamic int8") if a.peer == "pytorch" else
                              ("float32" if a.quantize == "none" else "int8")))
    print()
    print("| threads | config | hat enc | hat dec | hat total | %s enc | %s dec | %s total | speed-up |" % ((peer,) * 3))
    print("|---|---|---|---|---|---|---|---|---|")
    for t in a.threads:
        for f in files:
            hat_rows, peer_rows = [], []
            for _ in range(a.rounds):
                hat_rows.append(run([a.hat, "latency", "--task", "wmt14.en-de", "--json", "--threads", str(t), "--device",
                                     a.device, "--iters", str(a.iters), "--precision", a.precision] +
                                    (["--space-max"] if f == "max" else [f]), env))
                if a.peer == "ctranslate2":
                    # The better of T intra-op threads and one: on a 2-core machine CTranslate2's
                    # two threads measured slower than its one.
                    peer_rows.append(min((run([a.peer_python, os.path.join(HERE, "..", "ctranslate2", "ct2_latency.py"),
                                                "--threads", str(ct2_threads), "--iters", str(a.iters), "--compute-type",
                                                "float32" if a.quantize == "none" else "int8", f], env)
                                           for ct2_threads in sorted({t, 1})), key=lambda r: r["total_ms"]))
                    continue
                tries = []
                for torch_threads, blas_threads in ([(1, 1)] if t == 1 else [(t, 1), (1, t)]):
                    e2 = dict(env, OPENBLAS_NUM_THREADS=str(blas_threads))
                    tries.append(run([a.peer_python, os.path.join(HERE, "hat_latency.py"), "--threads",
                                      str(torch_threads), "--device", a.device, "--iters", str(a.iters),
                                      "--quantize", a.quantize, f], e2))
                peer_rows.append(min(tries, key=lambda r: r["total_ms"]))
            med = lambda rows, k: statistics.median(r[k] for r in rows)
            name = "space0 max" if f == "max" else os.path.splitext(os.path.basename(f))[0]
            print("| %d | %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.2fx |" % (
                t, name, med(hat_rows, "encoder_ms"), med(hat_rows, "decoder_ms"), med(hat_rows, "total_ms"),
                med(peer_rows, "encoder_ms"), med(peer_rows, "decoder_ms"), med(peer_rows, "total_ms"),
                med(peer_rows, "total_ms") / med(hat_rows, "total_ms")))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
