#!/usr/bin/env bash
# Replays src/main/docker/Dockerfile.lambda on this machine, without Docker: its ENV, COPY and RUN
# instructions run against a scratch directory standing in for the image (/var/task, /opt), with the
# JVM found here instead of the base image's. Then it plays Lambda: another user than the build
# (nobody) classifies a text from a read-only task root, with only /tmp writable, and the script checks
# that libtorch and the tokenizer library were loaded from ENGINE_CACHE_DIR, not unpacked again.
#
#   ./mvnw -B package -DskipTests && infra/scripts/replay-lambda-image.sh
#
# What it cannot show: the base image itself (Amazon Linux 2023, Java 21, the Lambda runtime client).
# The user switch needs root (runuser); without root that part is skipped, and said so.
set -euo pipefail
cd "$(dirname "$0")/../.."
DOCKERFILE=src/main/docker/Dockerfile.lambda
[ -f target/gpt2cls-runner.jar ] || { echo "error: build first: ./mvnw -B package -DskipTests" >&2; exit 2; }

ROOT=$(mktemp -d /tmp/lambda-image.XXXXXX)
trap 'rm -rf "$ROOT"' EXIT
export LAMBDA_TASK_ROOT="$ROOT/var/task"
mkdir -p "$LAMBDA_TASK_ROOT"

# Absolute paths of the image outside /tmp live under the scratch root.
in_image() { case "$1" in /tmp*) echo "$1" ;; /*) echo "$ROOT$1" ;; *) echo "$1" ;; esac; }

# One instruction per line: continuation lines joined, comments dropped.
sed -e 's/[[:space:]]*$//' "$DOCKERFILE" | grep -v '^[[:space:]]*#' | sed -e ':a' -e '/\\$/N; s/\\\n[[:space:]]*/ /; ta' |
while IFS= read -r line; do
  instruction=${line%% *}
  args=${line#* }
  case "$instruction" in
    FROM|CMD|"") ;;
    ENV)
      for pair in $args; do
        name=${pair%%=*}
        value=$(in_image "${pair#*=}")
        export "$name=$value"
        echo "ENV  $name=$value"
        echo "export $name='$value'" >> "$ROOT/env.sh"
      done ;;
    COPY)
      read -r source target <<< "$args"
      target=$(eval echo "$target")
      mkdir -p "$(dirname "$target")"
      if [ -d "$source" ]; then mkdir -p "$target" && cp -r "$source"/. "$target"; else cp "$source" "$target"; fi
      echo "COPY $source -> $target" ;;
    RUN)
      echo "RUN  $args"
      (source "$ROOT/env.sh"; bash -euo pipefail -c "$args") ;;
    *) echo "error: $DOCKERFILE uses $instruction, which this replay does not know" >&2; exit 1 ;;
  esac
done
source "$ROOT/env.sh"

HANDLER=$(sed -n 's/^CMD \["\(.*\)::handleRequest"\]/\1/p' "$DOCKERFILE")
CLASS_FILE="${HANDLER//.//}.class"
HANDLER_JAR=""
for jar in "$LAMBDA_TASK_ROOT"/lib/*.jar; do
  if unzip -l "$jar" "$CLASS_FILE" >/dev/null 2>&1; then HANDLER_JAR=$jar; fi
done
[ -n "$HANDLER_JAR" ] || { echo "error: the handler $HANDLER is in no jar of the task root" >&2; exit 1; }
echo "handler $HANDLER found in $(basename "$HANDLER_JAR")"

if [ "$(id -u)" != 0 ] || ! command -v runuser >/dev/null; then
  echo "skipped: running as another user needs root and runuser; the build steps above passed"
  exit 0
fi

# Lambda: a read-only task root and engine directory owned by someone else, /tmp writable, no home.
# (the scratch root stands for /: traversable; below it, modes are what COPY and RUN left, as in the image)
chmod 755 "$ROOT"
RUNTIME_TMP=$(mktemp -d /tmp/lambda-tmp.XXXXXX) && chmod 1777 "$RUNTIME_TMP"
MODEL=$(mktemp -d /tmp/lambda-model.XXXXXX)
java -cp "$LAMBDA_TASK_ROOT/lib/*" io.gpt2cls.cli.Main init-model --preset tiny --labels ham,spam --out "$MODEL/m" >/dev/null 2>&1
chmod -R a+rX "$MODEL"
before=$(find "$ENGINE_CACHE_DIR" -type f | sort | xargs sha256sum)
runuser -u nobody -- env -i PATH="$PATH" HOME=/nonexistent ENGINE_CACHE_DIR="$ENGINE_CACHE_DIR" DJL_CACHE_DIR="$RUNTIME_TMP/djl" \
  DJL_OFFLINE=true GPT2CLS_CLASSIFY_MODEL="$MODEL/m" \
  java -Djava.io.tmpdir="$RUNTIME_TMP" -cp "$LAMBDA_TASK_ROOT/lib/*" io.gpt2cls.cli.Main classify '{"text": "Click here for a FREE trial"}' \
  > "$RUNTIME_TMP/answer.json" 2> "$RUNTIME_TMP/log.txt" || { cat "$RUNTIME_TMP/log.txt" >&2; exit 1; }
after=$(find "$ENGINE_CACHE_DIR" -type f | sort | xargs sha256sum)
grep -q '"label"' "$RUNTIME_TMP/answer.json" || { echo "error: no classification in the answer" >&2; cat "$RUNTIME_TMP/answer.json" >&2; exit 1; }
[ "$before" = "$after" ] || { echo "error: the engine directory changed at run time" >&2; exit 1; }
if find "$RUNTIME_TMP" -name 'libtorch*.so' | grep -q .; then
  echo "error: libtorch was unpacked again into /tmp" >&2; exit 1
fi
rm -rf "$RUNTIME_TMP" "$MODEL"
echo "ok: as 'nobody', classify loaded libtorch and the tokenizer from the read-only $ENGINE_CACHE_DIR; nothing unpacked into /tmp"
