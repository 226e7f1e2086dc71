#!/usr/bin/env bash
# SIGTERM at random moments during training, ROUNDS times (30 by default), as a spot reclaim or
# `aws batch terminate-job` would send it. Each round runs the same finetune request (so each resumes
# the last round's checkpoint, as a Batch retry does), waits until training has begun, sleeps a random
# 0-8 s (landing in updates, evaluations and saves alike) and sends SIGTERM. A round is clean when:
#   - the exit status is 143 (Main.STOPPED, the documented status of a stop on request),
#   - no hs_err_pid*.log was written and nothing on stdout or stderr looks like a JVM crash banner,
#   - stdout is exactly the JSON answer, with status "stopped" and the checkpoint it published,
#   - that checkpoint is complete (weights, optimizer state, trainer_state.json at the answer's step),
#   - every JSON log line on stderr parses, and the last log lines say the work stopped and the JVM exits.
# Needs a built jar (./mvnw -q package -DskipTests). Usage: bench/sigterm-soak.sh [work-dir]
# (env: ROUNDS=30 JAR=path). Prints one line per round and "N/N clean".
set -uo pipefail
cd "$(dirname "$0")/.."
WORK=$(realpath -m "${1:-target/sigterm-soak}")
JAR=$(realpath "${JAR:-target/gpt2cls-runner.jar}")
ROUNDS=${ROUNDS:-30}
rm -rf "$WORK" && mkdir -p "$WORK"

cat > "$WORK/prepare.json" <<JSON
{"train": "$PWD/src/main/resources/samples/spamassassin-sample.jsonl", "tokenizer": "$WORK/tokenizer/tokenizer.json",
 "output": "$WORK/dataset", "max_length": 128, "test_fraction": 0.2}
JSON
cat > "$WORK/finetune.json" <<JSON
{"dataset": "$WORK/dataset", "preset": "tiny", "tokenizer": "$WORK/tokenizer/tokenizer.json", "output": "$WORK/model",
 "training": {"learning_rate": 1e-3, "max_steps": 5000, "per_device_train_batch_size": 16, "per_device_eval_batch_size": 32,
              "logging_steps": 2, "eval_strategy": "steps", "eval_steps": 6, "save_strategy": "steps", "save_steps": 12,
              "save_total_limit": 2, "load_best_model_at_end": true}}
JSON
java -jar "$JAR" tokenizer gpt2 --out "$WORK/tokenizer" > "$WORK/setup.log" 2>&1 &&
  java -jar "$JAR" prepare "$WORK/prepare.json" > "$WORK/prepare-response.json" 2>> "$WORK/setup.log" ||
  { tail "$WORK/setup.log" >&2; exit 2; }

clean=0
for round in $(seq "$ROUNDS"); do
  dir="$WORK/round-$round"; mkdir -p "$dir"
  # the round's own working directory, where a crashing JVM would drop its hs_err_pid*.log
  (cd "$dir" && GPT2CLS_FINETUNE_JSON_LOGS=true exec java -jar "$JAR" finetune "$WORK/finetune.json" > stdout 2> stderr) &
  pid=$!
  for _ in $(seq 600); do
    grep -q "INFO .*training .* parameters" "$dir/stderr" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break # it ended before training began: the checks below say why
    sleep 0.1
  done
  delay=$(awk -v seed="$RANDOM" 'BEGIN { srand(seed); printf "%.2f", rand() * 8 }')
  sleep "$delay"
  kill -TERM "$pid" 2>/dev/null
  wait "$pid"; status=$?
  verdict=$(python3 - "$dir" "$status" <<'PY'
import glob, json, os, sys
d, status = sys.argv[1], int(sys.argv[2])
problems = []
if status != 143:
    problems.append(f"exit {status}")
if glob.glob(os.path.join(d, "hs_err_pid*.log")):
    problems.append("hs_err file")
out, err = open(os.path.join(d, "stdout")).read(), open(os.path.join(d, "stderr")).read()
if any(banner in out + err for banner in ("A fatal error has been detected", "SIGSEGV", "SIGABRT", "libc++abi", "terminate called")):
    problems.append("crash banner")
step = None
try:
    answer = json.loads(out)
    if answer.get("status") != "stopped":
        problems.append(f"status {answer.get('status')}")
    step = answer.get("global_step")
    checkpoint = answer.get("checkpoint")
    state = json.load(open(os.path.join(checkpoint, "trainer_state.json")))
    if state["global_step"] != step:
        problems.append(f"checkpoint at {state['global_step']}, answer at {step}")
    for f in ("model.safetensors", "optimizer.safetensors", "config.json"):
        if not os.path.isfile(os.path.join(checkpoint, f)):
            problems.append(f"checkpoint lacks {f}")
except Exception as e:
    problems.append(f"answer or checkpoint unreadable: {e!r}"[:200])
lines = err.splitlines()
for line in lines:
    if line.startswith("{"):
        try:
            json.loads(line)
        except ValueError:
            problems.append("a JSON log line does not parse")
            break
tail = "\n".join(lines[-4:])
if "stopped after update" not in err or "stopped" not in tail or "exiting" not in tail:
    problems.append("last lines: " + tail.replace("\n", " | ")[:300])
print(("clean" if not problems else "FAILED: " + "; ".join(problems)) + f" (step {step})")
PY
)
  echo "round $round: SIGTERM ${delay}s after training began -> exit $status, $verdict"
  [[ $verdict == clean* ]] && clean=$((clean + 1))
done
echo "$clean/$ROUNDS clean"
[ "$clean" -eq "$ROUNDS" ]
