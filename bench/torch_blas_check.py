#!/usr/bin/env python3
"""Refuses a PyTorch baseline that runs on the reference BLAS.

Debian's python3-torch takes its BLAS from the libblas.so.3 alternative; with only libblas3 installed that
is netlib's reference BLAS, which multiplies at ~3 GFLOP/s on this VM (110 with OpenBLAS), and every
PyTorch number would measure that, not PyTorch. Exits 3 with the fix when a 1024 x 1024 product runs
below 20 GFLOP/s on the given threads; prints the rate otherwise.

    python3 bench/torch_blas_check.py [THREADS]
"""
import sys
import time

import torch

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
torch.set_num_threads(threads)
a = torch.randn(1024, 1024)
b = torch.randn(1024, 1024)
a @ b
started = time.perf_counter()
repeats = 3
for _ in range(repeats):
    a @ b
gflops = 2 * 1024 ** 3 * repeats / (time.perf_counter() - started) / 1e9
if gflops < 20:
    print(f"torch {torch.__version__} multiplies at {gflops:.1f} GFLOP/s on {threads} threads: it is on the reference"
          " BLAS, so PyTorch's numbers would measure that. Install OpenBLAS (Debian: apt-get install -y"
          " libopenblas0-pthread, which becomes libblas.so.3) and run again.", file=sys.stderr)
    sys.exit(3)
print(f"torch {torch.__version__}: {gflops:.0f} GFLOP/s (1024^2 matmul, {threads} threads)", file=sys.stderr)
