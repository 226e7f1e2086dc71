#!/usr/bin/env bash
# The GPU check of src/main/docker/Dockerfile.gpu's arrangement, without Docker: the jar without the CPU
# libtorch jar (as the image has it), PYTORCH_LIBRARY_PATH through a symlinked site-packages to torch
# 2.7.1+cu128's lib, PYTORCH_VERSION=2.7.1, PYTORCH_FLAVOR=cu128; then the training benchmark and the
# whole pipeline, watching the GPU for the java process.
#
#   infra/scripts/gpu-check.sh bundle    # here, after ./mvnw package: target/gpucheck/ (jars, a small JRE)
#   infra/scripts/gpu-check.sh run       # on the GPU machine (with target/gpucheck carried over)
#
# The GPU machine needs python with torch 2.7.1+cu128 (pip or conda) and an NVIDIA driver for CUDA 12.8;
# java is used from PATH, else the JRE from the bundle.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUNDLE=target/gpucheck

bundle() {
  set -e
  [ -f target/gpt2cls-runner.jar ] || { echo "error: build first: ./mvnw -B package -DskipTests" >&2; exit 2; }
  rm -rf "$BUNDLE" && mkdir -p "$BUNDLE/app/lib"
  cp target/gpt2cls-runner.jar "$BUNDLE/app/"
  for jar in target/lib/*.jar; do
    case "$jar" in *pytorch-native-cpu*) ;; *) cp "$jar" "$BUNDLE/app/lib/" ;; esac
  done
  # the tokenizer jar carries every platform's library; keep linux-x86_64's (the bundle must stay small)
  local tokenizers scratch
  tokenizers=$(ls "$BUNDLE"/app/lib/ai.djl.huggingface.tokenizers-*.jar)
  scratch=$(mktemp -d)
  (cd "$scratch" && unzip -q "$OLDPWD/$tokenizers" && rm -rf native/lib/linux-aarch64 native/lib/osx-* native/lib/win-* \
    && rm "$OLDPWD/$tokenizers" && zip -q -r "$OLDPWD/$tokenizers" .)
  rm -rf "$scratch"
  jlink --add-modules java.base,java.management,java.naming,java.sql,jdk.unsupported,java.logging,java.xml,jdk.zipfs,jdk.crypto.ec \
    --compress=2 --strip-debug --no-header-files --no-man-pages --output "$BUNDLE/jre"
  strip --strip-unneeded "$BUNDLE"/jre/lib/server/libjvm.so "$BUNDLE"/jre/lib/*.so 2>/dev/null || true
  rm -rf "$BUNDLE/jre/legal"
  echo "bundle: $(du -sb "$BUNDLE" | cut -f1) bytes in $BUNDLE"
}

run() {
  local out=${OUT:-/tmp/gpucheck-out} java python tv site watch
  mkdir -p "$out"
  echo "== device"; nvidia-smi -L; nvidia-smi --query-gpu=driver_version,memory.total --format=csv,noheader
  if command -v java >/dev/null; then java=java; else java=$PWD/$BUNDLE/jre/bin/java; fi
  echo "== java: $($java -version 2>&1 | head -1)"
  python=$(command -v python3 || command -v python || true)
  [ -n "$python" ] || { echo "no python here: the GPU path cannot be checked"; return 3; }
  read -r tv site < <($python -c 'import os, torch; print(torch.__version__ + "/" + str(torch.version.cuda), os.path.dirname(os.path.dirname(torch.__file__)))' 2>/dev/null)
  echo "== torch: ${tv:-none} in ${site:-?}"
  case "${tv:-}" in 2.7.1*/12.8) ;; *) echo "torch here is not 2.7.1 with CUDA 12.8: the GPU path cannot be checked"; return 3 ;; esac
  ln -sfn "$site" /tmp/gpucheck-site-packages
  export PYTORCH_LIBRARY_PATH=/tmp/gpucheck-site-packages/torch/lib PYTORCH_VERSION=2.7.1 PYTORCH_FLAVOR=cu128 \
    DJL_CACHE_DIR=/tmp/gpucheck-djl DJL_OFFLINE=true
  (while sleep 2; do nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv,noheader; done) > "$out/gpu-apps.txt" 2>&1 &
  watch=$!
  local jar=$BUNDLE/app/gpt2cls-runner.jar
  echo "== bench-train tiny";       timeout 90 $java -jar $jar bench-train --preset tiny --batch 32 --seq 128 --updates 30 2>&1 | tail -8; echo "rc=$?"
  echo "== bench-train gpt2-small"; timeout 120 $java -jar $jar bench-train --preset gpt2-small --batch 8 --seq 512 --updates 10 2>&1 | tail -8; echo "rc=$?"
  echo "== pipeline, 1 epoch";      timeout 180 $java -jar $jar pipeline --work /tmp/gpucheck-work --epochs 1 > "$out/pipeline.log" 2>&1; echo "rc=$?"
  tail -30 "$out/pipeline.log"
  kill $watch 2>/dev/null
  echo "== processes seen on the GPU (java expected)"; sort -u "$out/gpu-apps.txt" | head
}

case "${1:-}" in
  bundle) bundle ;;
  run) run ;;
  *) echo "usage: $0 bundle|run" >&2; exit 2 ;;
esac
