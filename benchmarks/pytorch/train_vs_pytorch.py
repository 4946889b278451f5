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

  OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 benchmarks/pytorch/train_vs_pytorch.py \\
      --bench build/benchmarks/table_cpu_train_speed --data ../shared/corpora/multi30k \\
      [--threads 1 2] [--rounds 3] [--updates 20] [--arch largest smallest]
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
    a = p.parse_args()
    env = dict(os.environ)
    work = tempfile.mkdtemp(prefix="hat_train_bench_")
    bpe = os.path.join(work, "m30k.model")
    print("OPENBLAS_CORETYPE=%s; Multi30k de-en, joint BPE 8000, %d-token batches, dropout 0.1, attention dropout 0.1; "
          "medians of %d rounds x %d updates (after %d warm-up updates)"
          % (env.get("OPENBLAS_CORETYPE", "unset"), a.max_tokens, a.rounds, a.updates, a.warmup))
    print()
    print("| threads | SubTransformer | hat tokens/s | PyTorch tokens/s | speed-up |")
    print("|---|---|---|---|---|")
    for arch in a.arch:
        batches = os.path.join(work, "batches_%s.txt" % arch)
        for t in a.threads:
            hat_rows, torch_rows = [], []
            for r in range(a.rounds):
                cmd = [a.bench, a.data, "--arch", arch, "--updates", str(a.updates), "--warmup", str(a.warmup),
                       "--max-tokens", str(a.max_tokens), "--threads", str(t), "--bpe", bpe]
                if r == 0:
                    cmd += ["--dump", batches]
                hat_rows.append(run(cmd, env))
                tries = []
                for torch_threads, blas_threads in ([(1, 1)] if t == 1 else [(t, 1), (1, t)]):
                    e2 = dict(env, OPENBLAS_NUM_THREADS=str(blas_threads))
                    tries.append(run([sys.executable, os.path.join(HERE, "torch_train.py"), "--batches", batches, "--arch",
                                      arch, "--threads", str(torch_threads), "--warmup", str(a.warmup)], e2))
                torch_rows.append(max(tries, key=lambda x: x["tokens_per_s"]))
            h = statistics.median(x["tokens_per_s"] for x in hat_rows)
            q = statistics.median(x["tokens_per_s"] for x in torch_rows)
            ratios = [x["tokens_per_s"] / y["tokens_per_s"] for x, y in zip(hat_rows, torch_rows)]
            print("| %d | %s | %.0f | %.0f | %.2fx (rounds %s) |" % (t, arch, h, q, h / q, " ".join("%.2f" % x for x in ratios)))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
