#!/usr/bin/env python3
"""GPT-2 sequence classification forward in PyTorch from Python: the reference for bench-classify.

Same shapes as the Java model (GPT-2 small by default), random weights, torch.no_grad(), the same
thread count, batches of random token ids with no padding. Written the way Hugging Face's
GPT2ForSequenceClassification computes it (pre-LN blocks, gelu tanh, causal attention, the score
head on the last token), nanoGPT style. Needs only torch (Debian: apt-get install python3-torch).

    python3 bench/torch_classify.py --batch 1 --seq 64 --requests 50 --threads 2

prints one JSON object: p50/p90/p99/mean ms of the forward and this torch's own 2048^2 matMul GFLOP/s.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd, n_head, n_positions):
        super().__init__()
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.n_head = n_head
        self.register_buffer("bias", torch.tril(torch.ones(n_positions, n_positions)).view(1, 1, n_positions, n_positions))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))  # (B, nh, T, T)
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)  # (B, T, C)
        return self.c_proj(y)


class Block(nn.Module):
    def __init__(self, n_embd, n_head, n_positions):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head, n_positions)
        self.ln_2 = nn.LayerNorm(n_embd)
        self.c_fc = nn.Linear(n_embd, 4 * n_embd)
        self.c_proj = nn.Linear(4 * n_embd, n_embd)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.c_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class Gpt2Classifier(nn.Module):
    def __init__(self, n_layer=12, n_head=12, n_embd=768, n_positions=1024, vocab_size=50257, num_labels=2):
        super().__init__()
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.wpe = nn.Embedding(n_positions, n_embd)
        self.h = nn.ModuleList([Block(n_embd, n_head, n_positions) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.score = nn.Linear(n_embd, num_labels, bias=False)

    def forward(self, ids):
        B, T = ids.size()
        x = self.wte(ids) + self.wpe(torch.arange(T))
        for block in self.h:
            x = block(x)
        return self.score(self.ln_f(x)[:, -1])  # (B, num_labels): no padding, the last token is the pooled one


def matmul_gflops(size=2048):
    a, b = torch.randn(size, size), torch.randn(size, size)
    best = float("inf")
    for i in range(7):
        start = time.perf_counter()
        a @ b
        if i >= 2:
            best = min(best, time.perf_counter() - start)
    return 2 * size ** 3 / best / 1e9


def percentile(values, q):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--seq", type=int, default=64)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--heads", type=int, default=12)
    parser.add_argument("--width", type=int, default=768)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model = Gpt2Classifier(args.layers, args.heads, args.width).eval()
    ids = torch.randint(0, 50256, (args.batch, args.seq))
    peak_before = matmul_gflops()
    times = []
    with torch.no_grad():
        for i in range(args.warmup + args.requests):
            start = time.perf_counter()
            model(ids)
            if i >= args.warmup:
                times.append((time.perf_counter() - start) * 1e3)
    peak = max(peak_before, matmul_gflops())
    print(json.dumps({
        "torch": torch.__version__, "threads": torch.get_num_threads(), "batch": args.batch, "seq": args.seq,
        "requests": args.requests, "matmul_gflops": round(peak, 2),
        "p50_ms": round(percentile(times, 0.5), 2), "p90_ms": round(percentile(times, 0.9), 2),
        "p99_ms": round(percentile(times, 0.99), 2), "mean_ms": round(sum(times) / len(times), 2),
    }))


if __name__ == "__main__":
    main()
