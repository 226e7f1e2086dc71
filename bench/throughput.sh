#!/usr/bin/env bash
# Training throughput (forward + backward + clipping + AdamW) on random full-length rows.
# Needs a built jar (./mvnw -q package -DskipTests). Prints one JSON measurement per shape.
set -euo pipefail
cd "$(dirname "$0")/.."
JAR=${JAR:-target/gpt2cls-runner.jar}
java -jar "$JAR" bench-train --preset tiny --batch 32 --seq 128 --warmup 3 --updates 20
java -jar "$JAR" bench-train --preset gpt2-small --batch 8 --seq 128 --warmup 2 --updates 5
