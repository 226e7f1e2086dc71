#!/usr/bin/env bash
# Optional check, not part of CI: transformers.js reads a checkpoint written here and, with
# truncation + padding, produces the ids training used and the matching attention mask.
# Needs a built jar (./mvnw -q package -DskipTests), Node 18+ and npm (installs @huggingface/transformers
# under runs/, which git ignores).
# SIDE=right (default): 20 of 20 rows equal with @huggingface/transformers 4.3.2. SIDE=left: transformers.js
# 4.3.2 ignores truncation_side (it always keeps the start), so long rows differ; Python's AutoTokenizer
# honours it.
set -euo pipefail
cd "$(dirname "$0")/../.."
JAR=${JAR:-target/gpt2cls-runner.jar}
WORK=${WORK:-runs/transformers-js}
SIDE=${SIDE:-right}
rm -rf "$WORK" && mkdir -p "$WORK"
head -n 60 src/test/resources/e2e/messages.jsonl > "$WORK/train.jsonl"
tail -n 20 src/test/resources/e2e/messages.jsonl > "$WORK/test.jsonl"
cat > "$WORK/prepare.json" <<JSON
{"train": "$WORK/train.jsonl", "test": "$WORK/test.jsonl", "output": "$WORK/dataset", "max_length": 48, "truncation_side": "$SIDE"}
JSON
cat > "$WORK/finetune.json" <<JSON
{"dataset": "$WORK/dataset", "preset": "tiny", "output": "$WORK/model", "training": {"max_steps": 2}}
JSON
java -jar "$JAR" prepare "$WORK/prepare.json" > /dev/null
java -jar "$JAR" finetune "$WORK/finetune.json" > /dev/null
NODE_DIR=${NODE_DIR:-runs/transformers-js-node}
mkdir -p "$NODE_DIR"
[ -d "$NODE_DIR/node_modules/@huggingface/transformers" ] \
  || (cd "$NODE_DIR" && npm install --no-audit --no-fund --ignore-scripts @huggingface/transformers > /dev/null)
cp bench/transformers-js/check-tokenizer.mjs "$NODE_DIR/"
node "$NODE_DIR/check-tokenizer.mjs" "$WORK/model" "$WORK/dataset" "$WORK/test.jsonl"
