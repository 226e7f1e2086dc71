#!/usr/bin/env python3
"""classify's cold start: process start to the first answered classification, GPT-2 small (random weights).

Each variant runs `java -jar gpt2cls-runner.jar classify one.json` as a fresh process, the variants
interleaved round by round so that a busy moment on a shared machine hits all of them alike:

  unpacked        libtorch already unpacked in the DJL cache (as in the container image), the model loaded
                  by the request (lazy; an on-demand Lambda environment)
  not-unpacked    a fresh DJL cache: libtorch (and the tokenizers library) unpacked from the jar first
  eager           GPT2CLS_CLASSIFY_LOAD_ON_START=true: loaded, and one warm-up forward, while starting
                  (a provisioned environment's init)
  appcds          unpacked, with Quarkus's AppCDS archive (target/app-cds.jsa; built by
                  ./mvnw package -DskipTests -Dquarkus.package.jar.appcds.enabled=true)
  dynamic-cds     unpacked, with a class archive recorded from a real classify run (-XX:ArchiveClassesAtExit),
                  so DJL's, Jackson's and the model path's classes are in it too

The breakdown comes from the service's "cold start:" log line (JVM start to first answer, JVM and Quarkus
until the model load, engine, weights, tokenizer, first classification); wall is exec to exit.

    ./mvnw -B -q package -DskipTests -Dquarkus.package.jar.appcds.enabled=true
    python3 bench/cold_start.py [--rounds 5] [--out runs/cold-start]
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "target"
JAR = "gpt2cls-runner.jar"
LINE = re.compile(r"cold start: first answer (\d+) ms after the JVM started; JVM and Quarkus until the model load (\d+) ms,"
                  r" model load (\d+) ms \(engine (\d+), weights (\d+), tokenizer (\d+) alongside\), first classification (\d+) ms")
FIELDS = ["first_answer_ms", "jvm_quarkus_ms", "load_ms", "engine_ms", "weights_ms", "tokenizer_ms", "first_classification_ms"]


def run(model, request, env_extra=(), jvm_flags=()):
    env = dict(os.environ, GPT2CLS_CLASSIFY_MODEL=str(model), **dict(env_extra))
    start = time.perf_counter()
    done = subprocess.run(["java", *jvm_flags, "-jar", JAR, "classify", str(request)], cwd=TARGET, env=env,
                          capture_output=True, text=True)
    wall = (time.perf_counter() - start) * 1e3
    if done.returncode != 0 or '"results"' not in done.stdout:
        raise SystemExit(f"classify failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    match = LINE.search(done.stderr)
    result = {"wall_ms": round(wall)}
    if match:
        result.update(zip(FIELDS, map(int, match.groups())))
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "runs" / "cold-start"))
    args = parser.parse_args()
    out = Path(args.out).resolve()  # java runs in target/, so every path it is given is absolute
    out.mkdir(parents=True, exist_ok=True)
    model = out / "gpt2-small"
    if not (model / "model.safetensors").exists():
        subprocess.run(["java", "-jar", JAR, "init-model", "--preset", "gpt2-small", "--labels", "ham,spam", "--out", str(model)],
                       cwd=TARGET, check=True, capture_output=True)
    request = out / "one.json"
    request.write_text('{"text": "Subject: cheap meds, click now to win a free cruise"}\n')
    dynamic_archive = out / "classify-cds.jsa"
    if not dynamic_archive.exists():
        run(model, request, jvm_flags=[f"-XX:ArchiveClassesAtExit={dynamic_archive}"])

    variants = {
        "unpacked": {},
        "not-unpacked": {"fresh_cache": True},
        "eager": {"env": {"GPT2CLS_CLASSIFY_LOAD_ON_START": "true"}},
        "dynamic-cds": {"jvm": [f"-XX:SharedArchiveFile={dynamic_archive}"]},
    }
    if (TARGET / "app-cds.jsa").exists():
        variants["appcds"] = {"jvm": ["-XX:SharedArchiveFile=app-cds.jsa"]}
    results = {name: [] for name in variants}
    with open(out / "cold-start.jsonl", "w") as log:
        for round_ in range(args.rounds):
            for name, variant in variants.items():
                env = dict(variant.get("env", {}))
                cache = None
                if variant.get("fresh_cache"):
                    cache = tempfile.mkdtemp(prefix="djl-cache-")
                    env["DJL_CACHE_DIR"] = cache
                try:
                    result = run(model, request, env.items(), variant.get("jvm", []))
                finally:
                    if cache:
                        shutil.rmtree(cache, ignore_errors=True)
                result.update(variant=name, round=round_, load=open("/proc/loadavg").read().split()[0])
                log.write(json.dumps(result) + "\n")
                log.flush()
                results[name].append(result)
                print(json.dumps(result), flush=True)

    print(f"\nmedians over {args.rounds} rounds (min-max of wall)")
    print("| variant | wall ms | JVM start to first answer | JVM + Quarkus | model load | engine | weights | tokenizer (alongside) | first classification |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, rs in results.items():
        def median(key):
            values = [r[key] for r in rs if key in r]
            return f"{statistics.median(values):.0f}" if values else "-"
        walls = [r["wall_ms"] for r in rs]
        print(f"| {name} | {median('wall_ms')} ({min(walls)}-{max(walls)}) | " + " | ".join(median(f) for f in FIELDS) + " |")


if __name__ == "__main__":
    main()
