#!/usr/bin/env bash
# classify's warm benchmarks in one run on one machine, each number next to a limit measured in the
# same process (BENCHMARKS.md, "classify"):
#   1. warm latency, GPT-2-small shapes (random weights), batch 1 x 16, 64, 128, 512 tokens: through the
#      function path (event in, answer out) and the bare forward, p50/p90/p99 over $REQUESTS requests;
#   2. throughput at batch 8 and 32 (x 128 tokens), with 1 and with 2 concurrent clients;
#   4. each case's FLOP limit (its forward's FLOPs / the matMul peak measured in the same process);
#   5. the same shapes in PyTorch from Python (bench/torch_classify.py, torch.no_grad(), same threads).
# (3. cold start is bench/cold_start.py; memory over 10,000 requests is bench/soak.sh.)
#
#   ./mvnw -B -q package -DskipTests && bench/classify.sh [OUT_DIR]
#   SEQS=64 BATCHES= bench/classify.sh runs/bench-classify-2    # a repeat of the headline case only
#   SEQS="64 128" BATCHES= REQUESTS=30 bench/classify.sh          # issue 18's rows 1-3 (p50 / FLOP limit, PyTorch / Java)
#   BASELINE_JAR=/tmp/base/gpt2cls-runner.jar bench/classify.sh   # also that build, case by case, order alternating
#   PYTHON_CASES=no BASELINE_JAR=... bench/classify.sh             # an A/B of two builds only (Python's cases take minutes here)
#
# With BASELINE_JAR every Java case runs twice, the two builds alternating which goes first, and the report
# adds each case's p50 of this build over the baseline's (a code change's effect, measured in one run).
# Writes $OUT/results.jsonl (one JSON object per measurement) and prints the tables (bench/classify_report.py).
set -euo pipefail
cd "$(dirname "$0")/.."
JAR=${JAR:-target/gpt2cls-runner.jar}
OUT=${1:-runs/bench-classify}
REQUESTS=${REQUESTS:-50}
# Warm-up requests before the latency cases' timed ones. A JVM is warm once its JIT has compiled the request
# path: after 5 requests the compiler threads still run beside the timed ones, on the CPUs the forward uses
# (GPT-2 small at 1 x 64 measured 2.5-12 ms slower through the function path at 5 than at 30; BENCHMARKS.md).
WARMUP=${WARMUP:-30}
# A batch of 32 x 128 takes ~15 s on 2 CPUs: few requests, one warm-up, keep the run under 20 minutes.
THROUGHPUT_REQUESTS=${THROUGHPUT_REQUESTS:-4}
SEQS=${SEQS-16 64 128 512}   # set and empty: none
BATCHES=${BATCHES-8 32}
PYTHON=${PYTHON:-/usr/bin/python3}   # Debian's python3-torch and libopenblas0-pthread; a pyenv python3 may not have torch
BASELINE_JAR=${BASELINE_JAR:-}
PYTHON_CASES=${PYTHON_CASES:-yes}
THREADS=$(nproc)
[ "$PYTHON_CASES" = no ] || "$PYTHON" bench/torch_blas_check.py "$THREADS"
mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
: > "$RESULTS"

{
  echo "{\"machine\": \"$(lscpu | sed -n 's/^Model name: *//p')\", \"cpus\": $THREADS, \"date\": \"$(date -u +%FT%TZ)\","
  echo " \"java\": \"$(java -version 2>&1 | head -1 | tr -d '"')\", \"load_before\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
} | tr -d '\n' >> "$RESULTS"
echo >> "$RESULTS"

java_case() { # batch seq requests clients warmup [jar impl]
  java -jar "${6:-$JAR}" bench-classify --preset gpt2-small --batch "$1" --seq "$2" --requests "$3" --clients "$4" --warmup "$5" 2>/dev/null \
    | "$PYTHON" -c 'import json,sys; d=json.load(sys.stdin); d["impl"]=sys.argv[1]; print(json.dumps(d))' "${7:-java}" >> "$RESULTS"
}
ORDER=0
java_cases() { # batch seq requests clients warmup: this build, and the baseline's beside it when given
  if [ -z "$BASELINE_JAR" ]; then
    java_case "$@"
  elif [ $((ORDER++ % 2)) -eq 0 ]; then
    java_case "$@" "$JAR" java; java_case "$@" "$BASELINE_JAR" java-baseline
  else
    java_case "$@" "$BASELINE_JAR" java-baseline; java_case "$@" "$JAR" java
  fi
}
python_case() { # batch seq requests warmup
  [ "$PYTHON_CASES" = no ] && return 0
  # Threads that sleep when idle, as NativeRuntime sets for libtorch in Java: on a shared host spinning
  # OpenMP threads take several times longer, which would compare the host's load rather than the code.
  OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS "$PYTHON" bench/torch_classify.py --batch "$1" --seq "$2" \
    --requests "$3" --warmup "$4" --threads "$THREADS" | "$PYTHON" -c 'import json,sys; d=json.load(sys.stdin); d["impl"]="python"; print(json.dumps(d))' >> "$RESULTS"
}

for seq in $SEQS; do
  echo "batch 1 x $seq" >&2
  java_cases 1 "$seq" "$REQUESTS" 1 "$WARMUP"
  python_case 1 "$seq" "$REQUESTS" "$WARMUP"
done
for batch in $BATCHES; do
  echo "batch $batch x 128" >&2
  java_cases "$batch" 128 "$THROUGHPUT_REQUESTS" 1 1
  java_cases "$batch" 128 "$THROUGHPUT_REQUESTS" 2 1
  python_case "$batch" 128 "$THROUGHPUT_REQUESTS" 1
done
echo "{\"load_after\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >> "$RESULTS"
"$PYTHON" bench/classify_report.py "$RESULTS"
