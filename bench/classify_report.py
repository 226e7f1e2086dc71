#!/usr/bin/env python3
"""Markdown tables from bench/classify.sh's results.jsonl (one or several runs, for the spread).

    python3 bench/classify_report.py runs/bench-classify/results.jsonl [more results.jsonl ...]
"""
import json
import sys


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def cases(rows, impl):
    return [r for r in rows if r.get("impl") == impl]


def report(rows):
    machine = next((r for r in rows if "machine" in r), {})
    after = next((r for r in rows if "load_after" in r), {})
    print(f"Machine: {machine.get('machine')} ({machine.get('cpus')} CPUs), {machine.get('java')}, "
          f"{machine.get('date')}; load average before {machine.get('load_before')}, after {after.get('load_after')}")
    print()
    python = {(r["batch"], r["seq"]): r for r in cases(rows, "python")}
    print("| batch x tokens | clients | FLOP limit | function p50 / p90 / p99 ms | p50 / limit | bare forward p50 / p90 / p99 ms"
          " | forward / limit | CPU ms per request | texts/s | PyTorch (Python) p50 ms | Java forward / PyTorch | matMul GFLOP/s (Java, Python) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in cases(rows, "java"):
        p = python.get((r["batch"], r["seq"])) if r["clients"] == 1 else None
        forward = (f"{r['forward_p50_ms']:.0f} / {r['forward_p90_ms']:.0f} / {r['forward_p99_ms']:.0f}"
                   if "forward_p50_ms" in r else "-")
        forward_ratio = f"{r['forward_p50_over_flop_limit']:.2f}" if "forward_p50_over_flop_limit" in r else "-"
        versus = f"{r['forward_p50_ms'] / p['p50_ms']:.2f}" if p and "forward_p50_ms" in r else "-"
        print(f"| {r['batch']} x {r['seq']} | {r['clients']} | {r['flop_limit_ms']:.0f} ms "
              f"| {r['p50_ms']:.0f} / {r['p90_ms']:.0f} / {r['p99_ms']:.0f} | {r['p50_over_flop_limit']:.2f} "
              f"| {forward} | {forward_ratio} | {r['cpu_ms_per_request']:.0f} | {r['texts_per_s']:.1f} "
              f"| {p['p50_ms']:.0f} | {versus} | {r['matmul_gflops']:.0f}, {p['matmul_gflops']:.0f} |" if p else
              f"| {r['batch']} x {r['seq']} | {r['clients']} | {r['flop_limit_ms']:.0f} ms "
              f"| {r['p50_ms']:.0f} / {r['p90_ms']:.0f} / {r['p99_ms']:.0f} | {r['p50_over_flop_limit']:.2f} "
              f"| {forward} | {forward_ratio} | {r['cpu_ms_per_request']:.0f} | {r['texts_per_s']:.1f} | - | - "
              f"| {r['matmul_gflops']:.0f}, - |")
    print()
    baseline = {(r["batch"], r["seq"], r["clients"]): r for r in cases(rows, "java-baseline")}
    if baseline:
        print("| batch x tokens | clients | p50 ms, this build / baseline | ratio | bare forward p50 ms, this / baseline | ratio |")
        print("|---|---|---|---|---|---|")
        for r in cases(rows, "java"):
            b = baseline.get((r["batch"], r["seq"], r["clients"]))
            if b:
                forward = (f"| {r['forward_p50_ms']:.0f} / {b['forward_p50_ms']:.0f} | {r['forward_p50_ms'] / b['forward_p50_ms']:.2f} |"
                           if "forward_p50_ms" in r and "forward_p50_ms" in b else "| - | - |")
                print(f"| {r['batch']} x {r['seq']} | {r['clients']} | {r['p50_ms']:.0f} / {b['p50_ms']:.0f} "
                      f"| {r['p50_ms'] / b['p50_ms']:.2f} {forward}")
        print()
    for r in cases(rows, "java"):
        if r["batch"] == 1 and r["clients"] == 1:
            p = python.get((r["batch"], r["seq"]))
            versus = f"; PyTorch p50 / this p50 = {p['p50_ms'] / r['p50_ms']:.2f}" if p else ""
            print(f"issue 18, 1 x {r['seq']}: p50 / FLOP limit = {r['p50_over_flop_limit']:.2f}{versus}")


def spread(runs):
    """p50 / limit per case over several runs: min, median, max."""
    by_case = {}
    for rows in runs:
        for r in cases(rows, "java"):
            by_case.setdefault((r["batch"], r["seq"], r["clients"]), []).append(r)
    print("| batch x tokens | clients | runs | function p50 / limit (min, median, max) | forward p50 / limit (min, median, max) |")
    print("|---|---|---|---|---|")
    for (batch, seq, clients), rs in by_case.items():
        def stats(key):
            values = sorted(r[key] for r in rs if key in r)
            return f"{values[0]:.2f}, {values[len(values) // 2]:.2f}, {values[-1]:.2f}" if values else "-"
        print(f"| {batch} x {seq} | {clients} | {len(rs)} | {stats('p50_over_flop_limit')} | {stats('forward_p50_over_flop_limit')} |")


if __name__ == "__main__":
    runs = [load(path) for path in sys.argv[1:]]
    for rows in runs:
        report(rows)
    if len(runs) > 1:
        spread(runs)
