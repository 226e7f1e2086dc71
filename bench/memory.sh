#!/usr/bin/env bash
# Process RSS over a long run: the tiny GPT-2 on SpamAssassin rows (varying lengths, so batch shapes
# vary as dynamic padding makes them), WARMUP + 1,000 updates, checkpoints at the default save_steps
# (500), the JSON log lines reporting rss_mb every 50 updates. Prints RSS after warm-up and at the end,
# the growth, and the share of training time spent writing checkpoints.
# Needs a dataset prepared by `prepare` (bench/spamassassin-resume.sh makes one) and a built jar.
# Usage: bench/memory.sh DATASET-DIR TOKENIZER-JSON [work-dir]   (env: UPDATES=1000 WARMUP=100 JAR=path)
set -euo pipefail
cd "$(dirname "$0")/.."
DATASET=$(realpath "$1")
TOKENIZER=$(realpath "$2")
WORK=$(realpath -m "${3:-target/memory}")
JAR=${JAR:-target/gpt2cls-runner.jar}
UPDATES=${UPDATES:-1000}
WARMUP=${WARMUP:-100}
rm -rf "$WORK" && mkdir -p "$WORK"
cat > "$WORK/finetune.json" <<JSON
{"dataset": "$DATASET", "preset": "tiny", "tokenizer": "$TOKENIZER", "output": "$WORK/model",
 "training": {"learning_rate": 1e-3, "max_steps": $((WARMUP + UPDATES)), "per_device_train_batch_size": 8,
              "logging_steps": 50, "eval_strategy": "no", "save_strategy": "steps"}}
JSON
GPT2CLS_FINETUNE_JSON_LOGS=true java -jar "$JAR" finetune "$WORK/finetune.json" > "$WORK/response.json" 2> "$WORK/run.log"
python3 - "$WORK" "$WARMUP" <<'PY'
import json, os, sys
work, warmup = sys.argv[1], int(sys.argv[2])
lines = [json.loads(l) for l in open(os.path.join(work, "run.log")) if l.startswith("{")]
rss = [(l["step"], l["rss_mb"]) for l in lines if l["event"] == "train"]
print("rss_mb by step:", " ".join(f"{s}:{m:.0f}" for s, m in rss))
start = next(m for s, m in rss if s >= warmup)
end = rss[-1][1]
print(f"RSS after {warmup} warm-up updates {start:.0f} MB, after {rss[-1][0]} updates {end:.0f} MB: {100 * (end - start) / start:+.1f} %,"
      f" peak {max(m for s, m in rss if s >= warmup):.0f} MB")
r = json.load(open(os.path.join(work, "response.json")))
t = r["timings"]
print(f"checkpoints: {t['checkpoint_seconds']:.1f} s of {r['train_runtime_seconds']:.1f} s training"
      f" ({100 * t['checkpoint_seconds'] / r['train_runtime_seconds']:.2f} %), {r['train_tokens_per_second']:,.0f} tokens/s; timings {t}")
PY
