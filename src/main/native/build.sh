#!/usr/bin/env bash
# Builds the one native library the project ships (see mkl_cpu_by_features.c) into the jar's resources, where
# JNA finds it by platform (linux-x86-64/). It is committed, so a build needs no C compiler; run this after
# changing the source, on x86-64 Linux with gcc.
set -euo pipefail
cd "$(dirname "$0")"
out=../resources/linux-x86-64/libgpt2cls_mkl_cpu.so
mkdir -p "$(dirname "$out")"
gcc -shared -fPIC -O2 -nostdlib -Wl,--hash-style=both -Wl,-soname,libgpt2cls_mkl_cpu.so -Wl,--build-id=none -s \
  -o "$out" mkl_cpu_by_features.c
echo "$out: $(stat -c %s "$out") bytes, sha256 $(sha256sum "$out" | cut -c1-16)"
