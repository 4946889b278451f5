#!/usr/bin/env bash
# `hat profile` and `hat check-space` on HAT's released configs (needs ../shared).
# Usage: cli_shared_test.sh HAT_EXE SHARED_DIR TEST_DATA_DIR
set -u
hat=$1 configs=$2/reference/hat-configs data=$3
fails=0 passes=0
check() {
  local what=$1; shift
  if "$@"; then passes=$((passes + 1)); else echo "FAILED: $what"; fails=$((fails + 1)); fi
}

# Every released model: JSON params/flops, rounded as HAT's README prints them.
mismatch=0 n=0
while IFS=, read -r task file params_m flops_g; do
  [ "$task" = task ] && continue
  line=$("$hat" profile --task "$task" --json "$configs/$task/subtransformer/$file") || { mismatch=$((mismatch+1)); continue; }
  p=$(echo "$line" | sed -E 's/.*"params":([0-9]+).*/\1/')
  f=$(echo "$line" | sed -E 's/.*"flops":([0-9]+).*/\1/')
  got=$(awk -v p="$p" -v f="$f" 'BEGIN { printf "%.2f,%.2f", p / 1e6, f / 1e9 }')
  if [ "$got" != "$params_m,$flops_g" ]; then echo "  $file: got $got, HAT published $params_m,$flops_g"; mismatch=$((mismatch+1)); fi
  n=$((n + 1))
done <"$data/hat_published.csv"
check "44 released models profiled" test $n -eq 44
check "all match HAT's published #params and FLOPs" test $mismatch -eq 0

"$hat" check-space --space wmt "$configs/wmt14.en-de/supertransformer/space0.yml" >/dev/null
check "space0.yml matches the wmt space" test $? -eq 0
"$hat" check-space --space latency "$configs/wmt14.en-de/latency_dataset/cpu_xeon.yml" >/dev/null
check "latency-dataset config matches the latency space" test $? -eq 0
out=$("$hat" check-space --space wmt "$configs/iwslt14.de-en/supertransformer/space1.yml"); rc=$?
check "space1.yml vs wmt: exit 1" test $rc -eq 1
check "space1.yml vs wmt: 9 differences listed" bash -c "echo \"\$0\" | grep -q '9 differences'" "$out"

# Predictor and search on HAT's Xeon latency dataset.
work=$(mktemp -d)
# BLEU on a real WMT21 system output (the JSON's numbers are checked in full by test_eval).
bleu=$2/reference/bleu wmt=$2/corpora/wmt21-newstest2021
hyp=$bleu/newstest2021.de-en.hyp.Watermelon.en
out=$("$hat" bleu "$hyp" --ref "$wmt/newstest2021.de-en.ref.A.en" --chrf)
check "bleu: sacreBLEU's summary line, signature and chrF" bash -c "echo \"\$0\" | grep -q '^BLEU = 34.47 66.2/41.3/27.5/18.9 (BP = 0.999 ratio = 0.999 hyp_len = 20150 ref_len = 20180)' && echo \"\$0\" | grep -q '^nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0' && echo \"\$0\" | grep -q '^chrF2 = 62.31'" "$out"
out=$("$hat" bleu "$hyp" -r "$wmt/newstest2021.de-en.ref.A.en" -r "$wmt/newstest2021.de-en.ref.B.en" -t intl --json)
check "bleu --json, two references, intl" bash -c "echo \"\$0\" | grep -q '\"score\":52.5312890305569[0-9]*,\"counts\":\[16836,11904,8474,5963\]' && echo \"\$0\" | grep -q '\"signature\":\"nrefs:2|case:mixed|eff:no|tok:intl|smooth:exp|version:2.6.0\"'" "$out"
check "bleu --sentence: one score per line" test "$("$hat" bleu "$hyp" -r "$wmt/newstest2021.de-en.ref.A.en" --sentence | wc -l)" -eq 1000
check "bleu --fairseq: HAT's tokenized BLEU" bash -c "'$hat' bleu '$hyp' -r '$wmt/newstest2021.de-en.ref.A.en' --fairseq | grep -q '^BLEU4 = [0-9]*\.[0-9][0-9], '"
out=$("$hat" bleu "$hyp" -r "$wmt/newstest2021.de-en.ref.A.en" --compare "$bleu/newstest2021.de-en.hyp.Manifold.en" --json)
check "bleu --compare: two WMT21 systems' BLEU, and their difference significant" \
  bash -c "echo \"\$0\" | grep -q '\"bleu\":34.474' && echo \"\$0\" | grep -q '\"bleu_compared\":32.97' && echo \"\$0\" | grep -q '\"p_value\":0.000999'" "$out"
check "bleu --compare: a system against itself is not significantly different" \
  bash -c "'$hat' bleu '$hyp' -r '$wmt/newstest2021.de-en.ref.A.en' --compare '$hyp' --samples 200 | grep -q 'difference +0.00, .* p = 1.0000 (paired bootstrap, 200 resamples): not significant'"
head -3 "$hyp" >"$work/short.txt"
"$hat" bleu "$hyp" -r "$wmt/newstest2021.de-en.ref.A.en" --compare "$work/short.txt" 2>"$work/bleu.err"
check "bleu --compare: line counts that differ are named" bash -c "test $? -eq 1 && grep -q 'short.txt has 3 lines but' '$work/bleu.err'"
"$hat" bleu "$work/short.txt" -r "$wmt/newstest2021.de-en.ref.A.en" 2>"$work/bleu.err"
check "bleu: line counts that differ are named" bash -c "test $? -eq 1 && grep -q 'ref.A.en has 1000 lines but .*short.txt has 3' '$work/bleu.err'"
printf 'ok\n\xff\n' >"$work/bad.txt"
"$hat" bleu "$work/bad.txt" -r "$work/bad.txt" 2>"$work/bleu.err"
check "bleu: invalid UTF-8 names the file and line" bash -c "test $? -eq 1 && grep -q 'bad.txt:2: not valid UTF-8' '$work/bleu.err'"

csv=$2/reference/latency-datasets/wmt14ende_cpu_xeon_all.csv
"$hat" predictor train --csv "$csv" --lat-norm 300 --out "$work/q.pred" --model quadratic --json --plot "$work/fit.svg" >"$work/q.json" 2>/dev/null
check "predictor train: JSON metrics" grep -q '"rmse_ms":[0-9.]*,"mape":[0-9.e-]*,"within10":[0-9.]*,"kendall_tau":0\.[0-9]*' "$work/q.json"
check "predictor train: quadratic model is accurate (MAPE < 7 %)" awk -F'"mape":' '{ split($2, a,","); exit !(a[1] < 0.07) }' "$work/q.json"
check "predictor train: fit plot is SVG" grep -q '</svg>' "$work/fit.svg"
"$hat" predictor train --csv "$csv" --lat-norm 300 --out "$work/m.pred" --steps 40 --json >"$work/m.json" 2>"$work/m.err"
check "predictor train (mlp): progress with ETA on stderr" grep -q 'ETA' "$work/m.err"
"$hat" predictor train --csv "$csv" --lat-norm 300 --out "$work/m2.pred" --steps 40 >/dev/null 2>&1
check "predictor train: same seed, byte-identical predictor" cmp -s "$work/m.pred" "$work/m2.pred"
"$hat" predictor train --csv "$2/reference/latency-datasets/wmt14enfr_cpu_raspberrypi_all.csv" --lat-norm 5000 \
  --model auto --steps 20 --out "$work/auto.pred" --json >"$work/auto.json" 2>"$work/auto.err"
check "predictor train --model auto: picks quadratic on the Raspberry Pi En-Fr data" grep -q '"model":"quadratic"' "$work/auto.json"
"$hat" predictor eval --model "$work/q.pred" --csv "$csv" --json >"$work/e.json"
check "predictor eval: 2000 rows" grep -q '"rows":2000' "$work/e.json"
"$hat" predictor predict --model "$work/q.pred" --json "$configs"/wmt14.en-de/subtransformer/HAT_wmt14ende_xeon*.yml >"$work/p.json"
check "predictor predict: one line per config" test "$(grep -c '"latency_ms":[0-9]' "$work/p.json")" -eq 6
printf 'garbage' >"$work/bad.pred"
"$hat" predictor predict --model "$work/bad.pred" "$configs"/wmt14.en-de/subtransformer/HAT_wmt14ende_xeon@137.9ms_bleu@25.8.yml 2>"$work/bad.err"
check "predictor predict: damaged model rejected" bash -c "test $? -ne 0 && grep -q 'bad.pred: not a hat latency predictor' '$work/bad.err'"
# HAT's own shipped Xeon predictor (a legacy torch.save file), imported: hat-spec.md §12.2's
# whole-file accuracy, and HAT's search driven by it.
"$hat" predictor import --pt "$2/reference/hat-predictors/wmt14ende_cpu_xeon.pt" --lat-norm 300 --out "$work/hat.pred" >/dev/null
"$hat" predictor eval --model "$work/hat.pred" --csv "$csv" >"$work/hat_eval.txt"
check "predictor import: HAT's Xeon predictor, RMSE 15.76 ms and MAPD 4.79 % (hat-spec §12.2)" grep -q 'RMSE 15.76 ms, MAPE 4.79 %' "$work/hat_eval.txt"
"$hat" predictor import --pt "$work/hat.pred" --lat-norm 300 --out "$work/x.pred" 2>"$work/imp.err"
check "predictor import: a file that is not torch.save is named" bash -c "test $? -eq 1 && grep -q 'hat.pred: not a torch.save file' '$work/imp.err'"
cp "$work/hat.pred" "$work/kept.pred"
"$hat" predictor import --pt "$work/hat.pred" --lat-norm 300 --out "$work/hat.pred" 2>"$work/imp.err"
check "predictor import: never overwrites its input" bash -c "test $? -ne 0 && grep -q 'refusing to overwrite' '$work/imp.err' && cmp -s '$work/hat.pred' '$work/kept.pred'"
"$hat" search --task wmt14.en-de --predictor "$work/hat.pred" --latency-constraint 200 --out "$work/h.yml" \
  --iterations 4 --population 12 --parents 4 --mutations 4 --crossovers 4 --quiet --seed 5 >/dev/null 2>&1
check "search with HAT's imported predictor: feasible" bash -c "\"$hat\" predictor predict --model '$work/hat.pred' '$work/h.yml' | awk '{ exit !(\$2 <= 200) }'"
small="--iterations 4 --population 12 --parents 4 --mutations 4 --crossovers 4 --quiet"
"$hat" search --task wmt14.en-de --predictor "$work/q.pred" --latency-constraint 200 --out "$work/a.yml" $small --seed 5 --pareto "$work/front.csv" --pareto-generations 5 >/dev/null 2>&1
"$hat" search --task wmt14.en-de --predictor "$work/q.pred" --latency-constraint 200 --out "$work/b.yml" $small --seed 5 >/dev/null 2>&1
check "search: same seed, same architecture" cmp -s "$work/a.yml" "$work/b.yml"
check "search: the result is feasible" bash -c "\"$hat\" predictor predict --model '$work/q.pred' '$work/a.yml' | awk '{ exit !(\$2 <= 200) }'"
check "search: Pareto CSV and SVG written" bash -c "head -1 '$work/front.csv' | grep -q 'latency_ms,arch' && grep -q '</svg>' '$work/front.svg'"
start=$(date +%s)
"$hat" search --task wmt14.en-de --predictor "$work/q.pred" --latency-constraint 5 --out "$work/c.yml" --quiet 2>"$work/inf.err"
rc=$?
check "search: infeasible constraint exits 3" test $rc -eq 3
check "search: infeasible message names the limit and the best value" grep -q 'smallest constraint value seen was .* against the limit 5' "$work/inf.err"
check "search: infeasible ends within seconds" test $(( $(date +%s) - start )) -le 10
"$hat" search --task wmt14.en-de --predictor "$work/q.pred" --latency-constraint 200 --out "$work/d.yml" --population 50 2>"$work/opt.err"
check "search: inconsistent population rejected" bash -c "test $? -eq 2 && grep -q population '$work/opt.err'"
rm -rf "$work"

# Training on Multi30k with the shipped tiny config: a resumed run continues the uninterrupted
# one exactly; SIGINT saves and exits 130; valid-loss reads the checkpoint.
tiny=$(cd "$(dirname "$0")/../../examples/configs" && pwd)/multi30k_tiny.yml
m30k=$2/corpora/multi30k
work=$(mktemp -d)
"$hat" train --config "$tiny" --data "$m30k" --save-dir "$work/a" --log "$work/a.jsonl" --max-updates 6 >/dev/null 2>"$work/a.err"
check "train: exits 0" test $? -eq 0
check "train: progress line with tok/s and ETA" grep -q 'update 6/6 | loss .* tok/s .* ETA' "$work/a.err"
check "train: validation of the largest and smallest" bash -c "grep -q 'valid loss largest' '$work/a.err' && grep -q 'valid loss smallest' '$work/a.err'"
check "train: one JSON line per update" test "$(grep -c '"update":[0-9]*,"loss":[0-9.]*' "$work/a.jsonl")" -eq 6
check "train: loss curve CSV and SVG" bash -c "test \$(wc -l <'$work/a/loss.csv') -eq 7 && grep -q '</svg>' '$work/a/loss.svg'"
"$hat" train --config "$tiny" --data "$m30k" --save-dir "$work/b" --log "$work/b.jsonl" --max-updates 3 >/dev/null 2>&1
"$hat" train --config "$tiny" --data "$m30k" --save-dir "$work/b" --log "$work/b.jsonl" --max-updates 6 >/dev/null 2>"$work/b.err"
check "train: the same command resumes from the save folder" grep -q 'resumed from .* at update 3' "$work/b.err"
check "train: resumed run = uninterrupted run, bit for bit (losses, lr, gradient norms)" \
  bash -c "diff <(sed -E 's/,\"seconds\":[0-9.e+-]*//' '$work/a.jsonl') <(sed -E 's/,\"seconds\":[0-9.e+-]*//' '$work/b.jsonl')"
cat >"$work/small.yml" <<'YML'
encoder-embed-dim-subtransformer: 96
decoder-embed-dim-subtransformer: 96
encoder-ffn-embed-dim-all-subtransformer: [256, 256]
decoder-ffn-embed-dim-all-subtransformer: [256]
encoder-layer-num-subtransformer: 2
decoder-layer-num-subtransformer: 1
encoder-self-attention-heads-all-subtransformer: [2, 2]
decoder-self-attention-heads-all-subtransformer: [2]
decoder-ende-attention-heads-all-subtransformer: [2]
decoder-arbitrary-ende-attn-all-subtransformer: [1]
YML
"$hat" valid-loss --checkpoint "$work/a/checkpoint_last.hat" --data "$m30k" --batches 2 --json "$work/small.yml" >"$work/va.json"
"$hat" valid-loss --checkpoint "$work/b/checkpoint_last.hat" --data "$m30k" --batches 2 --json "$work/small.yml" >"$work/vb.json"
check "valid-loss: JSON with loss" grep -q '"loss":[0-9.]*,"nll":[0-9.]*,"tokens":[0-9]*' "$work/va.json"
check "valid-loss: resumed and uninterrupted weights agree" cmp -s "$work/va.json" "$work/vb.json"
mkdir -p "$work/few"
zcat -f "$m30k"/test_2016_flickr.de* | head -12 >"$work/few/test.de"
zcat -f "$m30k"/test_2016_flickr.en* | head -12 >"$work/few/test.en"
"$hat" test --checkpoint "$work/a/checkpoint_last.hat" --arch "$work/small.yml" --data "$work/few" --beam 2 --max-len-b 8 \
  --json --quiet --out "$work/few.hyp" >"$work/test.json"
check "test: JSON with both BLEUs, #params and FLOPs" \
  grep -q '"sentences":12,"bleu":[0-9.]*,"bleu_tokenized":[0-9.]*,.*"params":[0-9]*,"flops":[0-9]*' "$work/test.json"
check "test --out: one translation per line" test "$(wc -l <"$work/few.hyp")" -eq 12
"$hat" translate --checkpoint "$work/a/checkpoint_last.hat" --arch "$work/small.yml" --beam 2 --max-len-b 8 --quiet \
  <"$work/few/test.de" >"$work/few.translate"
check "translate: the same translations as test" cmp -s "$work/few.hyp" "$work/few.translate"
"$hat" test --checkpoint "$work/a/checkpoint_last.hat" --arch "$work/small.yml" --data "$work/few" --split nope --quiet 2>"$work/test.err"
check "test: a missing split is named" bash -c "test $? -eq 1 && grep -q 'nope.de' '$work/test.err'"
"$hat" train --config "$tiny" --data "$m30k" --save-dir "$work/a" --arch "$work/small.yml" --max-updates 2 >/dev/null 2>"$work/clash.err"
check "train --arch into a SuperTransformer's save folder: refused, nothing overwritten" \
  bash -c "test $? -eq 1 && grep -q 'checkpoint of another run' '$work/clash.err' && cmp -s '$work/va.json' <('$hat' valid-loss --checkpoint '$work/a/checkpoint_last.hat' --data '$m30k' --batches 2 --json '$work/small.yml')"
"$hat" train --config "$tiny" --data "$m30k" --save-dir "$work/sub" --restore-file "$work/a/checkpoint_last.hat" \
  --arch "$work/small.yml" --max-updates 2 --log "$work/sub.jsonl" >/dev/null 2>"$work/sub.err"
check "train --arch --restore-file: one SubTransformer from the inherited weights, 2 updates" \
  bash -c "grep -q 'weights of .* (inherited' '$work/sub.err' && grep -q 'one fixed SubTransformer' '$work/sub.err' && test \$(wc -l <'$work/sub.jsonl') -eq 2"
"$hat" train --config "$tiny" --data "$m30k" --save-dir "$work/c" --log "$work/c.jsonl" --max-updates 100000 >/dev/null 2>"$work/c.err" &
pid=$!
for _ in $(seq 1 600); do [ -s "$work/c.jsonl" ] && [ "$(wc -l <"$work/c.jsonl")" -ge 2 ] && break; sleep 0.2; done
kill -INT $pid
wait $pid
rc=$?
check "train: SIGINT exits 130" test $rc -eq 130
check "train: SIGINT saves and says how to resume" bash -c "grep -q 'interrupted at update [0-9]*: saved' '$work/c.err' && test -s '$work/c/checkpoint_last.hat'"
printf 'keep me\n' >"$work/notes.txt"
"$hat" train --config "$tiny" --data "$m30k" --save-dir "$work/a" --log "$work/notes.txt" --max-updates 7 >/dev/null 2>"$work/notes.err"
check "train --log: a file that is not a training log is refused and kept" \
  bash -c "test $? -eq 1 && grep -q 'notes.txt:1: not a line of a hat train log' '$work/notes.err' && test \"\$(cat '$work/notes.txt')\" = 'keep me'"
printf 'space: multi30k-tiny\nmax-updat: 3\n' >"$work/bad.yml"
"$hat" train --config "$work/bad.yml" --data "$m30k" 2>"$work/bad.err"
check "train: an unknown key is named with its line" bash -c "test $? -eq 1 && grep -q 'bad.yml:2: unknown key .max-updat.' '$work/bad.err'"
rm -rf "$work"

echo "cli.shared: $passes passed, $fails failed"
test $fails -eq 0
