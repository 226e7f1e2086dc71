#!/usr/bin/env bash
# Trains a from-scratch tiny GPT-2 on the SpamAssassin train split and evaluates on its test split.
# Needs ../shared/data/spamassassin (or SPAM_DATA=dir) and a built jar (./mvnw -q package -DskipTests).
# Usage: bench/spamassassin.sh [work-dir]   (env: EPOCHS=3 MAX_LENGTH=512 TRUNCATION_SIDE=left SPAM_DATA=dir JAR=path)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${SPAM_DATA:-../shared/data/spamassassin}
WORK=$(realpath -m "${1:-runs/spamassassin}")
JAR=${JAR:-target/gpt2cls-runner.jar}
EPOCHS=${EPOCHS:-3}
MAX_LENGTH=${MAX_LENGTH:-512}
TRUNCATION_SIDE=${TRUNCATION_SIDE:-left}
mkdir -p "$WORK"
[ -f "$DATA/train.jsonl" ] || { echo "no $DATA/train.jsonl: set SPAM_DATA to the folder with train.jsonl and test.jsonl" >&2; exit 2; }

cat > "$WORK/prepare.json" <<JSON
{"train": "$(realpath "$DATA/train.jsonl")", "test": "$(realpath "$DATA/test.jsonl")",
 "tokenizer": "$WORK/tokenizer/tokenizer.json", "output": "$WORK/dataset", "max_length": $MAX_LENGTH,
 "truncation_side": "$TRUNCATION_SIDE"}
JSON
cat > "$WORK/finetune.json" <<JSON
{"dataset": "$WORK/dataset", "preset": "tiny", "tokenizer": "$WORK/tokenizer/tokenizer.json", "output": "$WORK/model",
 "training": {"learning_rate": 1e-3, "num_train_epochs": $EPOCHS, "per_device_train_batch_size": 16,
              "per_device_eval_batch_size": 32, "warmup_ratio": 0.1, "weight_decay": 0.01,
              "group_by_length": true, "logging_steps": 50, "seed": 42}}
JSON

start=$(date +%s)
{
  java -jar "$JAR" tokenizer gpt2 --out "$WORK/tokenizer"
  java -jar "$JAR" prepare "$WORK/prepare.json" > "$WORK/prepare-response.json"
  java -jar "$JAR" finetune "$WORK/finetune.json" > "$WORK/finetune-response.json"
} 2>&1 | tee "$WORK/run.log"
end=$(date +%s)
echo "wall time: $((end - start)) s (tokenizer + prepare + finetune + evaluation), $(nproc) cores" | tee -a "$WORK/run.log"
grep -E '"accuracy"|"macro_f1"' "$WORK/finetune-response.json" | tail -2
