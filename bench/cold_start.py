#!/usr/bin/env python3
"""classify's cold start: process start to the first answered classification, GPT-2 small (random weights).

Each variant runs `java -jar gpt2cls-runner.jar classify one.json` as a fresh process, the variants
interleaved round by round (each round starting with the next one) so that a busy moment on a shared machine
hits all of them alike:

  unpacked        libtorch already unpacked in the DJL cache (as in the container image), the model loaded
                  by the request (lazy; an on-demand Lambda environment)
  not-unpacked    a fresh DJL cache: libtorch (and the tokenizers library) unpacked from the jar first
  eager           GPT2CLS_CLASSIFY_LOAD_ON_START=true: loaded, and one warm-up forward, while starting
                  (a provisioned environment's init)
  appcds          unpacked, with Quarkus's AppCDS archive (target/app-cds.jsa; built by
                  ./mvnw package -DskipTests -Dquarkus.package.jar.appcds.enabled=true)
  dynamic-cds     unpacked, with a class archive recorded from a real classify run (-XX:ArchiveClassesAtExit),
                  so DJL's, Jackson's and the model path's classes are in it too
  handler         through the Lambda entry: bench/LambdaColdStart.java constructs the handler class that
                  src/main/docker/Dockerfile.lambda's CMD names (Lambda's init) and invokes it once with the
                  request's bytes, class path lib/* and the jar as in the image
  handler-funqy   the same with Funqy's own io.quarkus.funqy.lambda.FunqyStreamHandler (the entry before
                  issue 18: no native preload, Quarkus started by the first invocation)
  handler-runtime-flags
                  the handler variant with the Java command line the Lambda runtime starts it with (serial GC,
                  C1 only, the heap from the function's 2,048 MB), read from infra/lambda-base/bootstrap, and
                  the JAVA_TOOL_OPTIONS infra/template.yaml gives the classify function (ClassifyJavaToolOptions'
                  default): classify's cold start as Lambda runs it
  handler-runtime-flags-verified
                  the same without those JAVA_TOOL_OPTIONS (application classes verified, the JVM's default)
  handler-runtime-flags-plain
                  handler-runtime-flags with gpt2cls.classify.packed-products=false: the model's products are not
                  packed for MKL at load (a shorter load, slower forwards)

With --baseline DIR (a directory holding another build's gpt2cls-runner.jar and lib/, e.g. a copy of an
earlier commit's target/), each selected variant also runs from DIR as "<variant>-baseline", in the same
rounds: a change's effect measured in one run.

The breakdown comes from the service's "cold start:" log line (JVM start to first answer, JVM and Quarkus
until the model load, engine, weights, tokenizer, first classification); wall is exec to exit, CPU is the
process's user + system seconds (steadier than wall on a shared machine). Each variant's median first answer
is also given as a ratio to the handler-funqy variant's, measured in the same rounds.

    ./mvnw -B -q package -DskipTests -Dquarkus.package.jar.appcds.enabled=true
    python3 bench/cold_start.py [--rounds 5] [--out runs/cold-start] [--variants handler,handler-funqy] [--baseline DIR]
"""
import argparse
import json
import os
import re
import resource
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


HANDLER = re.compile(r'^CMD \["([\w.$]+)::handleRequest"\]', re.M)


def image_handler():
    """The handler class the Lambda image starts (its CMD)."""
    return HANDLER.search((ROOT / "src/main/docker/Dockerfile.lambda").read_text()).group(1)


def lambda_runtime_flags(memory_mib=2048):
    """The JVM flags of the Lambda Java runtime's command line (the stand-in base's bootstrap copies it),
    the heap sized for classify's default memory; not its class path or the runtime client's JNI library."""
    command = (ROOT / "infra/lambda-base/bootstrap").read_text().split("exec java", 1)[1].split("-classpath", 1)[0]
    command = re.sub(r"\$\(\(memory_mib \* 1024 \* 85 / 100\)\)", str(memory_mib * 1024 * 85 // 100), command)
    return [flag for flag in command.split() if flag != "\\" and "NativeClient" not in flag]


def classify_java_tool_options():
    """The default of the template's ClassifyJavaToolOptions, which the classify function gets as JAVA_TOOL_OPTIONS."""
    template = (ROOT / "infra/template.yaml").read_text()
    return re.search(r'^  ClassifyJavaToolOptions:\n(?:    .*\n)*?    Default: "([^"]*)"', template, re.M).group(1)


def run(model, request, env_extra=(), jvm_flags=(), handler=None, harness=None, target=TARGET):
    env = dict(os.environ, GPT2CLS_CLASSIFY_MODEL=str(model), **dict(env_extra))
    if handler:
        command = ["java", *jvm_flags, "-cp", f"{harness}:lib/*:{JAR}", "LambdaColdStart", handler, str(request)]
    else:
        command = ["java", *jvm_flags, "-jar", JAR, "classify", str(request)]
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=target, env=env, capture_output=True, text=True)
    wall = (time.perf_counter() - start) * 1e3
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0 or '"results"' not in done.stdout:
        raise SystemExit(f"classify failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    match = LINE.search(done.stderr)
    result = {"wall_ms": round(wall), "cpu_s": round(cpu_after.ru_utime + cpu_after.ru_stime
                                                     - cpu_before.ru_utime - cpu_before.ru_stime, 2)}
    if match:
        result.update(zip(FIELDS, map(int, match.groups())))
    if handler:  # the harness's own clock: Lambda's init (the handler constructed) and the first answer
        harness_times = json.loads(done.stdout)
        result.update(init_ms=harness_times["init_ms"], first_answer_ms=harness_times["first_answer_ms"])
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "runs" / "cold-start"))
    parser.add_argument("--variants", help="comma-separated subset of the variants (default: all)")
    parser.add_argument("--baseline", help="a directory with another build's gpt2cls-runner.jar and lib/: each variant also runs from it")
    args = parser.parse_args()
    out = Path(args.out).resolve()  # java runs in target/, so every path it is given is absolute
    out.mkdir(parents=True, exist_ok=True)
    model = out / "gpt2-small"
    if not (model / "model.safetensors").exists():
        subprocess.run(["java", "-jar", JAR, "init-model", "--preset", "gpt2-small", "--labels", "ham,spam", "--out", str(model)],
                       cwd=TARGET, check=True, capture_output=True)
    request = out / "one.json"
    request.write_text('{"text": "Subject: cheap meds, click now to win a free cruise"}\n')
    harness = out / "harness"
    subprocess.run(["javac", "-d", str(harness), "-cp", str(TARGET / "lib" / "*"), str(ROOT / "bench" / "LambdaColdStart.java")],
                   check=True)
    dynamic_archive = out / "classify-cds.jsa"
    wanted = set(args.variants.split(",")) if args.variants else None
    if not dynamic_archive.exists() and (wanted is None or "dynamic-cds" in wanted):
        run(model, request, jvm_flags=[f"-XX:ArchiveClassesAtExit={dynamic_archive}"])

    variants = {
        "handler": {"handler": image_handler()},
        "handler-funqy": {"handler": "io.quarkus.funqy.lambda.FunqyStreamHandler"},
        "handler-runtime-flags": {"handler": image_handler(), "jvm": lambda_runtime_flags(),
                                  "env": {"JAVA_TOOL_OPTIONS": classify_java_tool_options()}},
        "handler-runtime-flags-verified": {"handler": image_handler(), "jvm": lambda_runtime_flags()},
        "handler-runtime-flags-plain": {"handler": image_handler(), "jvm": lambda_runtime_flags(),
                                        "env": {"JAVA_TOOL_OPTIONS": classify_java_tool_options(),
                                                "GPT2CLS_CLASSIFY_PACKED_PRODUCTS": "false"}},
        "unpacked": {},
        "not-unpacked": {"fresh_cache": True},
        "eager": {"env": {"GPT2CLS_CLASSIFY_LOAD_ON_START": "true"}},
        "dynamic-cds": {"jvm": [f"-XX:SharedArchiveFile={dynamic_archive}"]},
    }
    if (TARGET / "app-cds.jsa").exists():
        variants["appcds"] = {"jvm": ["-XX:SharedArchiveFile=app-cds.jsa"]}
    if wanted:
        variants = {name: v for name, v in variants.items() if name in wanted}
    if args.baseline:
        baseline = Path(args.baseline).resolve()
        variants.update({f"{name}-baseline": dict(v, target=baseline) for name, v in list(variants.items())})
    results = {name: [] for name in variants}
    with open(out / "cold-start.jsonl", "w") as log:
        names = list(variants)
        for round_ in range(args.rounds):
            # each round starts with the next variant: none always goes first (or right after another one)
            for name in names[round_ % len(names):] + names[:round_ % len(names)]:
                variant = variants[name]
                env = dict(variant.get("env", {}))
                cache = None
                if variant.get("fresh_cache"):
                    cache = tempfile.mkdtemp(prefix="djl-cache-")
                    env["DJL_CACHE_DIR"] = cache
                try:
                    result = run(model, request, env.items(), variant.get("jvm", []), variant.get("handler"), harness,
                                 variant.get("target", TARGET))
                finally:
                    if cache:
                        shutil.rmtree(cache, ignore_errors=True)
                result.update(variant=name, round=round_, load=open("/proc/loadavg").read().split()[0])
                log.write(json.dumps(result) + "\n")
                log.flush()
                results[name].append(result)
                print(json.dumps(result), flush=True)

    print(f"\nmedians over {args.rounds} rounds (min-max of wall); load average {open('/proc/loadavg').read().split()[0]} at the end")
    print("| variant | wall ms | CPU s | JVM start to first answer | JVM + Quarkus | model load | engine | weights | tokenizer (alongside) | first classification |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, rs in results.items():
        def median(key):
            values = [r[key] for r in rs if key in r]
            return f"{statistics.median(values):.0f}" if values else "-"
        walls = [r["wall_ms"] for r in rs]
        cpu = statistics.median(r["cpu_s"] for r in rs)
        print(f"| {name} | {median('wall_ms')} ({min(walls)}-{max(walls)}) | {cpu:.2f} | " + " | ".join(median(f) for f in FIELDS) + " |")
    if "handler-funqy" in results:
        base = statistics.median(r["first_answer_ms"] for r in results["handler-funqy"])
        for name, rs in results.items():
            first = statistics.median(r["first_answer_ms"] for r in rs if "first_answer_ms" in r)
            print(f"issue 18, cold start: {name} first answer {first:.0f} ms = {first / base:.2f}x handler-funqy's {base:.0f} ms"
                  f" (goal 1,200 ms on a quiet machine)")


if __name__ == "__main__":
    main()
