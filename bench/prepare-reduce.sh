#!/usr/bin/env bash
# prepare's reduce at scale: ROWS rows of synthetic map results (random tokens, review-like lengths,
# 2 % repeated texts) in TASKS results on disk, then the reduce alone under a small heap (HEAP), timed,
# with its heap peak (io.gpt2cls.dataset.ReduceBenchmark). Tokenizing that many rows takes hours on
# 2 vCPUs; the map's per-task rate is bench/prepare-mapreduce.sh's. Needs a built jar and ~10 GB of disk
# per 10 M rows (results + shards). Usage: bench/prepare-reduce.sh [work-dir]
#   (env: ROWS=10000000 TASKS=200 HEAP=2g JAR=path)
set -euo pipefail
source "$(dirname "$0")/prepare-env.sh" "${1:-runs/prepare-reduce}"
java -Xmx"${HEAP:-2g}" -Dorg.jboss.logging.provider=jdk -cp "$JAR" io.gpt2cls.dataset.ReduceBenchmark "$WORK/tokenizer/tokenizer.json" \
  "$WORK" "${ROWS:-10000000}" "${TASKS:-200}" 2> "$WORK/run.log" | tee -a "$WORK/results.jsonl"
