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
  p=$(echo "$line" | sed -E 's/.*"params": ([0-9]+).*/\1/')
  f=$(echo "$line" | sed -E 's/.*"flops": ([0-9]+).*/\1/')
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

echo "cli.shared: $passes passed, $fails failed"
test $fails -eq 0
