#!/usr/bin/env bash
# GPU check (issue 8), for a GPU machine with PyTorch in python3 and neither Java nor a network.
#
# Takes the bundle bench/gpu-bundle.sh makes (a jlink runtime and the jars of a -Dgpu build) and
# points DJL at the libtorch of the machine's PyTorch (PYTORCH_LIBRARY_PATH), as the GPU image does
# with a PyTorch base image. DJL 0.36's JNI library is built for libtorch 2.7.1; if the machine's
# libtorch does not link with it, the JNI library is compiled from DJL 0.36.0's source against that
# libtorch (the bundle carries the source and the JNI headers). Then, on the GPU:
#   1. bench-train gpt2-small (fp32) at 8x128 and 32x128: tokens/s, MFU against the measured peak
#   2. the README's pipeline (tokenizer, prepare, finetune tiny, classify) on the bundled sample
#   3. finetune gpt2-small on that prepared sample, fp32 and fp16 (loss scaling), with evaluation
#   4. the same training step in PyTorch/transformers (bench/gpu_torch_train.py), same shapes
#   5. transformers loads the pipeline's checkpoint and agrees with classify on 48 raw texts
# GPU_CHECK_STEPS picks steps (default "1 2 3 4 5"; 5 needs 2).
# Output: one log ($OUT/gpu-check.log) with the JSON lines the commands print.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu-check}
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu-check.log") 2>&1
BUNDLE=${GPU_BUNDLE:-.gpu}
W=/tmp/gpu-work
rm -rf "$W" && mkdir -p "$W"
step() { echo; echo "=== $(date +%T) $*"; }

step "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
TORCH_LIB=${TORCH_LIB:-$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')}
FLAVOR=${GPU_CHECK_FLAVOR:-cu128}
python3 -c 'import torch; print("python torch", torch.__version__, "cuda", torch.version.cuda, "cxx11 abi", torch._C._GLIBCXX_USE_CXX11_ABI)'
CUDA_HOME=${CUDA_HOME:-$(dirname "$(dirname "$(command -v nvcc)")")}
CUDART_DIR=$(python3 -c 'import os, nvidia.cuda_runtime as m; print(os.path.join(list(m.__path__)[0], "lib"))' 2>/dev/null || true)
tar -xJf "$BUNDLE/bundle.tar.xz" -C "$W"
JAVA=$W/jre/bin/java
JAR=$W/app/gpt2cls-runner.jar
export PYTORCH_LIBRARY_PATH=$TORCH_LIB PYTORCH_VERSION=2.7.1 PYTORCH_FLAVOR=$FLAVOR
# DJL finds CUDA through cudart (JNA): the toolkit's and the PyTorch wheel's folders
export JAVA_TOOL_OPTIONS="-Djna.library.path=$CUDA_HOME/lib64:${CUDART_DIR} -Dai.djl.offline=true"
"$JAVA" -version

# Compile DJL's JNI library against this libtorch in the background (16 cores) while the
# prebuilt one is tried; the first that runs a GPU step is used.
build_jni() {
    local src=$BUNDLE/djl-native native obj=$W/jni/obj
    native=$src/engines/pytorch/pytorch-native/src/main/native
    mkdir -p "$obj"
    local abi flags
    abi=$(python3 -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
    flags="-O2 -fPIC -DUSE_CUDA -D_GLIBCXX_USE_CXX11_ABI=$abi -I$src/include -I$src/jni -I$src/jni/linux \
        -I$src/api/src/main/native -I$TORCH_LIB/../include -I$TORCH_LIB/../include/torch/csrc/api/include -I$CUDA_HOME/include"
    export flags obj
    ls "$native"/*.cc | xargs -P 16 -I{} bash -c 'f={}; o=$obj/$(basename $f .cc).o;
        g++ -std=c++17 $flags -c $f -o $o 2>$o.log || g++ -std=c++20 $flags -c $f -o $o 2>>$o.log || { echo "JNI compile failed: $f"; tail -20 $o.log; }'
    g++ -shared -o "$W/jni/libdjl_torch.so" "$obj"/*.o -L"$TORCH_LIB" -Wl,-rpath,"$TORCH_LIB" \
        -ltorch -ltorch_cpu -lc10 -ltorch_cuda -lc10_cuda && echo "JNI library built against $TORCH_LIB"
}
build_jni > "$W/jni-build.log" 2>&1 &
JNI_BUILD=$!

smoke() {  # a few GPU training steps; the log names the device
    timeout 120 "$JAVA" -jar "$JAR" bench-train --preset tiny --batch 8 --seq 64 --warmup 1 --updates 3 > "$W/smoke-$1.log" 2>&1
    local rc=$?
    tail -5 "$W/smoke-$1.log"
    return $rc
}

step "DJL 0.36's prebuilt $FLAVOR JNI library on this libtorch"
export DJL_CACHE_DIR=$W/djl-prebuilt
if smoke prebuilt; then
    echo "prebuilt JNI library works"
else
    step "prebuilt JNI library failed (above); waiting for the JNI library compiled against this libtorch"
    wait $JNI_BUILD
    cat "$W/jni-build.log"
    export DJL_CACHE_DIR=$W/djl-built
    mkdir -p "$DJL_CACHE_DIR/pytorch/2.7.1-$FLAVOR-linux-x86_64"
    cp "$W/jni/libdjl_torch.so" "$DJL_CACHE_DIR/pytorch/2.7.1-$FLAVOR-linux-x86_64/0.36.0-libdjl_torch.so"
    smoke built || { echo "GPU CHECK FAILED: no JNI library runs on this libtorch"; cat "$W/smoke-built.log" | tail -40; exit 1; }
fi
grep -h -i "device\|cuda\|gpu\|libtorch\|engine" "$W"/smoke-*.log | head -20

train_bench() {
    step "1. bench-train gpt2-small fp32 (the real training step: forward, backward, clipping, AdamW)"
    for shape in "8 128" "32 128"; do
        set -- $shape
        "$JAVA" -jar "$JAR" bench-train --preset gpt2-small --batch "$1" --seq "$2" --warmup 5 --updates 30 2> "$W/bench-$1x$2.log"
    done
}

pipeline() {
    step "2. the README pipeline on the GPU"
    timeout 300 "$JAVA" -jar "$JAR" pipeline --work "$W/pipeline" 2>&1 | tail -25
}

finetune_small() {
    step "3. finetune gpt2-small on the prepared sample, fp32 and fp16"
    for precision in fp32 fp16; do
        fp16=$([ $precision = fp16 ] && echo true || echo false)
        cat > "$W/finetune-$precision.json" <<EOF
{"dataset": "$W/pipeline/prepared/spamassassin-sample", "tokenizer": "$W/pipeline/tokenizer", "preset": "gpt2-small",
 "output": "$W/models/small-$precision",
 "training": {"fp16": $fp16, "num_train_epochs": 3, "per_device_train_batch_size": 16, "per_device_eval_batch_size": 32,
              "learning_rate": 5e-5, "warmup_ratio": 0.1, "logging_steps": 10, "save_strategy": "epoch", "eval_strategy": "epoch"}}
EOF
        timeout 300 "$JAVA" -jar "$JAR" finetune "$W/finetune-$precision.json" > "$W/finetune-$precision.log" 2>&1
        echo "exit $?"
        grep -i "device\|loss scale\|overflow\|tokens/s\|error" "$W/finetune-$precision.log" | tail -12
        tail -c 1500 "$W/finetune-$precision.log"; echo
    done
}

torch_bench() {
    step "4. the same step in PyTorch (transformers GPT2ForSequenceClassification)"
    PYTHONUNBUFFERED=1 timeout 240 python3 bench/gpu_torch_train.py 2>&1 | grep -v Warning
}

transformers_reads() {
    step "5. transformers reads the pipeline's checkpoint and agrees with classify (on the GPU) on 48 raw texts"
    local model=$W/pipeline/models/spamassassin-sample
    python3 bench/gpu_transformers_reads.py request "$W/pipeline/raw/spamassassin-sample.jsonl" 48 "$W/classify-request.json"
    GPT2CLS_CLASSIFY_MODEL=$model "$JAVA" -jar "$JAR" classify "$W/classify-request.json" > "$W/classify-response.json" 2> "$W/classify.log"
    echo "classify exit $?"; tail -3 "$W/classify.log"
    python3 bench/gpu_transformers_reads.py compare "$model" "$W/classify-request.json" "$W/classify-response.json" 2>&1 | grep -v Warning
}

for s in ${GPU_CHECK_STEPS:-1 2 3 4 5}; do
    case $s in
        1) train_bench ;; 2) pipeline ;; 3) finetune_small ;; 4) torch_bench ;; 5) transformers_reads ;;
    esac
done

step "done"
wait $JNI_BUILD 2>/dev/null
tail -5 "$W/jni-build.log"
