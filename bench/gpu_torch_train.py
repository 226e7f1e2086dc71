"""The training step bench-train measures, in PyTorch with Hugging Face transformers, on the GPU.

GPT2ForSequenceClassification with GPT-2 small's shapes (random weights: nothing is downloaded),
AdamW, gradient clipping at 1.0, random full-length rows; fp32 and fp16 (autocast + GradScaler),
eager attention (what this project computes) and SDPA (transformers' default, fused kernels).
Also measures the GPU's matmul peak in fp32 and fp16 so MFU is against this machine's own numbers.
Prints one JSON object per case.
"""
import json
import sys
import time

import torch
from transformers import GPT2Config, GPT2ForSequenceClassification


def matmul_tflops(dtype, n=8192, repeats=10):
    a = torch.randn(n, n, device="cuda", dtype=dtype)
    b = torch.randn(n, n, device="cuda", dtype=dtype)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    torch.cuda.synchronize()
    return 2 * n ** 3 * repeats / (time.perf_counter() - start) / 1e12


def train_flops_per_token(config, seq):
    """6 x the matmul weights (embeddings are lookups, the score head is tiny) + attention's QK and AV."""
    d, layers = config.n_embd, config.n_layer
    weights = layers * (4 * d * d + 2 * d * 4 * d)
    return 6 * weights + 12 * layers * seq * d


def bench(batch, seq, fp16, attention, warmup=5, updates=30):
    torch.manual_seed(0)
    config = GPT2Config(n_embd=768, n_layer=12, n_head=12, n_positions=1024, vocab_size=50257, num_labels=2,
                        pad_token_id=50256, attn_implementation=attention)
    model = GPT2ForSequenceClassification(config).cuda().train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    scaler = torch.amp.GradScaler("cuda", enabled=fp16)
    ids = torch.randint(0, 50255, (batch, seq), device="cuda")
    labels = torch.randint(0, 2, (batch,), device="cuda")
    mask = torch.ones_like(ids)

    def step():
        with torch.autocast("cuda", dtype=torch.float16, enabled=fp16):
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        return loss

    for _ in range(warmup):
        step()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(updates):
        loss = step()
    loss.item()
    seconds = time.perf_counter() - start
    tokens_per_second = updates * batch * seq / seconds
    return {"side": "pytorch", "preset": "gpt2-small", "batch": batch, "seq": seq,
            "precision": "fp16" if fp16 else "fp32", "attention": attention,
            "tokens_per_second": round(tokens_per_second),
            "train_tflops": round(tokens_per_second * train_flops_per_token(config, seq) / 1e12, 2)}


def main():
    print(json.dumps({"torch": torch.__version__, "cuda": torch.version.cuda,
                      "gpu": torch.cuda.get_device_name(0),
                      "matmul_tflops_fp32": round(matmul_tflops(torch.float32), 1),
                      "matmul_tflops_fp16": round(matmul_tflops(torch.float16), 1),
                      "flops_per_token_seq128": train_flops_per_token(GPT2Config(), 128)}), flush=True)
    shapes = [(8, 128), (32, 128)] if len(sys.argv) < 2 else [tuple(map(int, s.split("x"))) for s in sys.argv[1:]]
    for batch, seq in shapes:
        for fp16 in (False, True):
            for attention in ("eager", "sdpa"):
                try:
                    print(json.dumps(bench(batch, seq, fp16, attention)), flush=True)
                except Exception as e:  # one case failing must not hide the others
                    print(json.dumps({"batch": batch, "seq": seq, "fp16": fp16, "attention": attention, "error": repr(e)}), flush=True)


if __name__ == "__main__":
    main()
