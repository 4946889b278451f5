#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""hat vs PyTorch training speed on Multi30k, side by side in one run: the same SubTransformer of
the multi30k space, the same batches (table_cpu_train_speed --dump writes them, torch_train.py
reads them), the same dropout, loss and optimiser, the same threads. For R rounds the two
alternate in fresh processes with the same environment (so the same OPENBLAS_CORETYPE); the
medians of target tokens per second and their ratio are printed as a Markdown table.

Threads: hat gets --threads T (OpenBLAS's). PyTorch gets T threads in the better of two
placements, tried every round: T intra-op threads with OpenBLAS at 1, or 1 intra-op thread with
OpenBLAS at T.

Precision: --precision lists hat's products (fp32, bf16: `hat train --precision bf16`, on oneDNN
where it loads); every hat row is compared with PyTorch fp32 and, with --torch-bf16, with PyTorch's
bf16 autocast too, each run in the same rounds.

  OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 benchmarks/pytorch/train_vs_pytorch.py \\
      --bench build/benchmarks/table_cpu_train_speed --data ../shared/corpora/multi30k \\
      [--threads 1 2] [--rounds 3] [--updates 20] [--arch largest smallest] [--precision fp32 bf16] [--torch-bf16]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd, env):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bench", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--updates", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--max-tokens", type=int, default=2048)
    p.add_argument("--arch", nargs="+", default=["largest"])
    p.add_argument("--precision", nargs="+", default=["fp32"], choices=["fp32", "bf16"])
    p.add_argument("--torch-bf16", action="store_true", help="also time PyTorch under bf16 autocast")
    a = p.parse_args()
    env = dict(os.environ)
    work = tempfile.mkdtemp(prefix="hat_train_bench_")
    bpe = os.path.join(work, "m30k.model")
    print("OPENBLAS_CORETYPE=%s; Multi30k de-en, joint BPE 8000, %d-token batches, dropout 0.1, attention dropout 0.1; "
          "medians of %d rounds x %d updates (after %d warm-up updates)"
          % (env.get("OPENBLAS_CORETYPE", "unset"), a.max_tokens, a.rounds, a.updates, a.warmup))
    torch_precisions = ["fp32"] + (["bf16"] if a.torch_bf16 else [])
    print()
    print("| threads | SubTransformer | hat products | hat tokens/s | " +
          " | ".join("PyTorch %s tokens/s | speed-up" % ("fp32" if p == "fp32" else "bf16 autocast") for p in torch_precisions) +
          " |")
    print("|---|---|---|---|" + "---|---|" * len(torch_precisions))
    engines = set()
    for arch in a.arch:
        batches = os.path.join(work, "batches_%s.txt" % arch)
        for t in a.threads:
            hat_rows = {p: [] for p in a.precision}
            torch_rows = {p: [] for p in torch_precisions}
            for r in range(a.rounds):
                for i, prec in enumerate(a.precision):
                    cmd = [a.bench, a.data, "--arch", arch, "--updates", str(a.updates), "--warmup", str(a.warmup),
                           "--max-tokens", str(a.max_tokens), "--threads", str(t), "--bpe", bpe, "--precision", prec]
                    if r == 0 and i == 0:
                        cmd += ["--dump", batches]
                    hat_rows[prec].append(run(cmd, env))
                    if prec == "bf16":
                        engines.add(hat_rows[prec][-1].get("bf16_engine", "?"))
                for prec in torch_precisions:
                    tries = []
                    for torch_threads, blas_threads in ([(1, 1)] if t == 1 else [(t, 1), (1, t)]):
                        e2 = dict(env, OPENBLAS_NUM_THREADS=str(blas_threads))
                        tries.append(run([sys.executable, os.path.join(HERE, "torch_train.py"), "--batches", batches, "--arch",
                                          arch, "--threads", str(torch_threads), "--warmup", str(a.warmup),
                                          "--precision", prec], e2))
                    torch_rows[prec].append(max(tries, key=lambda x: x["tokens_per_s"]))
            for prec in a.precision:
                h = statistics.median(x["tokens_per_s"] for x in hat_rows[prec])
                cells = []
                for tp in torch_precisions:
                    q = statistics.median(x["tokens_per_s"] for x in torch_rows[tp])
                    ratios = [x["tokens_per_s"] / y["tokens_per_s"] for x, y in zip(hat_rows[prec], torch_rows[tp])]
                    cells.append("%.0f | %.2fx (rounds %s)" % (q, h / q, " ".join("%.2f" % x for x in ratios)))
                print("| %d | %s | %s | %.0f | %s |" % (t, arch, prec, h, " | ".join(cells)))
                sys.stdout.flush()
    for e in sorted(engines):
        print("\nhat's bf16 products: %s" % e)

if __name__ == "__main__":
    main()
