#!/usr/bin/env bash
# Training tokens/s of this project (bench-train) against the same step in PyTorch from Python
# (bench/torch_train.py, Debian's python3-torch), both in this one invocation, alternating which goes
# first, REPEATS times per shape, so each ratio is taken within one run on the same machine state.
# Shapes: tiny 32 x 128 and GPT-2 small 8 x 128. Prints each measurement as JSON, then one line per
# shape: the ratio of each repeat and the breakdown (forward, backward, optimizer) per update.
# Needs a built jar (./mvnw -q package -DskipTests) and /usr/bin/python3 with torch (apt-get install -y python3-torch libopenblas0-pthread:
# without OpenBLAS Debian's torch multiplies with the reference BLAS, ~30x slower; bench/torch_blas_check.py refuses that).
# Usage: bench/train-vs-torch.sh [work-dir]   (env: REPEATS=3 THREADS=2 JAR=path PYTHON=/usr/bin/python3)
#   PRESETS=tiny or PRESETS=gpt2-small: one of issue 18's two training rows only (both by default)
#   BASELINE_JAR=path: that build's bench-train too, in every repeat, and the ratio of this build's tokens/s to it
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=$(realpath -m "${1:-target/train-vs-torch}")
JAR=${JAR:-target/gpt2cls-runner.jar}
PYTHON=${PYTHON:-/usr/bin/python3}
REPEATS=${REPEATS:-3}
THREADS=${THREADS:-2}
PRESETS=${PRESETS:-tiny gpt2-small}
BASELINE_JAR=${BASELINE_JAR:-}
mkdir -p "$WORK"
"$PYTHON" -c 'import torch' || { echo "no torch for $PYTHON: apt-get install -y python3-torch libopenblas0-pthread" >&2; exit 2; }
"$PYTHON" bench/torch_blas_check.py "$THREADS"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $THREADS threads each; $(date -u +%Y-%m-%dT%H:%MZ)" >&2

# preset batch seq warmup updates
SHAPES=("tiny 32 128 3 20" "gpt2-small 8 128 2 4")
# one JSON object per line: the measurement (bench-train prints it indented) with the given fields added
tag() { "$PYTHON" -c 'import json, sys; print(json.dumps({**json.loads(sys.argv[1]), **json.load(sys.stdin)}))' "$1"; }
: > "$WORK/results.jsonl"
for shape in "${SHAPES[@]}"; do
  read -r preset batch seq warmup updates <<< "$shape"
  [[ " $PRESETS " == *" $preset "* ]] || continue
  for repeat in $(seq "$REPEATS"); do
    java_run() { # [jar engine]
      java -jar "${1:-$JAR}" bench-train --preset "$preset" --batch "$batch" --seq "$seq" --warmup "$warmup" --updates "$updates" \
        2> "$WORK/${2:-java}-$preset-$repeat.log" | tag '{"engine": "'"${2:-gpt2cls}"'", "repeat": '"$repeat"'}'
    }
    base_run() { if [ -n "$BASELINE_JAR" ]; then java_run "$BASELINE_JAR" gpt2cls-baseline; fi; }
    torch_run() {
      "$PYTHON" bench/torch_train.py --preset "$preset" --batch "$batch" --seq "$seq" --warmup "$warmup" --updates "$updates" \
        --threads "$THREADS" | tag '{"repeat": '"$repeat"'}'
    }
    if [ $((repeat % 2)) -eq 1 ]; then java_run; base_run; torch_run; else torch_run; base_run; java_run; fi | tee -a "$WORK/results.jsonl"
  done
done

"$PYTHON" - "$WORK/results.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
for preset in dict.fromkeys(r["preset"] for r in rows):
    ratios, baseline, parts = [], [], {"gpt2cls": [], "pytorch": []}
    for repeat in sorted({r["repeat"] for r in rows if r["preset"] == preset}):
        ours = next(r for r in rows if r["preset"] == preset and r["repeat"] == repeat and r["engine"] == "gpt2cls")
        theirs = next(r for r in rows if r["preset"] == preset and r["repeat"] == repeat and r["engine"].startswith("pytorch"))
        base = next((r for r in rows if r["preset"] == preset and r["repeat"] == repeat and r["engine"] == "gpt2cls-baseline"), None)
        if base:
            baseline.append(ours["tokensPerSecond"] / base["tokensPerSecond"])
        ratios.append(ours["tokensPerSecond"] / theirs["tokensPerSecond"])
        parts["gpt2cls"].append([ours["breakdown"][k + "_seconds"] / ours["updates"] for k in ("forward", "backward", "optimizer")])
        parts["pytorch"].append([theirs["breakdown"][k] / theirs["updates"] for k in ("forward", "backward", "optimizer")])
    print(f"{preset}: ratio (gpt2cls / pytorch tokens/s) per repeat {', '.join(f'{x:.2f}' for x in ratios)};"
          f" median {statistics.median(ratios):.2f}, range {min(ratios):.2f}-{max(ratios):.2f}")
    if baseline:
        print(f"  this build / baseline build tokens/s per repeat {', '.join(f'{x:.2f}' for x in baseline)};"
              f" median {statistics.median(baseline):.2f}")
    for engine, per in parts.items():
        mean = [statistics.mean(p[i] for p in per) for i in range(3)]
        print(f"  {engine:8s} s/update: forward {mean[0]:.3f}, backward {mean[1]:.3f}, optimizer {mean[2]:.3f}")
PY
