#!/usr/bin/env bash
# Training throughput on 1 and 2 ranks of this machine, side by side: `hat train` on Multi30k
# (examples/configs/multi30k_tiny.yml, or CONFIG) as 1 rank x 1 thread, 1 rank x 2 threads and
# 2 ranks x 1 thread (mpirun), in turn, REPEATS times; target tokens per second of the updates
# after the first WARMUP, from each run's --log (rank 0's clock, which includes waiting for the
# all-reduce). Prints a Markdown table of medians and ratios, and the size of the gradient the
# ranks all-reduce per update. docs/distributed.md has the numbers.
#
#   benchmarks/distributed/train_scaling.sh HAT_EXE DATA_DIR [UPDATES=40] [REPEATS=3] [CONFIG]
set -euo pipefail
hat=$(realpath "$1") data=$(realpath "$2") updates=${3:-40} repeats=${4:-3}
here=$(cd "$(dirname "$0")" && pwd)
config=$(realpath "${5:-$here/../../examples/configs/multi30k_tiny.yml}")
warmup=5
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mpirun=(mpirun --oversubscribe --bind-to none)
[ "$(id -u)" -eq 0 ] && mpirun+=(--allow-run-as-root)
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
echo "CPU: $cpu ($(nproc) cores); OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; $updates updates per run, the first $warmup not counted; $repeats repeats"

# The subword model, learned once (a save folder that has one reuses it).
"$hat" train --config "$config" --data "$data" --save-dir "$work/bpe" --max-updates 0 >/dev/null 2>&1

run() {  # run NAME RANKS THREADS: prints tokens/s
  local name=$1 ranks=$2 threads=$3 dir="$work/$1"
  rm -rf "$dir" && mkdir -p "$dir" && cp "$work/bpe/subwords.model" "$dir/"
  local cmd=("$hat" train --config "$config" --data "$data" --save-dir "$dir" --max-updates "$updates" --threads "$threads"
             --log "$dir/log.jsonl")
  if [ "$ranks" -gt 1 ]; then "${mpirun[@]}" -np "$ranks" "${cmd[@]}" >"$dir/out" 2>&1; else "${cmd[@]}" >"$dir/out" 2>&1; fi
  python3 - "$dir/log.jsonl" "$warmup" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()][int(sys.argv[2]):]
print(sum(r["tokens"] for r in rows) / sum(r["seconds"] for r in rows))
EOF
}

declare -A rates
for rep in $(seq 1 "$repeats"); do
  for setting in "1x1 1 1" "1x2 1 2" "2x1 2 1"; do
    read -r name ranks threads <<<"$setting"
    rate=$(run "$name" "$ranks" "$threads")
    rates[$name]+="$rate "
    echo "repeat $rep: $ranks rank(s) x $threads thread(s): $rate target tokens/s" >&2
  done
done

sed -n 's/.*(an all-reduce of the \([0-9.]* MB\) gradient per update).*/gradient all-reduced per update: \1/p' "$work/2x1/out"
python3 - "${rates[1x1]}" "${rates[1x2]}" "${rates[2x1]}" <<'EOF'
import statistics, sys
one, threads, ranks = ([float(x) for x in a.split()] for a in sys.argv[1:4])
m1, mt, mr = statistics.median(one), statistics.median(threads), statistics.median(ranks)
print("| setting | target tokens/s (median) | runs | ratio to 1 rank x 1 thread |")
print("|---|---|---|---|")
for name, m, runs in [("1 rank x 1 thread", m1, one), ("1 rank x 2 threads", mt, threads), ("2 ranks x 1 thread (mpirun)", mr, ranks)]:
    print(f"| {name} | {m:.0f} | {', '.join(f'{x:.0f}' for x in runs)} | {m / m1:.2f}x |")
EOF
