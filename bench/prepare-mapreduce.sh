#!/usr/bin/env bash
# Map/reduce prepare: rows/s with 1, 2 and 4 workers on a generated JSON Lines file (byte-range tasks of
# TASK_MB) and on PARTS Parquet part files (a task each); per-task and reduce seconds for projecting a
# run on Lambda (BENCHMARKS.md says how). Needs a built jar (./mvnw -q package -DskipTests).
# Usage: bench/prepare-mapreduce.sh [work-dir]   (env: JSONL_MB=2048 PARTS=200 ROWS_PER_PART=20000 TASK_MB=64
#        WORKERS="1 2 4" JAR=path; IN_TURN=no: the prepare alone, without the tasks once more in turn and the
#        reduce alone). The issue's full size is the default; on 2 vCPUs it takes hours (~15 min a 2 GB pass).
set -euo pipefail
source "$(dirname "$0")/prepare-env.sh" "${1:-runs/prepare-mapreduce}"
# shellcheck disable=SC2086
java -Dorg.jboss.logging.provider=jdk -cp "$JAR" io.gpt2cls.dataset.MapReduceBenchmark "$WORK/tokenizer/tokenizer.json" \
  "$WORK" "${JSONL_MB:-2048}" "${PARTS:-200}" "${ROWS_PER_PART:-20000}" "${TASK_MB:-64}" ${WORKERS:-1 2 4} \
  2> "$WORK/run.log" | tee "$WORK/results.jsonl"
