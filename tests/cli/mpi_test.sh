#!/usr/bin/env bash
# `mpirun -np 2 hat train`: data-parallel training against one process, resuming on another number
# of ranks, a rank killed mid-run, and refused inputs (docs/distributed.md).
# Usage: mpi_test.sh HAT_EXE MPIEXEC WORK_DIR WITH_MPI   (exit 77: skipped, no MPI here)
set -u
hat=$1 mpiexec=$2 work=$3 with_mpi=$4
if [ "$with_mpi" != "ON" ] || [ ! -x "$mpiexec" ]; then
  echo "skipped: hat was built without MPI, or no mpiexec"; exit 77
fi
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
fails=0 passes=0
check() {  # check "description" command...: the command must succeed
  local what=$1; shift
  if "$@"; then passes=$((passes + 1)); else echo "FAILED: $what"; fails=$((fails + 1)); fi
}
# Two ranks on this machine whatever its cores, as root in a container too.
run2() { "$mpiexec" --allow-run-as-root --oversubscribe --timeout 300 -np 2 "$@"; }  # a hang fails, not waits

# The built-in number-words corpus and its training config; 8 updates, saved every 4.
"$hat" demo --quick --run-dir demo >/dev/null 2>&1 || { echo "FAILED: hat demo --quick"; exit 1; }
sed 's/^update-freq: .*/update-freq: 2/; s/^max-update: .*/max-update: 8/; s/^validate-interval-updates: .*/validate-interval-updates: 4/; s/^save-interval-updates: .*/save-interval-updates: 4/' \
  demo/config/training.yml >uf2.yml
sed 's/^update-freq: .*/update-freq: 1/' uf2.yml >uf1.yml
# Bytes of the checkpoint before the loss history of 8 updates (5 floats each, one of them wall-clock
# seconds) and the checksum: the weights, Adam's moments and the training state.
same_state() {
  python3 -c "import sys; a, b = (open(f, 'rb').read() for f in sys.argv[1:]); n = 8 * 5 * 4 + 8; sys.exit(not (len(a) == len(b) and a[:-n] == b[:-n]))" "$1" "$2"
}
no_seconds() { sed 's/"seconds":[^,}]*//' "$1"; }

"$hat" train --config uf2.yml --data demo/data --save-dir one --log one.jsonl >/dev/null 2>&1
check "1 rank, update-freq 2: trains" test -s one/checkpoint_last.hat
run2 "$hat" train --config uf1.yml --data demo/data --save-dir two --log two.jsonl >two.out 2>&1
check "2 ranks, update-freq 1: exit 0" test $? -eq 0
check "2 ranks: the opening line names them and the all-reduce" grep -q "x 1 x 2 ranks (an all-reduce of the [0-9.]* MB gradient per update)" two.out
check "2 ranks: every update's loss, nll, tokens and gradient norm equal 1 rank with update-freq 2, bit for bit" \
  diff <(no_seconds one.jsonl) <(no_seconds two.jsonl)
check "2 ranks: weights and optimiser state equal 1 rank with update-freq 2, bit for bit" \
  same_state one/checkpoint_last.hat two/checkpoint_last.hat
check "2 ranks: rank 0 alone prints (one 'done' line)" test "$(grep -c 'hat train: done' two.out)" -eq 1

# 3 ranks: MPI may add three gradients in another order than one process (docs/distributed.md):
# the same tokens, every loss within a relative 1e-6 of 1 rank with update-freq 3.
sed 's/^update-freq: .*/update-freq: 3/' uf1.yml >uf3.yml
"$hat" train --config uf3.yml --data demo/data --save-dir three1 --log three1.jsonl >/dev/null 2>&1
"$mpiexec" --allow-run-as-root --oversubscribe --timeout 300 -np 3 "$hat" train --config uf1.yml --data demo/data \
  --save-dir three3 --log three3.jsonl >three3.out 2>&1
check "3 ranks: exit 0" test $? -eq 0
check "3 ranks: the tokens of 1 rank with update-freq 3, every loss within a relative 1e-6" python3 -c "
import json, sys
a, b = ([json.loads(l) for l in open(f)] for f in sys.argv[1:])
sys.exit(not (len(a) == len(b) == 8 and all(x['tokens'] == y['tokens'] and abs(x['loss'] - y['loss']) <= 1e-6 * x['loss']
                                           for x, y in zip(a, b))))" three1.jsonl three3.jsonl

# The search with HAT's fitness: each generation's new networks split over the ranks; the same files.
search=(search --space number-words --predictor demo/predictor/latency.pred --latency-constraint 1000 --fitness valid-loss
        --checkpoint one/checkpoint_last.hat --data demo/data --valid-batches 2 --iterations 4 --population 10 --parents 3
        --mutations 4 --crossovers 3 --quiet)
"$hat" "${search[@]}" --out s1.yml --history s1.csv >s1.out 2>&1
run2 "$hat" "${search[@]}" --out s2.yml --history s2.csv >s2.out 2>&1
check "search on 2 ranks: exit 0" test $? -eq 0
check "search on 2 ranks: the architecture, history and plot of 1 rank, byte for byte" \
  bash -c "cmp s1.yml s2.yml && cmp s1.csv s2.csv && cmp s1.svg s2.svg"
check "search on 2 ranks: one report" test "$(grep -c '^best: ' s2.out)" -eq 1
# valid-loss: each file's batches split over the ranks, summed in batch order: the same numbers.
"$hat" valid-loss --checkpoint one/checkpoint_last.hat --data demo/data --json demo/search/75pct.yml s1.yml >v1.out 2>&1
run2 "$hat" valid-loss --checkpoint one/checkpoint_last.hat --data demo/data --json demo/search/75pct.yml s1.yml >v2.out 2>&1
check "valid-loss on 2 ranks: the losses of 1 rank, to the last digit, printed once" bash -c "test -s v1.out && cmp v1.out v2.out"

# test and translate: rank r beam-searches batches r, r + n, ... of one process's batches.
tst=(test --checkpoint one/checkpoint_last.hat --arch largest --data demo/data --batch 8 --quiet)
"$hat" "${tst[@]}" --out t1.hyp --out-json t1.json >t1.out 2>&1
run2 "$hat" "${tst[@]}" --out t2.hyp --out-json t2.json >t2.out 2>&1
check "test on 2 ranks: exit 0" test $? -eq 0
no_rate() { python3 -c "import json, sys; r = json.load(open(sys.argv[1])); r.pop('sentences_per_s'); print(json.dumps(r, sort_keys=True))" "$1"; }
no_rate t1.json >t1.scores 2>&1; no_rate t2.json >t2.scores 2>&1
check "test on 2 ranks: the translations and scores of 1 rank, printed once" \
  bash -c "cmp t1.hyp t2.hyp && grep -q bleu t1.scores && cmp t1.scores t2.scores && test \$(grep -c '^sacreBLEU' t2.out) -eq 1"
head -20 demo/data/test.de | "$hat" translate --checkpoint one/checkpoint_last.hat --arch largest --batch 4 --quiet >tr1.txt 2>&1
head -20 demo/data/test.de | run2 "$hat" translate --checkpoint one/checkpoint_last.hat --arch largest --batch 4 --quiet >tr2.txt 2>&1
check "translate on 2 ranks: rank 0's standard input, the same 20 lines out" bash -c "test \$(wc -l <tr1.txt) -eq 20 && cmp tr1.txt tr2.txt"

# Resume on another number of ranks: 4 updates on 2 ranks, the rest on 1 rank with update-freq 2.
run2 "$hat" train --config uf1.yml --data demo/data --save-dir mixed --max-updates 4 >/dev/null 2>&1
"$hat" train --config uf2.yml --data demo/data --save-dir mixed >mixed.out 2>&1
check "2 ranks then 1: resumed at update 4" grep -q 'resumed from .* at update 4' mixed.out
check "2 ranks then 1: the same weights as 1 rank throughout, bit for bit" \
  same_state one/checkpoint_last.hat mixed/checkpoint_last.hat

# A rank killed (kill -9) mid-run ends the job within seconds; the checkpoint left loads and resumes.
sed 's/^max-update: .*/max-update: 100000/' uf1.yml >long.yml
run2 "$hat" train --config long.yml --data demo/data --save-dir killed >killed.out 2>&1 &
job=$!
# (a busy machine can take tens of seconds to the first checkpoint: wait up to 3 minutes, so that
# the kill lands mid-run and not before any checkpoint exists)
for _ in $(seq 1 1800); do [ -e killed/checkpoint_last.hat ] && break; sleep 0.1; done
launcher=$(pgrep -f -- "^$mpiexec .*[-]-save-dir killed" | head -1)
victim=$(pgrep -P "$launcher" | tail -1)  # a rank: a child of the launcher
kill -9 "$victim"
start=$(date +%s)
wait $job
rc=$?
took=$(( $(date +%s) - start ))
check "a rank killed: the job ends non-zero (rc $rc)" test $rc -ne 0
# Within seconds on an idle machine (docs/distributed.md); 30 s leaves room for a loaded one and is
# still far from the launcher's 300 s timeout, which is what a hang would run into.
check "a rank killed: the job ends within 30 s, not at the 300 s timeout (took $took s)" test $took -le 30
check "a rank killed: no rank left running" bash -c "! pgrep -f -- '[-]-save-dir killed' >/dev/null"
"$hat" valid-loss --checkpoint killed/checkpoint_last.hat --data demo/data --batches 1 demo/search/75pct.yml >/dev/null 2>killed.err
check "a rank killed: the last checkpoint loads" test $? -eq 0
run2 "$hat" train --config long.yml --data demo/data --save-dir killed --max-updates 20 >resumed.out 2>&1
check "a rank killed: rerunning resumes" bash -c "test $? -eq 0 && grep -q 'resumed from' resumed.out"

# The whole pipeline on 2 ranks (training, search and test shared; rank 0 alone measures latency).
run2 "$hat" demo --quick --run-dir demo2 >demo2.out 2>&1
check "demo --quick on 2 ranks: exit 0 with its results" bash -c "test $? -eq 0 && grep -q '^| 75pct' demo2/results.md"
check "demo --quick on 2 ranks: rank 0 alone prints (one header per step)" test "$(grep -c 'hat pipeline: step 1/' demo2.out)" -eq 1

# Refused: ranks with other configs (nothing written), and more ranks than batches per update.
"$mpiexec" --allow-run-as-root --oversubscribe --timeout 300 -np 1 "$hat" train --config uf1.yml --data demo/data --save-dir differ : \
  -np 1 "$hat" train --config uf2.yml --data demo/data --save-dir differ >differ.out 2>&1
check "ranks with other configs: exit non-zero" test $? -ne 0
check "ranks with other configs: says which rank and what" grep -q 'rank 1 of 2 has another config than rank 0 (uf2.yml, ' differ.out
check "ranks with other configs: nothing written" test ! -e differ
sed 's/^max-tokens: .*/max-tokens: 1000000/' uf1.yml >huge.yml
run2 "$hat" train --config huge.yml --data demo/data --save-dir huge >huge.out 2>&1
check "an epoch of fewer batches than ranks: exit non-zero" test $? -ne 0
check "an epoch of fewer batches than ranks: says so" grep -q 'fewer than the 2 an update reads (2 ranks x update-freq 1)' huge.out
check "an epoch of fewer batches than ranks: nothing written" test ! -e huge
if ! command -v nvidia-smi >/dev/null; then  # GPUs per rank: refused alike on every rank where there are none
  run2 "$hat" train --device cuda --config uf1.yml --data demo/data --save-dir gpus >gpus.out 2>&1
  check "--device cuda on 2 ranks without a GPU: exit non-zero" test $? -ne 0
  check "--device cuda on 2 ranks without a GPU: says so once" \
    test "$(grep -c -e 'no CUDA device is visible' -e 'built without CUDA' gpus.out)" -eq 1
  check "--device cuda on 2 ranks without a GPU: nothing written" test ! -e gpus
fi

echo "mpi: $passes passed, $fails failed"
test $fails -eq 0
