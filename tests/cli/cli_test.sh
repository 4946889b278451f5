#!/usr/bin/env bash
# The `hat` command line without reference data: sample, profile, errors, exit codes.
# Usage: cli_test.sh HAT_EXE SHARED_DIR WORK_DIR TEST_DATA_DIR
set -u
hat=$1 work=$3
rm -rf "$work" && mkdir -p "$work"
fails=0 passes=0
check() {  # check "description" command...: the command must succeed
  local what=$1; shift
  if "$@"; then passes=$((passes + 1)); else echo "FAILED: $what"; fails=$((fails + 1)); fi
}

"$hat" --version >"$work/version" 2>&1
check "--version prints the version" grep -q '^hat 0\.1\.0' "$work/version"

# OpenBLAS told to run kernels this CPU lacks: a clear error before any command runs (not an
# illegal instruction at the first product). Only an x86-64 CPU without AVX-512 can show it, with
# an OpenBLAS that takes OPENBLAS_CORETYPE (Debian's, built for every CPU).
if [ "$(uname -m)" = x86_64 ] && ! grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
  OPENBLAS_CORETYPE=SkylakeX "$hat" sample --space wmt --count 1 --seed 3 --out "$work/never" >/dev/null 2>"$work/core.err"
  rc=$?
  check "OPENBLAS_CORETYPE=SkylakeX without AVX-512: exit 2" test $rc -eq 2
  check "OPENBLAS_CORETYPE=SkylakeX without AVX-512: the variable and its fix named" \
    grep -q "kernels (set by OPENBLAS_CORETYPE.*or set it to Haswell" "$work/core.err"
  check "OPENBLAS_CORETYPE=SkylakeX without AVX-512: nothing written" test ! -e "$work/never"
else
  echo "cli: OPENBLAS_CORETYPE naming missing instructions: not checked (not x86-64, or this CPU has AVX-512)"
fi

# Sampling is deterministic by seed.
"$hat" sample --space wmt --count 6 --seed 3 --out "$work/a" >/dev/null
"$hat" sample --space wmt --count 6 --seed 3 --out "$work/b" >/dev/null
"$hat" sample --space wmt --count 6 --seed 4 --out "$work/c" >/dev/null
check "same seed, same files" diff -r "$work/a" "$work/b"
check "another seed, other files" bash -c "! diff -rq '$work/a' '$work/c' >/dev/null"
check "no temporary files left" bash -c "! ls '$work/a' | grep -q tmp"

# Profile: table and JSON.
"$hat" profile --task wmt14.en-de "$work"/a/*.yml >"$work/table" 2>"$work/table.err"
check "profile exits 0 on good files" test $? -eq 0
check "table has a header and 6 rows" test "$(wc -l <"$work/table")" -eq 7
check "table header names params and FLOPs" grep -q 'params(M) FLOPs(G)' "$work/table"
"$hat" profile --task wmt14.en-de --json --vocab 32000 "$work"/a/*.yml >"$work/json"
check "6 JSON lines" test "$(wc -l <"$work/json")" -eq 6
check "JSON has params, flops, file as the contract says" bash -c "grep -c '\"params\":[0-9]*,\"flops\":[0-9]*' '$work/json' | grep -qx 6 && grep -c '\"file\":\"' '$work/json' | grep -qx 6"
check "JSON with --vocab has weight_bytes" bash -c "grep -c '\"weight_bytes\":[0-9]' '$work/json' | grep -qx 6"

# HAT_wmt14ende_raspberrypi@3.5s: 25,217,536 parameters (25.22 M in HAT's README).
cat >"$work/rpi.yml" <<'YML'
encoder-embed-dim-subtransformer: 512
decoder-embed-dim-subtransformer: 512
encoder-ffn-embed-dim-all-subtransformer: [1024, 3072, 3072, 2048, 2048, 2048]
decoder-ffn-embed-dim-all-subtransformer: [3072]
encoder-layer-num-subtransformer: 6
decoder-layer-num-subtransformer: 1
encoder-self-attention-heads-all-subtransformer: [4, 8, 4, 4, 4, 8]
decoder-self-attention-heads-all-subtransformer: [8]
decoder-ende-attention-heads-all-subtransformer: [8]
decoder-arbitrary-ende-attn-all-subtransformer: [-1]
YML
"$hat" profile --task wmt14.en-de --json "$work/rpi.yml" >"$work/rpi.json"
check "worked example: 25217536 params" grep -q '"params":25217536,' "$work/rpi.json"
"$hat" profile --task wmt14.en-de "$work/rpi.yml" >"$work/rpi.table"
check "worked example: table shows 25.22 and 1.53" grep -q 'rpi.yml *25.22 *1.53' "$work/rpi.table"

# Bad input: clear errors, non-zero exit, good files still reported.
printf '\x89PNG\r\n\x1a\n\x00\x00garbage' >"$work/garbage.yml"
sed 's/\[3072\]/[3072, 1024]/' "$work/rpi.yml" >"$work/badlen.yml"
"$hat" profile --task wmt14.en-de "$work/rpi.yml" "$work/garbage.yml" "$work/badlen.yml" >"$work/mixed" 2>"$work/mixed.err"
rc=$?
check "bad files: exit 1" test $rc -eq 1
check "bad files: good file still profiled" grep -q 'rpi.yml' "$work/mixed"
check "bad files: garbage named" grep -q 'garbage.yml' "$work/mixed.err"
check "bad files: line and key named" grep -q "badlen.yml:4: key 'decoder-ffn-embed-dim-all-subtransformer': has 2 entries" "$work/mixed.err"
check "bad files: summary" grep -q 'hat profile: 2 of 3 files failed' "$work/mixed.err"
"$hat" profile --task wmt14.en-de "$work/rpi.yml" --space iwslt >/dev/null 2>"$work/space.err"
check "a config outside the chosen space is rejected" grep -q 'not in the search space {2048, 1024, 512}' "$work/space.err"
"$hat" profile --task wmt99 "$work/rpi.yml" >/dev/null 2>"$work/task.err"
check "unknown task: non-zero exit" test $? -ne 0
check "unknown task: message lists the tasks" grep -q 'iwslt14.de-en' "$work/task.err"
"$hat" profile --task wmt14.en-de "$work/missing.yml" >/dev/null 2>"$work/missing.err"
check "missing file: non-zero exit" test $? -ne 0
check "missing file: named" grep -q 'missing.yml' "$work/missing.err"
"$hat" profile --task wmt14.en-de --beam 0 "$work/rpi.yml" >/dev/null 2>&1
check "--beam 0 rejected" test $? -ne 0
"$hat" >/dev/null 2>&1
check "no subcommand: usage error, exit 2" test $? -eq 2
"$hat" frobnicate >/dev/null 2>"$work/unknown.err"
check "an unknown command is named, with the known ones; exit 2" \
  bash -c "test $? -eq 2 && grep -q \"unknown command 'frobnicate' (commands: profile, sample\" '$work/unknown.err'"
"$hat" profile --task wmt14.en-de --frobnicate "$work/rpi.yml" >/dev/null 2>&1
check "an unknown flag: exit 2" test $? -eq 2
"$hat" --help >/dev/null 2>&1
check "--help: exit 0" test $? -eq 0
"$hat" latency-dataset --space number-words --samples 0 --out "$work/zero.csv" >/dev/null 2>"$work/zero.err"
check "a count of 0: refused in words, not with a 300-digit range" \
  bash -c "test $? -eq 2 && grep -q 'expected a whole number > 0, got 0' '$work/zero.err' && test \$(wc -c <'$work/zero.err') -lt 200"
"$hat" profile --task wmt14.en-de /dev/zero >/dev/null 2>"$work/devzero.err"
check "profile /dev/zero: refused at the size limit, named" bash -c "test $? -eq 1 && grep -q '/dev/zero: larger than the 64 MiB' '$work/devzero.err'"
"$hat" check-space "$work/rpi.yml" "$work/no_such_space.yml" >/dev/null 2>"$work/cs.err"
check "check-space: a file that cannot be read is named and exits 2, as its help says" \
  bash -c "test $? -eq 2 && grep -q 'no_such_space.yml' '$work/cs.err'"

# Latency (HAT's protocol) on a small vocabulary, one timed run: JSON contract and errors.
# Skipped under the sanitizers (HAT_CLI_QUICK): building HAT's 640-wide SuperTransformer there takes minutes.
if [ -z "${HAT_CLI_QUICK:-}" ]; then
  "$hat" latency --task wmt14.en-de --iters 1 --warmup 0 --vocab 64 --json "$work/rpi.yml" >"$work/lat.json" 2>"$work/lat.err"
  check "latency exits 0" test $? -eq 0
  check "latency JSON has file, encoder_ms, decoder_ms, total_ms" grep -Eq '^\{"file":".*rpi.yml","encoder_ms":[0-9.]+,"decoder_ms":[0-9.]+,"total_ms":[0-9.]+\}$' "$work/lat.json"
  "$hat" latency --task wmt14.en-de --iters 1 --warmup 0 --vocab 64 --weights dense "$work/rpi.yml" "$work/badlen.yml" >"$work/lat.table" 2>"$work/lat2.err"
  check "latency: a bad file gives exit 1" test $? -eq 1
  check "latency: the good file is still measured (dense weights)" grep -q 'rpi.yml' "$work/lat.table"
  check "latency: the bad file and key are named" grep -q "badlen.yml:4: key 'decoder-ffn-embed-dim-all-subtransformer'" "$work/lat2.err"
fi
"$hat" latency --task wmt14.en-de >/dev/null 2>"$work/lat3.err"
check "latency without files: non-zero exit" test $? -ne 0
check "latency without files: a hint" grep -q 'space-max' "$work/lat3.err"
"$hat" latency --task wmt14.en-de --weights half "$work/rpi.yml" >/dev/null 2>&1
check "latency: --weights half rejected" test $? -ne 0
"$hat" latency --task wmt14.en-de --device tpu "$work/rpi.yml" >/dev/null 2>"$work/lat_dev.err"
check "latency: an unknown --device is rejected" bash -c "test $? -ne 0 && grep -q 'tpu' '$work/lat_dev.err'"
# --device cuda: measured where a GPU is visible; elsewhere a clear error (no GPU, or built without nvcc).
"$hat" latency --task wmt14.en-de --device cuda --iters 2 --warmup 1 --vocab 64 --json "$work/rpi.yml" >"$work/lat_cuda.json" 2>"$work/lat_cuda.err"
rc=$?
if grep -q 'hat: using ' "$work/lat_cuda.err"; then
  check "latency --device cuda: exit 0 on a GPU" test $rc -eq 0
  check "latency --device cuda: JSON line" grep -Eq '"total_ms":[0-9.]+' "$work/lat_cuda.json"
else
  check "latency --device cuda without a GPU: exit 1 and why" bash -c "test $rc -eq 1 && grep -Eq 'device cuda: (no CUDA device|this hat was built without CUDA)' '$work/lat_cuda.err'"
fi
"$hat" latency-dataset --space number-words --device cuda --samples 2 --iters 1 --warmup 0 --out "$work/cuda_lat.csv" --quiet >/dev/null 2>"$work/lat_ds_cuda.err"
rc=$?
if ! grep -q 'hat: using ' "$work/lat_ds_cuda.err"; then
  check "latency-dataset --device cuda without a GPU: exit 1, no file" bash -c "test $rc -eq 1 && test ! -e '$work/cuda_lat.csv'"
fi

# Latency dataset on the demo's small space: HAT's columns, genes as extras, resumable, checked on resume.
"$hat" latency-dataset --space nope --samples 3 --out "$work/nope.csv" --quiet >/dev/null 2>"$work/nope.err"
check "latency-dataset --space nope: the known spaces named, no file" \
  bash -c "test $? -eq 1 && grep -q \"unknown space 'nope' (wmt, iwslt, latency, multi30k, multi30k-tiny, number-words)\" '$work/nope.err' && test ! -e '$work/nope.csv'"
"$hat" latency-dataset --space number-words --samples 3 --iters 2 --warmup 0 --vocab 64 --out "$work/ld.csv" --quiet >/dev/null
check "latency-dataset: header and 3 rows" bash -c "test \$(wc -l <'$work/ld.csv') -eq 4 && head -1 '$work/ld.csv' | grep -q '^encoder_embed_dim,.*,latency_std_decoder,gene.encoder_embed_dim,'"
head -3 "$work/ld.csv" >"$work/ld_part.csv"
"$hat" latency-dataset --space number-words --samples 4 --iters 2 --warmup 0 --vocab 64 --out "$work/ld_part.csv" --quiet >/dev/null
check "latency-dataset: a partial file is continued (its rows kept)" \
  bash -c "test \$(wc -l <'$work/ld_part.csv') -eq 5 && test \"\$(head -3 '$work/ld_part.csv')\" = \"\$(head -3 '$work/ld.csv')\""
cp "$work/ld.csv" "$work/ld_keep.csv"
"$hat" latency-dataset --space number-words --samples 4 --seed 9 --iters 2 --vocab 64 --out "$work/ld.csv" --quiet 2>"$work/ld.err" >/dev/null
check "latency-dataset: another seed's file is refused and left as it was" \
  bash -c "test $? -eq 1 && grep -q 'ld.csv:2: not the architecture that --seed 9' '$work/ld.err' && cmp -s '$work/ld.csv' '$work/ld_keep.csv'"
"$hat" latency-dataset --space number-words --samples 6 --iters 2 --warmup 0 --vocab 300 --out "$work/p1.csv" >/dev/null 2>&1
"$hat" latency-dataset --space number-words --samples 6 --iters 2 --warmup 0 --vocab 300 --passes 2 --out "$work/p2.csv" >/dev/null 2>"$work/p2.err"
check "latency-dataset --passes 2: the same architectures, measured a second time in reverse order" \
  bash -c "test $? -eq 0 && grep -q 'pass 2/2, 6/6 rows' '$work/p2.err' && diff <(cut -d, -f1-10 '$work/p1.csv') <(cut -d, -f1-10 '$work/p2.csv') >/dev/null"
"$hat" latency-dataset --samples 2 --out "$work/ld2.csv" 2>/dev/null
check "latency-dataset: neither --task nor --space is an error" test $? -ne 0
# A dataset at another precision says so in a last column, and refuses a run at another one.
"$hat" latency-dataset --space number-words --samples 20 --iters 1 --warmup 0 --vocab 64 --precision int8 --out "$work/ld8.csv" --quiet >/dev/null
check "latency-dataset --precision int8: a last column 'precision', int8 on every row" \
  bash -c "test $? -eq 0 && head -1 '$work/ld8.csv' | grep -q ',precision$' && test \$(grep -c ',int8$' '$work/ld8.csv') -eq 20"
cp "$work/ld8.csv" "$work/ld8_keep.csv"
"$hat" latency-dataset --space number-words --samples 21 --iters 1 --warmup 0 --vocab 64 --out "$work/ld8.csv" --quiet >/dev/null 2>"$work/ld8.err"
check "latency-dataset: continuing an int8 file in fp32 is refused, the file kept" \
  bash -c "test $? -eq 1 && grep -q 'measured at precision int8, this run measures fp32' '$work/ld8.err' && cmp -s '$work/ld8.csv' '$work/ld8_keep.csv'"
"$hat" predictor train --csv "$work/ld8.csv" --lat-norm 1 --model linear --out "$work/p8.pred" --json >"$work/p8.json" 2>/dev/null
check "predictor train: records the dataset's precision" bash -c "test $? -eq 0 && grep -q '\"precision\": *\"int8\"' '$work/p8.json'"
"$hat" predictor eval --model "$work/p8.pred" --csv "$work/ld.csv" >/dev/null 2>"$work/p8.err"
check "predictor eval: an int8 predictor on an fp32 dataset is refused" \
  bash -c "test $? -eq 1 && grep -q 'p8.pred: int8 latencies; .*ld.csv.s precision is fp32' '$work/p8.err'"
"$hat" search --space number-words --predictor "$work/p8.pred" --latency-constraint 1 --out "$work/s8.yml" >/dev/null 2>"$work/s8.err"
check "search: an int8 predictor for an fp32 search is refused, nothing written" \
  bash -c "test $? -eq 1 && grep -q 'p8.pred: int8 latencies; --precision is fp32' '$work/s8.err' && test ! -e '$work/s8.yml'"

# The whole pipeline on the built-in task, with tiny budgets; then a rerun resumes (skips) every step.
"$hat" demo --quick --run-dir "$work/demo" >"$work/demo.out" 2>"$work/demo.err"
check "demo --quick: exit 0" test $? -eq 0
check "demo --quick: the final table" grep -q '^| 75pct (' "$work/demo/results.md"
check "demo --quick: a uniformly scaled baseline beside the searched network, compared in words and in a plot" \
  bash -c "grep -q '^| 75pct ([0-9.]* ms) | baseline | ' '$work/demo/results.md' && grep -q 'HAT against uniformly scaled Transformers under the same constraints' '$work/demo.out' && grep -q 'Transformer, uniformly scaled' '$work/demo/results.svg' && grep -q 'encoder-embed-dim-subtransformer' '$work/demo/baseline/75pct.yml' && grep -q '^75pct,baseline,' '$work/demo/results.csv'"
if [ -z "${HAT_CLI_QUICK:-}" ]; then  # not under the sanitizers: the plumbing is the same as above
  "$hat" demo --quick --task grammar --run-dir "$work/gdemo" >/dev/null 2>"$work/gdemo.err"
  check "demo --quick --task grammar: the grammar corpus through every step" \
    bash -c "test $? -eq 0 && grep -q 'wrote 3150 German/English sentence pairs' '$work/gdemo.err' && grep -q '^| 75pct (.*| baseline |' '$work/gdemo/results.md'"
fi
# A second run on the demo's SuperTransformer: its own fine-tuning schedule, and the demo's
# (fp32) predictor adapted to this run's latency dataset, timed on int8 weights.
grep -v '^predictor-model:' "$work/demo/config/pipeline.yml" >"$work/demo/config/fine.yml"
printf 'subtransformer-lr: 0.001\nsubtransformer-warmup-updates: 2\nsupertransformer-checkpoint: ../supertransformer/checkpoint_last.hat\npredictor-adapt-from: ../predictor/latency.pred\n' \
  >>"$work/demo/config/fine.yml"
{ cat "$work/demo/config/fine.yml"; printf 'precision: int8\n'; } >"$work/demo/config/fine8.yml"
"$hat" pipeline --config "$work/demo/config/fine8.yml" --run-dir "$work/fine" >/dev/null 2>"$work/fine.err"
check "pipeline: the SubTransformer's own peak learning rate after its own warm-up" \
  bash -c "test $? -eq 0 && grep -q '^3,[^,]*,[^,]*,0.001,' '$work/fine/subtransformer/75pct/loss.csv'"
check "pipeline: predictor-adapt-from adapts the given predictor, scored by leave-one-out" \
  bash -c "grep -q 'predictor adapted from .*latency.pred, leave-one-out over 12 rows: RMSE' '$work/fine.err' && grep -q '</svg>' '$work/fine/predictor/fit.svg'"
check "pipeline precision: int8: the dataset, the test record and the results say int8" \
  bash -c "test \$(grep -c ',int8$' '$work/fine/latency/latency.csv') -eq 12 && grep -q '\"precision\": *\"int8\"' '$work/fine/test/75pct.json' && grep -q 'int8 weights' '$work/fine/results.md'"
"$hat" pipeline --config "$work/demo/config/fine.yml" --run-dir "$work/fine" >/dev/null 2>"$work/fine32.err"
check "pipeline: an int8 run folder rerun at fp32 is refused before any step" \
  bash -c "test $? -eq 1 && grep -q 'fine: a run for int8 (scales per panel) weights, but .*fine.yml says fp32' '$work/fine32.err' && ! grep -q 'step 1/' '$work/fine32.err'"
{ cat "$work/demo/config/fine.yml"; printf 'predictor-model: mlp\n'; } >"$work/demo/config/fine_mlp.yml"
"$hat" pipeline --config "$work/demo/config/fine_mlp.yml" --run-dir "$work/fine_mlp" >/dev/null 2>"$work/fine_mlp.err"
check "pipeline: predictor-adapt-from with predictor-model mlp is refused, naming both" \
  bash -c "test $? -ne 0 && grep -q \"predictor-adapt-from adapts with the cost model; predictor-model 'mlp' contradicts it\" '$work/fine_mlp.err' && test ! -e '$work/fine_mlp/predictor'"
"$hat" latency --space number-words --iters 2 --warmup 0 --space-max --json "$work/demo/search/75pct.yml" >"$work/lat_space.json"
check "latency --space: a space's SubTransformers measured as latency-dataset --space does" \
  bash -c "test $? -eq 0 && test \$(grep -c '\"total_ms\":' '$work/lat_space.json') -eq 2"
"$hat" latency --space number-words --iters 2 --warmup 0 --space-max --precision bf16 --json "$work/demo/search/75pct.yml" >"$work/lat_bf16.json"
check "latency --precision bf16: both measured" bash -c "test $? -eq 0 && test \$(grep -c '\"total_ms\":' '$work/lat_bf16.json') -eq 2"
"$hat" latency --space number-words --iters 2 --warmup 0 --weights dense --precision bf16 "$work/demo/search/75pct.yml" >/dev/null 2>&1
check "latency --precision bf16 --weights dense: measured" test $? -eq 0
"$hat" latency --space number-words --iters 2 --warmup 0 --space-max --precision int8 --json "$work/demo/search/75pct.yml" >"$work/lat_int8.json"
check "latency --precision int8: both measured" bash -c "test $? -eq 0 && test \$(grep -c '\"total_ms\":' '$work/lat_int8.json') -eq 2"
"$hat" latency --space number-words --precision fp16 "$work/demo/search/75pct.yml" >/dev/null 2>"$work/prec.err"
check "latency --precision fp16: refused, the choices named" \
  bash -c "test $? -ne 0 && grep -q -- '--precision: fp16 not in {fp32,bf16,int8}' '$work/prec.err'"
"$hat" test --checkpoint "$work/demo/subtransformer/75pct/checkpoint_last.hat" --arch "$work/demo/search/75pct.yml" \
  --data "$work/demo/data" --precision bf16 --json --quiet \
  >"$work/test_bf16.json" 2>"$work/test_bf16.err"
check "test --precision bf16: scored, the record says bf16" \
  bash -c "test $? -eq 0 && grep -q '\"precision\": *\"bf16\"' '$work/test_bf16.json' && grep -q '\"bleu\": *[0-9]' '$work/test_bf16.json'"
"$hat" test --checkpoint "$work/demo/subtransformer/75pct/checkpoint_last.hat" --arch "$work/demo/search/75pct.yml" \
  --data "$work/demo/data" --precision int8 --json --quiet \
  >"$work/test_int8.json" 2>"$work/test_int8.err"
check "test --precision int8: scored, the record says int8 with scales per panel" \
  bash -c "test $? -eq 0 && grep -q '\"precision\": *\"int8\"' '$work/test_int8.json' && grep -q '\"bleu\": *[0-9]' '$work/test_int8.json' && grep -q '\"int8_scales\": *\"panel\"' '$work/test_int8.json'"
"$hat" test --checkpoint "$work/demo/subtransformer/75pct/checkpoint_last.hat" --arch "$work/demo/search/75pct.yml" \
  --data "$work/demo/data" --precision int8 --int8-scales row --quiet >"$work/test_int8_row.txt" 2>&1
check "test --int8-scales row: scored, the output says so" \
  bash -c "test $? -eq 0 && grep -q 'int8 (scales per row) weights' '$work/test_int8_row.txt'"
"$hat" test --checkpoint "$work/demo/subtransformer/75pct/checkpoint_last.hat" --arch "$work/demo/search/75pct.yml" \
  --data "$work/demo/data" --int8-scales row --quiet >/dev/null 2>"$work/scales.err"
check "test --int8-scales without --precision int8: refused, naming both" \
  bash -c "test $? -ne 0 && grep -q -- '--int8-scales: applies to --precision int8 only (the precision is fp32)' '$work/scales.err'"
"$hat" latency --space number-words --task wmt14.en-de --space-max >/dev/null 2>"$work/lat4.err"
check "latency: --task and --space together are refused" bash -c "test $? -ne 0 && grep -q 'exactly one of --task and --space' '$work/lat4.err'"
check "demo --quick: results JSON with latency and BLEU" \
  test "$(grep -Ec '^ +"(predicted_ms|measured_ms|params|flops|bleu)": [0-9]' "$work/demo/results.json")" -eq 10
check "demo --quick: plots (loss curve, predictor fit, search front)" \
  bash -c "grep -q '</svg>' '$work/demo/supertransformer/loss.svg' && grep -q '</svg>' '$work/demo/predictor/fit.svg' && grep -q '</svg>' '$work/demo/search/75pct.svg'"
cp "$work/demo/test/75pct.json" "$work/demo_test.json"
"$hat" demo --quick --run-dir "$work/demo" >/dev/null 2>"$work/demo2.err"
check "demo rerun: every finished step is skipped or already done" \
  bash -c "test $? -eq 0 && test \$(grep -c 'done already, skipped' '$work/demo2.err') -eq 5 && grep -q 'resumed from' '$work/demo2.err' && cmp -s '$work/demo/test/75pct.json' '$work/demo_test.json'"
printf '{"split": "test", "bleu": 1.5,' >"$work/demo/test/75pct.json"  # cut short
"$hat" demo --quick --run-dir "$work/demo" >/dev/null 2>"$work/demo3.err"
check "demo rerun: a broken test JSON is an error naming the file, kept as it was" \
  bash -c "test $? -eq 1 && grep -q '75pct.json: not valid JSON' '$work/demo3.err' && test \"\$(cat '$work/demo/test/75pct.json')\" = '{\"split\": \"test\", \"bleu\": 1.5,'"
printf '{"split": "test", "bleu": "high"}\n' >"$work/demo/test/75pct.json"
"$hat" demo --quick --run-dir "$work/demo" >/dev/null 2>"$work/demo3.err"
check "demo rerun: a test JSON value of the wrong type names the file and the key" \
  bash -c "test $? -eq 1 && grep -q \"75pct.json: key 'bleu'\" '$work/demo3.err'"
cp "$work/demo_test.json" "$work/demo/test/75pct.json"
"$hat" search --space number-words --predictor "$work/demo/predictor/latency.pred" --latency-constraint 1 --fitness valid-loss \
  --out "$work/x.yml" 2>"$work/s.err"
check "search --fitness valid-loss without a checkpoint: a clear error" bash -c "test $? -ne 0 && grep -q 'needs --checkpoint' '$work/s.err'"
"$hat" search --space multi30k --predictor "$work/demo/predictor/latency.pred" --latency-constraint 1 --fitness valid-loss \
  --checkpoint "$work/demo/supertransformer/checkpoint_last.hat" --data "$work/demo/data" --out "$work/x.yml" 2>"$work/s.err"
check "search: a checkpoint of another space is refused" bash -c "test $? -ne 0 && grep -q \"of space 'number-words', not 'multi30k'\" '$work/s.err'"
"$hat" valid-loss --checkpoint "$work/demo/supertransformer/checkpoint_last.hat" --data "$work/demo/data" --batches 2 --json \
  "$work/demo/search/75pct.yml" >"$work/vl32.json" 2>/dev/null
"$hat" valid-loss --checkpoint "$work/demo/supertransformer/checkpoint_last.hat" --data "$work/demo/data" --batches 2 --json \
  --precision int8 "$work/demo/search/75pct.yml" >"$work/vl8.json" 2>/dev/null
check "valid-loss --precision int8: scored on int8 weights, close to fp32's and not equal" \
  python3 -c "import json,sys; a=json.load(open('$work/vl32.json')); b=json.load(open('$work/vl8.json')); sys.exit(not (b['precision']=='int8' and a['loss']!=b['loss'] and abs(a['loss']-b['loss'])<0.05*a['loss']))"
# kill -9 at several moments of a training leaves no partial file (every checkpoint there loads),
# and resuming gives the weights and optimiser state of a run never interrupted, bit for bit.
# Not under the sanitizers (HAT_CLI_QUICK): there its seven trainings took a fifth of this script's
# time (34 of 153 s), and the release build runs the same code through the same checks.
if [ -z "${HAT_CLI_QUICK:-}" ]; then
kcfg=$work/demo/config/training.yml
"$hat" train --config "$kcfg" --data "$work/demo/data" --save-dir "$work/k_straight" >/dev/null 2>&1
kill_ok=0
for delay in 0.4 0.8 1.2 1.6 2.0 2.4; do
  "$hat" train --config "$kcfg" --data "$work/demo/data" --save-dir "$work/k_killed" >/dev/null 2>&1 &
  kpid=$!
  sleep $delay
  kill -9 $kpid 2>/dev/null
  wait $kpid 2>/dev/null
  if [ -e "$work/k_killed/checkpoint_last.hat" ] &&
     ! "$hat" translate --checkpoint "$work/k_killed/checkpoint_last.hat" --arch largest </dev/null >/dev/null 2>"$work/k.err"; then
    kill_ok=1; cat "$work/k.err"
  fi
done
"$hat" train --config "$kcfg" --data "$work/demo/data" --save-dir "$work/k_killed" >/dev/null 2>&1
check "kill -9 during training: every checkpoint left loads" test $kill_ok -eq 0
# The last 8 bytes are the checksum, the 30 x 5 floats before it the loss history (with wall-clock seconds).
check "kill -9 during training: resuming gives the uninterrupted run's weights and state, bit for bit" \
  python3 -c "import sys; a, b = (open(f, 'rb').read() for f in sys.argv[1:]); n = 30 * 5 * 4 + 8; sys.exit(not (len(a) == len(b) and a[:-n] == b[:-n]))" \
  "$work/k_straight/checkpoint_last.hat" "$work/k_killed/checkpoint_last.hat"
fi

# Outputs never overwrite inputs (by identity: a symbolic link is the same file), and the input is kept.
D=$work/demo
cp "$D/latency/latency.csv" "$work/in.csv"; ln -sf "$work/in.csv" "$work/in_link.csv"; cp "$work/in.csv" "$work/in.kept"
"$hat" predictor train --csv "$work/in.csv" --lat-norm 1 --model linear --out "$work/in_link.csv" >/dev/null 2>"$work/ow.err"
check "predictor train --out = its --csv: refused, the CSV kept" \
  bash -c "test $? -eq 1 && grep -q 'is the input' '$work/ow.err' && cmp -s '$work/in.csv' '$work/in.kept'"
cp "$D/predictor/latency.pred" "$work/p.pred"; cp "$work/p.pred" "$work/p.kept"
"$hat" search --space number-words --predictor "$work/p.pred" --latency-constraint 1 --out "$work/p.pred" >/dev/null 2>"$work/ow.err"
check "search --out = its predictor: refused, the predictor kept" \
  bash -c "test $? -eq 1 && grep -q 'is the input' '$work/ow.err' && cmp -s '$work/p.pred' '$work/p.kept'"
"$hat" test --checkpoint "$D/subtransformer/75pct/checkpoint_last.hat" --arch "$D/search/75pct.yml" --data "$D/data" --out "$D/subtransformer/75pct/subwords.model" --quiet >/dev/null 2>"$work/ow.err"
check "test --out = the checkpoint's subword model: refused" bash -c "test $? -eq 1 && grep -q 'is the input' '$work/ow.err'"
cp "$D/subtransformer/75pct/checkpoint_last.hat" "$work/c.hat"; cp "$work/c.hat" "$work/c.kept"
"$hat" test --checkpoint "$work/c.hat" --arch "$D/search/75pct.yml" --data "$D/data" --quiet >/dev/null 2>"$work/sw.err"
check "a checkpoint moved without its subword model: the missing file is named, with the remedy" \
  bash -c "test $? -eq 1 && grep -q 'subwords.model is missing (recorded beside the checkpoint as subwords.model); put it there, or pass it (--bpe-model)' '$work/sw.err'"
cp "$D/subtransformer/75pct/subwords.model" "$work/subwords.model"
"$hat" test --checkpoint "$work/c.hat" --arch "$D/search/75pct.yml" --data "$D/data" --out "$work/c.hat" --quiet >/dev/null 2>"$work/ow.err"
check "test --out = its checkpoint: refused, the checkpoint kept" \
  bash -c "test $? -eq 1 && grep -q 'is the input' '$work/ow.err' && cmp -s '$work/c.hat' '$work/c.kept'"
# Numbers that are not finite never pass a flag, and a predictor that diverges is not saved.
"$hat" search --space number-words --predictor "$work/p.pred" --latency-constraint nan --out "$work/x.yml" >/dev/null 2>"$work/nan.err"
check "search --latency-constraint nan: refused" bash -c "test $? -ne 0 && grep -q 'finite number' '$work/nan.err'"
"$hat" translate --checkpoint "$work/c.hat" --arch largest --lenpen inf </dev/null >/dev/null 2>"$work/nan.err"
check "translate --lenpen inf: refused" bash -c "test $? -ne 0 && grep -q 'finite number' '$work/nan.err'"
awk -F, 'NR==3{$11="1e308"}1' OFS=, "$work/in.csv" >"$work/huge.csv"
"$hat" predictor train --csv "$work/huge.csv" --lat-norm 1 --out "$work/huge.pred" >/dev/null 2>"$work/huge.err"
check "a latency of 1e308 ms: refused with its line and column, no predictor" \
  bash -c "test $? -eq 1 && grep -q 'huge.csv:3: column .latency_mean_encoder.: 1e308 ms is not a latency' '$work/huge.err' && test ! -e '$work/huge.pred'"
# A predictor adapted to another device from a few rows (the demo's 12): its device made twice as slow.
"$hat" predictor train --csv "$work/in.csv" --lat-norm 1 --model linear --out "$work/src.pred" >/dev/null 2>&1
awk -F, 'NR==1{print; next} {$11*=2; $12*=2; print}' OFS=, "$work/in.csv" >"$work/few.csv"
"$hat" predictor adapt --model "$work/src.pred" --csv "$work/few.csv" --out "$work/adapted.pred" --json >"$work/adapt.json" 2>"$work/adapt.err"
check "predictor adapt: leave-one-out metrics, the source's weight, the file" \
  bash -c "test $? -eq 0 && grep -q '\"split\":\"leave-one-out\"' '$work/adapt.json' && grep -q '\"source_weight\":' '$work/adapt.json' && test -s '$work/adapted.pred'"
"$hat" predictor eval --model "$work/adapted.pred" --csv "$work/few.csv" --json >"$work/adapt_eval.json" 2>&1
check "predictor eval reads an adapted predictor" bash -c "test $? -eq 0 && grep -q '\"rows\":12' '$work/adapt_eval.json'"
"$hat" predictor train --csv "$work/few.csv" --lat-norm 1 --model cost --out "$work/cost.pred" >/dev/null 2>&1
check "predictor train --model cost" bash -c "test $? -eq 0 && test -s '$work/cost.pred'"
head -5 "$work/few.csv" >"$work/four.csv"
"$hat" predictor adapt --model "$work/src.pred" --csv "$work/four.csv" --out "$work/four.pred" >/dev/null 2>"$work/four.err"
check "predictor adapt on 4 rows: refused, naming the CSV, nothing written" \
  bash -c "test $? -eq 1 && grep -q 'four.csv: latency predictor: 4 rows; adapting needs at least 5' '$work/four.err' && test ! -e '$work/four.pred'"
cp "$work/src.pred" "$work/src.kept"
"$hat" predictor adapt --model "$work/src.pred" --csv "$work/few.csv" --out "$work/src.pred" >/dev/null 2>"$work/ow.err"
check "predictor adapt --out = its --model: refused, the source kept" \
  bash -c "test $? -eq 1 && grep -q 'is the input' '$work/ow.err' && cmp -s '$work/src.pred' '$work/src.kept'"
if [ -z "${HAT_CLI_QUICK:-}" ]; then  # the same pipeline on a corpus given with --data (here: the demo's, renamed)
  mkdir -p "$work/corpus"
  for l in de en; do cp "$work/demo/data/train.$l" "$work/corpus/train.$l"; cp "$work/demo/data/valid.$l" "$work/corpus/dev.$l"
                     cp "$work/demo/data/test.$l" "$work/corpus/eval.$l"; done
  "$hat" demo --quick --data "$work/corpus" --valid-split dev --test-split eval --bpe-vocab-size 300 --run-dir "$work/demo_data" \
    >/dev/null 2>"$work/demo_data.err"
  check "demo --data: the pipeline on another corpus and its splits" \
    bash -c "test $? -eq 0 && grep -q 'valid-subset: dev' '$work/demo_data/config/training.yml' && grep -q '\"split\": \"eval\"' '$work/demo_data/test/75pct.json'"
fi
printf 'training-config: training.yml\nlatency-constraints: [5]\nlatency-sample: 3\n' >"$work/demo/config/bad.yml"
"$hat" pipeline --config "$work/demo/config/bad.yml" 2>"$work/pipe.err"
check "pipeline: an unknown key is named with its line" bash -c "test $? -ne 0 && grep -q 'bad.yml:3: unknown key .latency-sample.' '$work/pipe.err'"
"$hat" train --config "$work/demo/config/training.yml" --device cuda --max-updates 2 --save-dir "$work/gpu_train" >/dev/null 2>"$work/gpu_train.err"
rc=$?
if ! grep -q 'hat: using ' "$work/gpu_train.err"; then
  check "train --device cuda without a GPU: exit 1 and why" \
    bash -c "test $rc -eq 1 && grep -Eq 'device cuda: (no CUDA device|this hat was built without CUDA)' '$work/gpu_train.err'"
fi
"$hat" train --config "$work/demo/config/training.yml" --device cuda --precision bf16 --max-updates 2 --save-dir "$work/gpu16" >/dev/null 2>"$work/gpu16.err"
check "train --device cuda --precision bf16: refused up front, nothing written" \
  bash -c "test $? -ne 0 && grep -q 'bf16 training runs on the CPU only' '$work/gpu16.err' && test ! -e '$work/gpu16'"
"$hat" train --config "$work/demo/config/training.yml" --precision int8 --max-updates 2 --save-dir "$work/t8" >/dev/null 2>"$work/t8.err"
check "train --precision int8: refused, nothing written" bash -c "test $? -ne 0 && grep -q -- '--precision' '$work/t8.err' && test ! -e '$work/t8'"
# bf16 products: said in the opening line, the checkpoint decodes, an fp32 run refuses to continue it
"$hat" train --config "$work/demo/config/training.yml" --data "$work/demo/data" --precision bf16 --max-updates 2 --save-dir "$work/t16" >/dev/null 2>"$work/t16.err"
check "train --precision bf16: trains with bf16 products and says so" \
  bash -c "test $? -eq 0 && grep -q 'threads, bf16 products' '$work/t16.err' && echo ein haus | '$hat' translate --checkpoint '$work/t16/checkpoint_last.hat' --arch largest >/dev/null"
"$hat" train --config "$work/demo/config/training.yml" --data "$work/demo/data" --max-updates 3 --save-dir "$work/t16" >/dev/null 2>"$work/t16b.err"
check "train (fp32) in a bf16 run's folder: refused, naming the other run" \
  bash -c "test $? -ne 0 && grep -q 'another run (supertransformer random, bf16 products)' '$work/t16b.err'"
# bf16 training in a pipeline that trains on the GPU: refused before anything is written
{ cat "$work/demo/config/training.yml"; printf 'precision: bf16\n'; } >"$work/demo/config/training16.yml"
{ grep -v '^training-config:' "$work/demo/config/pipeline.yml"; printf 'training-config: training16.yml\ntrain-device: cuda\n'; } \
  >"$work/demo/config/gpu16.yml"
"$hat" pipeline --config "$work/demo/config/gpu16.yml" --run-dir "$work/gpu16_run" >/dev/null 2>"$work/gpu16_run.err"
check "pipeline: bf16 training with train-device cuda refused, naming the key, nothing written" \
  bash -c "test $? -ne 0 && grep -q \"training16.yml: key 'precision': bf16 training runs on the CPU only\" '$work/gpu16_run.err' && test ! -e '$work/gpu16_run'"
# latency-device: cuda, from the demo's SuperTransformer: on a GPU the whole pipeline; elsewhere a clear error.
{ cat "$work/demo/config/pipeline.yml"; printf 'latency-device: cuda\nsupertransformer-checkpoint: ../supertransformer/checkpoint_last.hat\n'; } \
  >"$work/demo/config/gpu.yml"
"$hat" pipeline --config "$work/demo/config/gpu.yml" --run-dir "$work/gpu_run" >/dev/null 2>"$work/gpu_run.err"
rc=$?
if grep -q 'hat: using ' "$work/gpu_run.err"; then
  check "pipeline latency-device cuda: exit 0, results measured on the GPU" bash -c "test $rc -eq 0 && grep -q 'sm_' '$work/gpu_run/results.md'"
else
  check "pipeline latency-device cuda without a GPU: exit non-zero and why" \
    bash -c "test $rc -ne 0 && grep -Eq 'device cuda: (no CUDA device|this hat was built without CUDA)' '$work/gpu_run.err'"
fi

# hat import: HAT's fairseq checkpoints (torch.save .pt files). The committed fixture is of a tiny
# space no command knows: the differences of the closest space are listed.
tiny=$4/torch/tiny_shared_zip.pt
"$hat" import --checkpoint "$tiny" --out "$work/tiny.hat" 2>"$work/imp.err"
check "import: args of no known space: exit 1, the closest space's differences" \
  bash -c "test $? -eq 1 && grep -q 'match no space hat knows; the closest' '$work/imp.err' && grep -q \"obj\['args'\].qkv_dim: super size 'qkv-dim': file 8\" '$work/imp.err'"
"$hat" import --checkpoint "$tiny" --space number-words --out "$work/tiny.hat" 2>"$work/imp.err"
check "import --space: its differences listed" bash -c "test $? -eq 1 && grep -q \"differ from space 'number-words' in 12\" '$work/imp.err'"
printf 'garbage' >"$work/notorch.pt"
"$hat" import --checkpoint "$work/notorch.pt" --out "$work/x.hat" 2>"$work/imp.err"
check "import: a file that is not torch.save is named" bash -c "test $? -eq 1 && grep -q 'notorch.pt: not a torch.save file' '$work/imp.err'"
check "import: nothing written on failure" test ! -e "$work/tiny.hat" -a ! -e "$work/x.hat"
"$hat" test --checkpoint "$tiny" --data "$4/fairseq" --arch largest 2>"$work/t.err"
check "test on a .pt of no known space: exit 1 with the differences" bash -c "test $? -eq 1 && grep -q 'match no space hat knows' '$work/t.err'"
"$hat" test --checkpoint "$tiny" --data "$work" --arch largest 2>"$work/t.err"
check "test on a .pt with text data: why not" bash -c "test $? -eq 1 && grep -q 'tested on fairseq.s binarized data' '$work/t.err'"
"$hat" train --config "$work/demo/config/training.yml" --restore-file "$tiny" --save-dir "$work/tiny_run" 2>"$work/t.err"
check "train --restore-file of a .pt of another space: exit 1 with the differences" \
  bash -c "test $? -eq 1 && grep -q \"differ from space 'number-words' in 12\" '$work/t.err' && test ! -e '$work/tiny_run/checkpoint_last.hat'"
# HAT's own data: training, search, test and translate on fairseq's binarized folder (tests/data/fairseq:
# separate dictionaries, so no shared table; its 40-sentence test split serves as the training set).
fq=$4/fairseq
sed -e 's/^share-all-embeddings: True/share-all-embeddings: False/' -e 's/^train-subset: train/train-subset: test/' \
  "$work/demo/config/training.yml" >"$work/bin.yml"
"$hat" train --config "$work/bin.yml" --data "$fq" --save-dir "$work/bin_run" --max-updates 4 >/dev/null 2>"$work/bt.err"
check "train on fairseq's binarized data: its splits read with their dictionaries" \
  bash -c "test $? -eq 0 && grep -q 'test (fairseq.s binarized data): 40 pairs' '$work/bt.err' && test ! -e '$work/bin_run/subwords.model'"
"$hat" train --config "$work/demo/config/training.yml" --data "$fq" --save-dir "$work/bin_shared" --max-updates 1 2>"$work/bt.err"
check "train: share-all-embeddings on two dictionaries is refused" \
  bash -c "test $? -eq 1 && grep -q 'share-all-embeddings needs one dictionary for both languages' '$work/bt.err'"
"$hat" test --checkpoint "$work/bin_run/checkpoint_last.hat" --data "$fq" --arch largest --max-len-b 5 --batch 1 --quiet \
  --out "$work/bin_hyp.txt" --json >"$work/bin_test.json"
check "test: a model trained on binarized data, on its test split" grep -q '"split":"test","sentences":40,' "$work/bin_test.json"
head -20 "$fq/bpe.in" | "$hat" translate --checkpoint "$work/bin_run/checkpoint_last.hat" --arch largest --data "$fq" \
  --bpe-codes "$fq/bpe.codes" --max-len-b 5 --batch 1 --quiet >"$work/bin_tr.txt"
check "translate: raw text through the BPE codes and dictionaries gives hat test's hypotheses" \
  bash -c "test \$(wc -l <'$work/bin_tr.txt') -eq 20 && head -20 '$work/bin_hyp.txt' | cmp -s - '$work/bin_tr.txt'"
cp -r "$fq" "$work/fq_other"
sed -i '1s/^./Q/' "$work/fq_other/dict.en.txt"  # the same size, one symbol another
"$hat" valid-loss --checkpoint "$work/bin_run/checkpoint_last.hat" --data "$work/fq_other" "$work/demo/search/75pct.yml" 2>"$work/bt.err"
check "valid-loss: a same-size dictionary of another run is refused by its hash" \
  bash -c "test $? -eq 1 && grep -q 'fq_other/dict.en.txt: not the dictionary .*bin_run/checkpoint_last.hat was trained with' '$work/bt.err'"
echo x | "$hat" translate --checkpoint "$work/bin_run/checkpoint_last.hat" --arch largest --data "$fq" --source-lang en \
  --target-lang de 2>"$work/bt.err"
check "translate: dictionaries of another model are refused by name" \
  bash -c "test $? -eq 1 && grep -q 'dict.en.txt: 46 symbols, but the model.s source table has 47 rows' '$work/bt.err'"
"$hat" translate --checkpoint "$work/bin_run/checkpoint_last.hat" --arch largest </dev/null 2>"$work/bt.err"
check "translate: a model of binarized data without its dictionaries says what to pass" \
  bash -c "test $? -eq 1 && grep -q 'trained on fairseq.s binarized data, so it reads text with fairseq.s dictionaries' '$work/bt.err'"
"$hat" search --predictor "$work/demo/predictor/latency.pred" --latency-constraint 1 --fitness valid-loss --iterations 2 \
  --checkpoint "$work/bin_run/checkpoint_last.hat" --data "$fq" --out "$work/bin_s.yml" --quiet >/dev/null 2>"$work/bs.err"
check "search --fitness valid-loss on fairseq's binarized valid split" \
  bash -c "test $? -eq 0 && test -s '$work/bin_s.yml' && grep -q 'encoder-embed-dim-subtransformer' '$work/bin_s.yml'"
"$hat" pipeline --config "$work/demo/config/pipeline.yml" --data "$fq" --run-dir "$work/bin_pipe" >/dev/null 2>"$work/bp.err"
check "pipeline on binarized data: refused, naming the steps that take it" \
  bash -c "test $? -eq 1 && grep -q 'run hat train, search and test on this folder one by one' '$work/bp.err'"
# hat export: the demo's SuperTransformer as safetensors and back translates exactly as before.
sup=$work/demo/supertransformer
"$hat" export --checkpoint "$sup/checkpoint_last.hat" --out "$work/demo.safetensors" >/dev/null
check "export: a safetensors file (8-byte header length, JSON header with the space)" \
  bash -c "head -c 200 '$work/demo.safetensors' | tail -c +9 | grep -q '\"space\":\"number-words\"'"
"$hat" import --checkpoint "$work/demo.safetensors" --out "$sup/roundtrip.hat" --json >"$work/rt.json"
check "import of hat's safetensors: its space and sharing from the metadata" grep -q '"space":"number-words","format":"safetensors"' "$work/rt.json"
printf 'three hundred two\nseven\n' >"$work/rt.in"
"$hat" translate --checkpoint "$sup/checkpoint_last.hat" --arch largest <"$work/rt.in" >"$work/rt.a" 2>/dev/null
"$hat" translate --checkpoint "$sup/roundtrip.hat" --arch largest <"$work/rt.in" >"$work/rt.b" 2>/dev/null
check "export then import: the same translations" bash -c "test -s '$work/rt.a' && cmp -s '$work/rt.a' '$work/rt.b'"
"$hat" translate --checkpoint "$sup/checkpoint_last.hat" --arch largest --precision bf16 <"$work/rt.in" >"$work/rt.bf16" 2>/dev/null
check "translate --precision bf16: a translation per line" bash -c "test $? -eq 0 && test \$(wc -l <'$work/rt.bf16') -eq 2"
"$hat" translate --checkpoint "$sup/checkpoint_last.hat" --arch largest --precision int8 <"$work/rt.in" >"$work/rt.int8" 2>/dev/null
check "translate --precision int8: a translation per line" bash -c "test $? -eq 0 && test \$(wc -l <'$work/rt.int8') -eq 2"
"$hat" export --checkpoint "$sup/checkpoint_last.hat" --arch "$work/demo/search/75pct.yml" --out "$work/dense.safetensors" >/dev/null
check "export --arch: the dense SubTransformer is smaller" test "$(stat -c %s "$work/dense.safetensors")" -lt "$(stat -c %s "$work/demo.safetensors")"
"$hat" import --checkpoint "$work/dense.safetensors" --out "$work/dense.hat" 2>"$work/imp.err"
check "import of a dense export: refused with the reason" bash -c "test $? -eq 1 && grep -q 'a dense SubTransformer export' '$work/imp.err'"
head -c 300 "$work/demo.safetensors" >"$work/cut.safetensors"
"$hat" import --checkpoint "$work/cut.safetensors" --out "$work/cut.hat" 2>"$work/imp.err"
check "import of a truncated safetensors file: an error naming it" bash -c "test $? -eq 1 && grep -q 'cut.safetensors: ' '$work/imp.err'"
if /usr/bin/python3 -c 'import torch, safetensors' 2>/dev/null; then
  /usr/bin/python3 - "$work/demo.safetensors" <<'PY' >"$work/py.txt"
import sys
from safetensors.torch import load_file
sd = load_file(sys.argv[1])
print(len(sd), tuple(sd["encoder.embed_tokens.weight"].shape), bool((sd["encoder.embed_tokens.weight"] == sd["decoder.embed_tokens.weight"]).all()))
PY
  check "export: PyTorch's safetensors loads it, the shared table under both names" grep -q ' True$' "$work/py.txt"
else
  echo "cli: loading the export in PyTorch skipped (no python3 torch + safetensors)"
fi
# With Debian's PyTorch at hand: a fairseq checkpoint of the number-words space, imported.
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  PYTHONPATH=$(dirname "$0")/../reference /usr/bin/python3 -c 'import sys, torch, make_torch_fixtures as fx
torch.save(fx.number_words_checkpoint(30, 30, "all", 5), sys.argv[1], _use_new_zipfile_serialization=False)' "$work/nw.pt"
  "$hat" import --checkpoint "$work/nw.pt" --out "$work/nw.hat" --json >"$work/imp.json"
  check "import: a number-words checkpoint found its space and its shared vocabulary" \
    grep -q '"space":"number-words","format":"legacy torch.save","source_vocabulary":30,"target_vocabulary":30,"sharing":"all"' "$work/imp.json"
  check "import: the hat checkpoint records where it came from" grep -aq 'state imported_from nw.pt' "$work/nw.hat"
  # hat test straight from a .pt on fairseq's binarized data (tests/data/fairseq: 40 sentences)
  PYTHONPATH=$(dirname "$0")/../reference /usr/bin/python3 -c 'import sys, torch, make_torch_fixtures as fx
n = lambda lang: 4 + sum(1 for _ in open("%s/dict.%s.txt" % (sys.argv[2], lang)))
torch.save(fx.number_words_checkpoint(n("de"), n("en"), "none", 6), sys.argv[1])' "$work/nw2.pt" "$4/fairseq"
  "$hat" test --checkpoint "$work/nw2.pt" --data "$4/fairseq" --arch largest --max-len-b 5 --json --quiet >"$work/bin.json"
  check "test: a .pt on fairseq's binarized data, its languages from its args" grep -q '"split":"test","sentences":40,' "$work/bin.json"
  "$hat" valid-loss --checkpoint "$work/nw2.pt" --data "$4/fairseq" --json "$work/demo/search/75pct.yml" >"$work/vl.json"
  check "valid-loss: a .pt on fairseq's binarized data (its TNTIDX valid split)" grep -q '"loss":[0-9][0-9.]*,' "$work/vl.json"
  "$hat" import --checkpoint "$work/nw2.pt" --out "$work/nw2.hat" >/dev/null
  "$hat" valid-loss --checkpoint "$work/nw2.hat" --data "$4/fairseq" --json "$work/demo/search/75pct.yml" >"$work/vl2.json"
  check "valid-loss: the imported checkpoint scores exactly as the .pt" cmp -s "$work/vl.json" "$work/vl2.json"
  "$hat" export --checkpoint "$work/nw2.pt" --out "$work/nw2.safetensors" >/dev/null
  "$hat" import --checkpoint "$work/nw2.safetensors" --out "$work/nw2s.hat" >/dev/null
  "$hat" valid-loss --checkpoint "$work/nw2s.hat" --data "$4/fairseq" --json "$work/demo/search/75pct.yml" >"$work/vl4.json"
  check "export of a .pt to safetensors and back scores as the .pt" cmp -s "$work/vl.json" "$work/vl4.json"
  # HAT's evo_search.py on HAT's files: the search on the .pt is the search on its import
  for f in nw2.pt nw2.hat; do
    "$hat" search --predictor "$work/demo/predictor/latency.pred" --latency-constraint 1 --fitness valid-loss --iterations 3 \
      --checkpoint "$work/$f" --data "$4/fairseq" --out "$work/s_$f.yml" --history "$work/h_$f.csv" --quiet >/dev/null
  done
  check "search: a .pt on binarized data scores and finds as its import" \
    bash -c "test -s '$work/h_nw2.pt.csv' && cmp -s '$work/h_nw2.pt.csv' '$work/h_nw2.hat.csv' && cmp -s '$work/s_nw2.pt.yml' '$work/s_nw2.hat.yml'"
  # fairseq-interactive's way: raw lines, BPE codes and the folder's dictionaries
  "$hat" test --checkpoint "$work/nw2.pt" --data "$4/fairseq" --arch largest --max-len-b 5 --batch 1 --quiet --out "$work/nw2_hyp.txt" >/dev/null
  head -20 "$4/fairseq/bpe.in" | "$hat" translate --checkpoint "$work/nw2.pt" --arch largest --data "$4/fairseq" \
    --bpe-codes "$4/fairseq/bpe.codes" --max-len-b 5 --batch 1 --quiet >"$work/nw2_tr.txt"
  check "translate: a .pt with BPE codes and dictionaries gives hat test's hypotheses" \
    bash -c "test \$(wc -l <'$work/nw2_tr.txt') -eq 20 && head -20 '$work/nw2_hyp.txt' | cmp -s - '$work/nw2_tr.txt'"
  "$hat" translate --checkpoint "$work/nw2.pt" --arch largest </dev/null 2>"$work/t.err"
  check "translate: a .pt without --data says what to pass" bash -c "test $? -eq 1 && grep -q 'pass --data' '$work/t.err'"
  # fairseq's --finetune-from-model: training starts from the .pt's weights, and resumes its own
  "$hat" train --config "$work/bin.yml" --data "$4/fairseq" --save-dir "$work/pt_run" --restore-file "$work/nw2.pt" --max-updates 0 \
    >/dev/null 2>"$work/pt.err"
  "$hat" valid-loss --checkpoint "$work/pt_run/checkpoint_last.hat" --data "$4/fairseq" --json "$work/demo/search/75pct.yml" >"$work/vl3.json"
  check "train --restore-file .pt: the run starts from its weights exactly" \
    bash -c "grep -q 'starting from the weights of' '$work/pt.err' && cmp -s '$work/vl.json' '$work/vl3.json'"
  "$hat" train --config "$work/bin.yml" --data "$4/fairseq" --save-dir "$work/pt_run" --restore-file "$work/nw2.pt" --max-updates 2 \
    >/dev/null 2>"$work/pt.err"
  check "train --restore-file .pt again: the save folder's run resumes" grep -q 'resumed from .*pt_run/checkpoint_last.hat at update 0' "$work/pt.err"
  "$hat" train --config "$work/demo/config/training.yml" --data "$work/demo/data" --save-dir "$work/pt_text" \
    --restore-file "$work/nw2.pt" >/dev/null 2>"$work/pt.err"
  check "train --restore-file .pt on a text corpus: refused (its tables are fairseq's dictionaries')" \
    bash -c "test $? -eq 1 && grep -q 'indexed by fairseq.s dictionaries' '$work/pt.err' && test ! -e '$work/pt_text/checkpoint_last.hat'"
  cp "$work/nw.pt" "$work/nw.kept"
  "$hat" import --checkpoint "$work/nw.pt" --out "$work/nw.pt" 2>"$work/imp.err"
  check "import: never overwrites its input" bash -c "test $? -ne 0 && cmp -s '$work/nw.pt' '$work/nw.kept'"
else
  echo "cli: import of a generated number-words checkpoint skipped (no python3 torch)"
fi

echo "cli: $passes passed, $fails failed"
test $fails -eq 0
