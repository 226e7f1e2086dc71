#!/usr/bin/env bash
# classify's memory over a long run: 10,000 requests of mixed lengths (1 to 8 texts, 60% up to 32 tokens,
# 30% up to 128, 10% up to MAX_SEQ) through the function path, every 20th one malformed, random weights.
# RSS is sampled every 250 requests; the goal is < 5% growth after the first tenth (warm-up). A fixed
# probe request, timed every 50 requests, shows whether latency stays the same.
# GPT-2 small takes ~0.5 s a request on 2 busy CPUs (10,000 would take over an hour), so the 10,000 run
# uses the tiny preset (the same code path and shapes) and GPT-2 small gives the peak over fewer:
#
#   ./mvnw -B -q package -DskipTests && bench/soak.sh [OUT_DIR]
#   PRESET=gpt2-small REQUESTS=1000 bench/soak.sh runs/soak-gpt2-small
set -euo pipefail
cd "$(dirname "$0")/.."
JAR=${JAR:-target/gpt2cls-runner.jar}
OUT=${1:-runs/soak}
REQUESTS=${REQUESTS:-10000}
MAX_SEQ=${MAX_SEQ:-256}
PRESET=${PRESET:-tiny}
mkdir -p "$OUT"
echo "$(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)" > "$OUT/machine.txt"
/usr/bin/time -v java -jar "$JAR" soak-classify --preset "$PRESET" --requests "$REQUESTS" --max-seq "$MAX_SEQ" --bad-every 20 \
  > "$OUT/soak.json" 2> >(tee "$OUT/soak.log" >&2)
cat "$OUT/machine.txt" "$OUT/soak.json"
grep -E "Maximum resident|Elapsed" "$OUT/soak.log"
