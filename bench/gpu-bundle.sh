#!/usr/bin/env bash
# Makes the bundle bench/gpu-check.sh runs on a GPU machine that has PyTorch but no Java and no
# network: .gpu/bundle.tar.xz (a jlink runtime and the jars of a -Dgpu build, the jars re-packed
# uncompressed so xz compresses them: 37 MB instead of 62) and .gpu/djl-native (DJL 0.36.0's JNI
# source and headers, to compile the JNI library against the machine's libtorch if the prebuilt
# one does not link). DJL_SRC names a checkout of github.com/deepjavalibrary/djl (any commit with
# the v0.36.0 tag); without it the source is cloned.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=.gpu
rm -rf "$OUT" && mkdir -p "$OUT/stage/app/lib"
./mvnw -q -B package -DskipTests -Dgpu

jlink --add-modules java.base,java.logging,java.management,java.naming,java.xml,java.sql,jdk.unsupported,jdk.management,java.net.http,jdk.crypto.ec,jdk.zipfs \
    --strip-debug --no-header-files --no-man-pages --output "$OUT/stage/jre"
for jar in target/gpt2cls-runner.jar target/lib/*.jar; do
    unpacked=$(mktemp -d)
    unzip -q "$jar" -d "$unpacked"
    # only linux-x86_64 natives travel
    rm -rf "$unpacked"/native/lib/{win,osx,linux-aarch64}* "$unpacked"/jnilib/{win,osx,linux-aarch64}*
    target=$PWD/$OUT/stage/app/${jar#target/}
    (cd "$unpacked" && zip -q -0 -r -X "$target" .)
    rm -rf "$unpacked"
done
tar -cJf "$OUT/bundle.tar.xz" -C "$OUT/stage" jre app
rm -rf "$OUT/stage"

if [ -z "${DJL_SRC:-}" ]; then
    DJL_SRC=$(mktemp -d)
    git clone -q --depth 1 -b v0.36.0 https://github.com/deepjavalibrary/djl "$DJL_SRC"
fi
mkdir -p "$OUT/djl-native"
git -C "$DJL_SRC" archive v0.36.0 engines/pytorch/pytorch-native/src/main/native api/src/main/native/djl | tar -x -C "$OUT/djl-native"
engine_sources=$(mktemp -d)
unzip -q "$(find ~/.m2/repository/ai/djl/pytorch/pytorch-engine/0.36.0 -name '*-sources.jar' | head -1)" -d "$engine_sources" 2>/dev/null \
    || { echo "needs ai.djl.pytorch:pytorch-engine:0.36.0:sources (./mvnw dependency:sources)"; exit 1; }
javac -h "$OUT/djl-native/include" -d "$engine_sources/classes" -cp "$(ls target/lib/ai.djl.api-*.jar target/lib/org.slf4j.slf4j-api-*.jar | tr '\n' ':')" \
    -sourcepath "$engine_sources" "$engine_sources/ai/djl/pytorch/jni/PyTorchLibrary.java"
cp -r "$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")/include" "$OUT/djl-native/jni"
rm -rf "$engine_sources"
du -sh "$OUT"/*
