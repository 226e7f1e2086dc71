#!/usr/bin/env bash
# Acceptance for resumable training on SpamAssassin: a tiny GPT-2 trained for MAX_STEPS updates
# (1) uninterrupted, (2) killed with SIGKILL after its first checkpoint and sent again with the same
# request (which resumes from the newest checkpoint), must end with the same weights and metrics;
# (3) the uninterrupted run again with freeze_embeddings, for its effect on speed and accuracy.
# Needs ../shared/data/spamassassin (or SPAM_DATA=dir) and a built jar (./mvnw -q package -DskipTests).
# Usage: bench/spamassassin-resume.sh [work-dir]   (env: MAX_STEPS=300 MAX_LENGTH=128 SPAM_DATA=dir JAR=path)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${SPAM_DATA:-../shared/data/spamassassin}
WORK=$(realpath -m "${1:-target/spamassassin-resume}")
JAR=$(realpath "${JAR:-target/gpt2cls-runner.jar}")
MAX_STEPS=${MAX_STEPS:-300}
MAX_LENGTH=${MAX_LENGTH:-128}
SAVE_STEPS=$((MAX_STEPS / 3))
[ -f "$DATA/train.jsonl" ] || { echo "no $DATA/train.jsonl: set SPAM_DATA to the folder with train.jsonl and test.jsonl" >&2; exit 2; }
rm -rf "$WORK" && mkdir -p "$WORK"

cat > "$WORK/prepare.json" <<JSON
{"train": "$(realpath "$DATA/train.jsonl")", "test": "$(realpath "$DATA/test.jsonl")",
 "tokenizer": "$WORK/tokenizer/tokenizer.json", "output": "$WORK/dataset", "max_length": $MAX_LENGTH, "truncation_side": "left"}
JSON
request() { # output-name freeze_embeddings
  cat <<JSON
{"dataset": "$WORK/dataset", "preset": "tiny", "tokenizer": "$WORK/tokenizer/tokenizer.json", "output": "$WORK/$1",
 "training": {"learning_rate": 1e-3, "max_steps": $MAX_STEPS, "per_device_train_batch_size": 16, "per_device_eval_batch_size": 64,
              "warmup_ratio": 0.1, "weight_decay": 0.01, "group_by_length": true, "logging_steps": 25, "seed": 42,
              "eval_strategy": "steps", "eval_steps": $SAVE_STEPS, "save_strategy": "steps", "save_steps": $SAVE_STEPS,
              "freeze_embeddings": $2}}
JSON
}
request uninterrupted false > "$WORK/uninterrupted.json"
request resumed false > "$WORK/resumed.json"
request frozen true > "$WORK/frozen.json"

java -jar "$JAR" tokenizer gpt2 --out "$WORK/tokenizer" > "$WORK/setup.log" 2>&1
java -jar "$JAR" prepare "$WORK/prepare.json" > "$WORK/prepare-response.json" 2>> "$WORK/setup.log"

java -jar "$JAR" finetune "$WORK/uninterrupted.json" > "$WORK/uninterrupted-response.json" 2> "$WORK/uninterrupted.log"

# killed once its first checkpoint is saved and a few more updates are done, then sent again
java -jar "$JAR" finetune "$WORK/resumed.json" > /dev/null 2> "$WORK/killed.log" &
pid=$!
until grep -q "step $((SAVE_STEPS + 25))/" "$WORK/killed.log"; do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
kill -KILL "$pid"; wait "$pid" || true
echo "killed after: $(grep -o 'step [0-9]*/[0-9]*' "$WORK/killed.log" | tail -1)"
java -jar "$JAR" finetune "$WORK/resumed.json" > "$WORK/resumed-response.json" 2> "$WORK/resumed.log"

java -jar "$JAR" finetune "$WORK/frozen.json" > "$WORK/frozen-response.json" 2> "$WORK/frozen.log"

python3 - "$WORK" <<'PY'
import hashlib, json, os, sys
work = sys.argv[1]
def weights(run):
    return hashlib.sha256(open(os.path.join(work, run, "model.safetensors"), "rb").read()).hexdigest()[:16]
print("| run | resumed from | accuracy | macro-F1 | eval loss | train loss | tokens/s (this process) | model.safetensors sha256 |")
print("|---|---|---|---|---|---|---|---|")
for run in ("uninterrupted", "resumed", "frozen"):
    r = json.load(open(os.path.join(work, f"{run}-response.json")))
    e = r["eval"]
    print(f"| {run} | {r.get('resumed_from_checkpoint') or '-'} | {e['accuracy']:.4f} | {e['macro_f1']:.4f} | {e['loss']:.6f} |"
          f" {r['train_loss']:.6f} | {r['train_tokens_per_second']:,.0f} | {weights(run)} |")
a, b = (json.load(open(os.path.join(work, f"{run}-response.json")))["eval"] for run in ("uninterrupted", "resumed"))
same = a == b and weights("uninterrupted") == weights("resumed")
print("killed-and-resumed == uninterrupted:", "yes, bit-identical weights and metrics" if same else "NO")
sys.exit(0 if same else 1)
PY
