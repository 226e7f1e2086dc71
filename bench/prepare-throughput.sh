#!/usr/bin/env bash
# prepare throughput (MB/s, tokens/s) end to end on SpamAssassin, against the raw batch-encode rate of
# the same tokenizer on the same texts, measured in the same JVM (the ratio is within one run).
# Needs ../shared/data/spamassassin (or SPAM_DATA=dir) and a built jar (./mvnw -q package -DskipTests).
# Usage: bench/prepare-throughput.sh [work-dir]   (env: MAX_LENGTH=512 RUNS=3 SPAM_DATA=dir JAR=path)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${SPAM_DATA:-../shared/data/spamassassin}
WORK=$(realpath -m "${1:-runs/prepare-throughput}")
JAR=${JAR:-target/gpt2cls-runner.jar}
MAX_LENGTH=${MAX_LENGTH:-512}
RUNS=${RUNS:-3}
[ -f "$DATA/train.jsonl" ] || { echo "no $DATA/train.jsonl: set SPAM_DATA to the folder with train.jsonl and test.jsonl" >&2; exit 2; }
mkdir -p "$WORK"
java -jar "$JAR" tokenizer gpt2 --out "$WORK/tokenizer" >&2

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ)" >&2
for run in $(seq "$RUNS"); do
  rm -rf "$WORK/dataset"
  java -Dorg.jboss.logging.provider=jdk -cp "$JAR" io.gpt2cls.dataset.PrepareBenchmark \
    "$WORK/tokenizer/tokenizer.json" "$WORK/dataset" "$MAX_LENGTH" "$DATA/train.jsonl" "$DATA/test.jsonl" \
    2> "$WORK/run-$run.log" | tee "$WORK/run-$run.json"
  grep -h "INFO:" "$WORK/run-$run.log" | sed 's/^INFO: /  /' >&2
done
