"""The training step of bench-train (ThroughputBenchmark) in PyTorch, for a side-by-side ratio.

Same model (GPT-2 with a classification head read at the last non-pad token: pre-LN blocks,
gelu_new, dropout 0.1 on embeddings, attention and residuals), same shapes (the presets' layers,
heads, width, GPT-2's 50257-token vocabulary), same step (forward, mean cross-entropy, backward,
global-norm clipping to 1.0, torch.optim.AdamW with weight decay 0.01 except on biases and
LayerNorm weights, lr 1e-4), same batch of random full-length rows, same thread count.
Prints one JSON object like bench-train's, with the seconds spent in forward, backward and optimizer.

Usage: python3 bench/torch_train.py --preset tiny --batch 32 --seq 128 [--warmup 3] [--updates 20] [--threads 2]
Needs Debian's python3-torch (/usr/bin/python3).
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

PRESETS = {  # layers, heads, width, positions (io.gpt2cls.model.ModelPreset)
    "tiny": (2, 4, 128, 512),
    "gpt2-small": (12, 12, 768, 1024),
}
VOCAB = 50257
PAD = 50256


class Block(nn.Module):
    def __init__(self, width, heads, dropout):
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(width)
        self.c_attn = nn.Linear(width, 3 * width)
        self.attn_proj = nn.Linear(width, width)
        self.ln_2 = nn.LayerNorm(width)
        self.c_fc = nn.Linear(width, 4 * width)
        self.mlp_proj = nn.Linear(4 * width, width)
        self.dropout = dropout

    def attn(self, x, mask):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v))  # (B, nh, T, hs)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(C // self.heads)  # (B, nh, T, T)
        scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
        weights = F.dropout(F.softmax(scores, dim=-1), self.dropout, self.training)
        y = (weights @ v).transpose(1, 2).reshape(B, T, C)
        return F.dropout(self.attn_proj(y), self.dropout, self.training)

    def forward(self, x, mask):
        x = x + self.attn(self.ln_1(x), mask)
        h = F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh")  # gelu_new
        return x + F.dropout(self.mlp_proj(h), self.dropout, self.training)


class Gpt2ForSequenceClassification(nn.Module):
    def __init__(self, layers, heads, width, positions, labels=2, dropout=0.1):
        super().__init__()
        self.wte = nn.Embedding(VOCAB, width)
        self.wpe = nn.Embedding(positions, width)
        self.h = nn.ModuleList(Block(width, heads, dropout) for _ in range(layers))
        self.ln_f = nn.LayerNorm(width)
        self.score = nn.Linear(width, labels, bias=False)
        self.dropout = dropout
        for name, p in self.named_parameters():
            if p.dim() > 1:
                nn.init.normal_(p, std=0.02)

    def forward(self, ids, attention_mask):
        B, T = ids.shape
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        mask = causal[None, None] & attention_mask[:, None, None, :].bool()  # (B, 1, T, T)
        x = F.dropout(self.wte(ids) + self.wpe(torch.arange(T)), self.dropout, self.training)
        for block in self.h:
            x = block(x, mask)
        logits = self.score(self.ln_f(x))  # (B, T, labels)
        last = (ids != PAD).int().cumsum(1).argmax(1)  # rightmost non-pad token
        return logits[torch.arange(B), last]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", required=True, choices=PRESETS)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--updates", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    a = parser.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = Gpt2ForSequenceClassification(*PRESETS[a.preset])
    model.train()
    decay = [p for n, p in model.named_parameters() if p.dim() > 1]
    no_decay = [p for n, p in model.named_parameters() if p.dim() <= 1]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                                  lr=1e-4, betas=(0.9, 0.999), eps=1e-8)
    generator = torch.Generator().manual_seed(3)
    total = a.warmup + a.updates
    ids = torch.randint(0, VOCAB - 1, (total, a.batch, a.seq), generator=generator)
    labels = torch.arange(a.batch) % 2
    mask = torch.ones(a.batch, a.seq, dtype=torch.long)
    seconds = {"forward": 0.0, "backward": 0.0, "optimizer": 0.0}
    start = None
    for update in range(total):
        if update == a.warmup:
            seconds = {k: 0.0 for k in seconds}
            start = time.perf_counter()
        t0 = time.perf_counter()
        loss = F.cross_entropy(model(ids[update], mask), labels)
        t1 = time.perf_counter()
        loss.backward()
        loss.item()
        t2 = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        t3 = time.perf_counter()
        seconds["forward"] += t1 - t0
        seconds["backward"] += t2 - t1
        seconds["optimizer"] += t3 - t2
    elapsed = time.perf_counter() - start
    tokens = a.updates * a.batch * a.seq
    print(json.dumps({"engine": f"pytorch {torch.__version__}", "preset": a.preset, "batchSize": a.batch, "seqLen": a.seq,
                      "updates": a.updates, "seconds": round(elapsed, 3), "tokensPerSecond": round(tokens / elapsed, 1),
                      "samplesPerSecond": round(a.updates * a.batch / elapsed, 2), "threads": torch.get_num_threads(),
                      "parameters": sum(p.numel() for p in model.parameters()),
                      "breakdown": {k: round(v, 3) for k, v in seconds.items()}}))


if __name__ == "__main__":
    main()
