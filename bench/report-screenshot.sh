#!/usr/bin/env bash
# Trains the tiny model briefly on the bundled SpamAssassin sample, then opens its report.html in
# headless Chromium (Debian's `chromium`): a screenshot to look at, and a check that the page's
# three Chart.js charts were drawn (Chart.js sizes each canvas when it draws it, so an undrawn chart
# keeps the bare <canvas> tag). Everything is written under the work dir (not in the repository).
# Needs a built jar (./mvnw -q package -DskipTests) and chromium (apt-get install -y chromium).
# Usage: bench/report-screenshot.sh [work-dir]   (env: JAR=path CHROMIUM=chromium)
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=$(realpath -m "${1:-target/report-screenshot}")
JAR=${JAR:-target/gpt2cls-runner.jar}
CHROMIUM=${CHROMIUM:-chromium}
command -v "$CHROMIUM" >/dev/null || { echo "no $CHROMIUM: apt-get install -y chromium" >&2; exit 2; }
rm -rf "$WORK" && mkdir -p "$WORK"

cat > "$WORK/prepare.json" <<JSON
{"train": "$PWD/src/main/resources/samples/spamassassin-sample.jsonl", "tokenizer": "$WORK/tokenizer/tokenizer.json",
 "output": "$WORK/dataset", "max_length": 128, "test_fraction": 0.2}
JSON
cat > "$WORK/finetune.json" <<JSON
{"dataset": "$WORK/dataset", "preset": "tiny", "tokenizer": "$WORK/tokenizer/tokenizer.json", "output": "$WORK/model",
 "training": {"learning_rate": 1e-3, "max_steps": 60, "per_device_train_batch_size": 16, "per_device_eval_batch_size": 32,
              "warmup_ratio": 0.1, "logging_steps": 5, "eval_strategy": "steps", "eval_steps": 15,
              "save_strategy": "steps", "save_steps": 15, "save_total_limit": 2, "load_best_model_at_end": true,
              "metric_for_best_model": "macro_f1"}}
JSON
{
  java -jar "$JAR" tokenizer gpt2 --out "$WORK/tokenizer"
  java -jar "$JAR" prepare "$WORK/prepare.json" > "$WORK/prepare-response.json"
  java -jar "$JAR" finetune "$WORK/finetune.json" > "$WORK/finetune-response.json"
} > "$WORK/run.log" 2>&1 || { tail -20 "$WORK/run.log" >&2; exit 1; }

REPORT="$WORK/model/report.html"
# --virtual-time-budget lets the page's scripts run to the end before the DOM is dumped or the picture taken
"$CHROMIUM" --headless --no-sandbox --disable-gpu --virtual-time-budget=5000 --window-size=1280,2400 \
  --screenshot="$WORK/report.png" "file://$REPORT" > "$WORK/chromium.log" 2>&1
"$CHROMIUM" --headless --no-sandbox --disable-gpu --virtual-time-budget=5000 --window-size=1280,2400 \
  --dump-dom "file://$REPORT" > "$WORK/report.dom.html" 2>> "$WORK/chromium.log"

# Chart.js gives a canvas it has drawn a width and height attribute and an inline style
drawn=$(grep -oE '<canvas id="(loss|scores|lr)"[^>]*height="[0-9]+"[^>]*>' "$WORK/report.dom.html" | wc -l)
echo "report: $REPORT ($(wc -c < "$REPORT") bytes)"
echo "screenshot: $WORK/report.png"
echo "charts drawn: $drawn of 3"
[ "$drawn" -eq 3 ] || { echo "a chart was not drawn; see $WORK/report.dom.html and $WORK/chromium.log" >&2; exit 1; }
