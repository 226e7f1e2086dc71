#!/usr/bin/env bash
# Builds the Lambda image from the unchanged src/main/docker/Dockerfile.lambda with podman and invokes it
# as Lambda (and `sam local invoke`) would: every prepare and classify payload in events/ goes through a
# Runtime API emulator on loopback to the AWS Runtime Interface Client in the container, and each answer
# must equal the one the same jars give outside the container (this machine's JVM, the same Runtime
# Interface Client and handler, a writable directory as task root, root user, no memory limit), against
# the same S3 data (S3Proxy) and model. Then the fine-tuning job's entry point (Dockerfile.gpu's
# ENTRYPOINT and GPT2CLS_JOB) trains on the prepared dataset in a container with the CPU libtorch.
# Prints the cold starts, the image size and how long the check took; infra/README.md explains it.
#
#   infra/scripts/lambda-image-check.sh [--rebuild-base] [--skip-package] [--break cmd|jar]
#
#   --rebuild-base  rebuild the stand-in base image (Debian bookworm + OpenJDK 17 + the Runtime Interface
#                   Client, tagged with Dockerfile.lambda's FROM name) even if it exists
#   --skip-package  use target/ as it is instead of a fresh ./mvnw package
#   --break cmd     build with the Dockerfile's CMD naming a handler that does not exist: the check must fail
#   --break jar     build without the jar that holds the handler class: the check must fail
#
# Needs root, podman, runc, debootstrap, a JDK 17+ and unzip (Debian: apt-get install podman runc
# debootstrap unzip). The first run builds the base (debootstrap: 1-4 minutes and ~200 MB of packages from
# the Debian mirror in this machine's apt configuration); later runs reuse it. Nothing is pulled from an image
# registry. podman runs with a configuration file of its own (runc, cgroupfs, no default ulimits), written
# to the check's scratch directory; the machine's containers.conf is not changed.
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$SECONDS

REBUILD_BASE=false
PACKAGE=true
BREAK=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rebuild-base) REBUILD_BASE=true ;;
    --skip-package) PACKAGE=false ;;
    --break) BREAK=${2:-}; shift ;;
    *) sed -n '10,17p' "$0" >&2; exit 2 ;;
  esac
  shift
done
case "$BREAK" in ""|cmd|jar) ;; *) echo "error: --break takes cmd or jar, got '$BREAK'" >&2; exit 2 ;; esac

for tool in podman runc debootstrap java unzip; do
  command -v "$tool" >/dev/null || { echo "error: $tool is missing: apt-get install -y podman runc debootstrap unzip openjdk-17-jdk-headless" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "error: run as root (podman with runc and cgroupfs, debootstrap)" >&2; exit 2; }

DOCKERFILE=src/main/docker/Dockerfile.lambda
TEMPLATE=infra/template.yaml
BASE_IMAGE=$(sed -n 's/^FROM \([^ ]*\).*/\1/p' "$DOCKERFILE" | head -1)
DEBIAN_IMAGE=localhost/gpt2cls-check/debian-openjdk17:bookworm
FUNCTION_IMAGE=localhost/gpt2cls-check/lambda:latest
FINETUNE_IMAGE=localhost/gpt2cls-check/finetune-cpu:latest
STAND_IN_LABEL=io.gpt2cls.lambda-base-stand-in
BUCKET=gpt2cls-data-123456789012   # the bucket the sample events name

WORK=$(mktemp -d /tmp/lambda-image-check.XXXXXX)
PIDS=()
CONTAINERS=()
cleanup() {
  for c in "${CONTAINERS[@]}"; do podman rm -f "$c" >/dev/null 2>&1 || true; done
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
printf '[containers]\ndefault_ulimits = []\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' \
  > "$WORK/containers.conf"
podman() { CONTAINERS_CONF="$WORK/containers.conf" command podman "$@"; }
image_id() { podman image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }
# build_image IMAGE PODMAN-BUILD-ARGS...: builds and tags IMAGE, removing the image it replaces (no dangling copies)
build_image() {
  local image=$1 previous
  shift
  previous=$(image_id "$image")
  podman build --pull=never -t "$image" "$@" || return
  if [ -n "$previous" ] && [ "$previous" != "$(image_id "$image")" ]; then podman rmi "$previous" >/dev/null 2>&1 || true; fi
}
step() { printf '\n== %s (%d s)\n' "$1" $((SECONDS - started)); }
fail() { echo "FAIL: $*" >&2; exit 1; }

# ---- the template: a parameter's default, a function's settings and environment -----------------------
parameter_default() { awk -v p="  $1:" '$0==p {f=1; next} f && /^  [^ ]/ {exit} f && $1=="Default:" {sub(/^ *Default: */, ""); sub(/ +#.*/, ""); print; exit}' "$TEMPLATE" | tr -d '"'; }
resource_block() { awk -v r="  $1:" '$0==r {f=1; next} f && /^  [^ ]/ {exit} f' "$TEMPLATE"; }
# A value as the template's defaults give it: !Ref PARAM, !Sub "...${PARAM}...", !If [cond, a, b] (the
# conditions this check meets are false at the defaults: no provisioned concurrency), or a literal.
resolve() {
  local value=$1 name
  case "$value" in
    "!Ref "*) parameter_default "${value#!Ref }"; return ;;
    "!If "*) value=$(sed -E 's/^!If \[[^,]*,[^,]*, *([^]]*)\]$/\1/' <<< "$value") ;;
    "!Sub "*) value=${value#!Sub } ;;
  esac
  value=${value//\"/}
  while [[ $value =~ \$\{([A-Za-z0-9]+)\} ]]; do
    name=${BASH_REMATCH[1]}
    if [ "$name" = BucketName ]; then value=${value//\$\{$name\}/$BUCKET}; else value=${value//\$\{$name\}/$(parameter_default "$name")}; fi
  done
  echo "$value"
}
function_setting() { resolve "$(resource_block "$1" | sed -n "s/^      $2: *\([^#]*[^ #]\).*/\1/p" | head -1)"; }
function_environment() {
  resource_block "$1" | awk '/^      Environment:/ {e=1; next} e && /^          [A-Z_0-9]+:/ {print; next} e && /^      [^ ]/ {exit}' |
    while IFS= read -r line; do
      line=${line%%#*}; name=$(sed 's/^ *\([A-Z_0-9]*\):.*/\1/' <<< "$line"); value=$(sed 's/^ *[A-Z_0-9]*: *//; s/ *$//' <<< "$line")
      echo "$name=$(resolve "$value")"
    done
}

# ---- 1. the application ------------------------------------------------------------------------------
if $PACKAGE; then
  step "./mvnw package"
  ./mvnw -B -q clean package -DskipTests
fi
[ -f target/gpt2cls-runner.jar ] || fail "no target/gpt2cls-runner.jar: run without --skip-package"
[ -f target/s3proxy/s3proxy.jar ] || ./mvnw -B -q dependency:copy@copy-s3proxy -DskipTests=false
JAR=$PWD/target/gpt2cls-runner.jar
LOGS=target/lambda-image-check   # every log and answer of the last run, kept for a look after a failure
rm -rf "$LOGS" && mkdir -p "$LOGS"

# ---- 2. the stand-in base image ----------------------------------------------------------------------
# The Runtime Interface Client's jars (Maven Central), and its JNI library unpacked as the real base has it.
RUNTIME_LIB=$WORK/runtime-lib
./mvnw -B -q -f infra/lambda-base/pom.xml dependency:copy-dependencies -DoutputDirectory="$RUNTIME_LIB"
unzip -q -j -d "$RUNTIME_LIB/jni" "$RUNTIME_LIB"/aws-lambda-java-runtime-interface-client-*.jar jni/libaws-lambda-jni.linux-x86_64.so
if podman image exists "$BASE_IMAGE" && [ -z "$(podman image inspect --format "{{index .Labels \"$STAND_IN_LABEL\"}}" "$BASE_IMAGE")" ]; then
  fail "$BASE_IMAGE exists here and is not this check's stand-in (a real base image?); remove it or run elsewhere"
fi
if $REBUILD_BASE || ! podman image exists "$DEBIAN_IMAGE"; then
  # the Debian mirror this machine's apt uses (DEBIAN_MIRROR overrides)
  mirror=${DEBIAN_MIRROR:-$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    grep -E '^(deb |URIs:)' | grep -oE 'https?://[^ ]+/debian/?( |$)' | head -1 | tr -d ' ' || true)}
  [ -n "$mirror" ] || fail "no Debian mirror in /etc/apt/sources.list*; set DEBIAN_MIRROR"
  step "debootstrap bookworm + openjdk-17-jre-headless from $mirror"
  debootstrap --variant=minbase --include=openjdk-17-jre-headless bookworm "$WORK/rootfs" "$mirror" > "$WORK/debootstrap.log" 2>&1 ||
    { tail -20 "$WORK/debootstrap.log" >&2; fail "debootstrap failed"; }
  tar -C "$WORK/rootfs" -c . | podman import --quiet - "$DEBIAN_IMAGE" >/dev/null
  rm -rf "$WORK/rootfs"
  REBUILD_BASE=true
fi
if $REBUILD_BASE || ! podman image exists "$BASE_IMAGE"; then
  step "stand-in base $BASE_IMAGE"
  mkdir -p "$WORK/base"
  cp infra/lambda-base/Containerfile infra/lambda-base/lambda-entrypoint.sh infra/lambda-base/bootstrap "$WORK/base/"
  cp -r "$RUNTIME_LIB" "$WORK/base/runtime-lib"
  build_image "$BASE_IMAGE" --quiet --build-arg BASE="$DEBIAN_IMAGE" "$WORK/base" >/dev/null
fi

# ---- 3. the function image, from the unchanged Dockerfile (or one broken on purpose) -------------------
step "podman build -f $DOCKERFILE${BREAK:+ (broken: $BREAK)}"
context=.
dockerfile=$DOCKERFILE
if [ "$BREAK" = cmd ]; then
  dockerfile=$WORK/Dockerfile.broken-cmd
  sed 's/^CMD \["\([^:]*\)::/CMD ["\1Missing::/' "$DOCKERFILE" > "$dockerfile"
  grep '^CMD' "$dockerfile"
elif [ "$BREAK" = jar ]; then
  context=$WORK/context
  mkdir -p "$context/target"
  cp -r target/lib target/gpt2cls-runner.jar "$context/target/" && cp .dockerignore "$context/"
  handler=$(sed -n 's/^CMD \["\(.*\)::.*/\1/p' "$DOCKERFILE")
  for jar in "$context"/target/lib/*.jar; do
    if unzip -l "$jar" "${handler//.//}.class" >/dev/null 2>&1; then echo "removed $(basename "$jar") (holds $handler)"; rm "$jar"; fi
  done
fi
build_image "$FUNCTION_IMAGE" -f "$dockerfile" "$context" > "$LOGS/build.log" 2>&1 ||
  { tail -30 "$LOGS/build.log" >&2; fail "podman build of $DOCKERFILE failed (log above)"; }
image_size=$(podman image inspect --format '{{.Size}}' "$FUNCTION_IMAGE")
base_size=$(podman image inspect --format '{{.Size}}' "$BASE_IMAGE")
printf 'image %s: %d MB (the stand-in base: %d MB)\n' "$FUNCTION_IMAGE" $((image_size / 1000000)) $((base_size / 1000000))

# ---- 4. S3 data and the served model -------------------------------------------------------------------
step "S3 data: raw/spam/train.jsonl, its settings file, models/$(parameter_default ClassifyModelName)"
seed=$WORK/s3-seed
mkdir -p "$seed/raw/spam" "$seed/models"
cp src/test/resources/e2e/messages.jsonl "$seed/raw/spam/train.jsonl"
printf '{"train": "train.jsonl", "output": "s3://%s/prepared/spam", "max_length": 64, "test_fraction": 0.25}\n' "$BUCKET" \
  > "$seed/raw/spam/train.prepare.json"
DJL_OFFLINE=true java -jar "$JAR" init-model --preset tiny --labels ham,spam --seed 7 --out "$seed/models/$(parameter_default ClassifyModelName)" >/dev/null 2>&1 ||
  fail "init-model failed"

free_port() {
  local port
  while :; do port=$((20000 + RANDOM % 20000)); (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }; done
}
# start_s3 NAME: S3Proxy on loopback, holding the seed data uploaded through the S3 API; sets S3_PORT
start_s3() {
  local dir=$WORK/s3-$1
  mkdir -p "$dir/data"
  S3_PORT=$(free_port)
  cat > "$dir/s3proxy.conf" <<EOF
s3proxy.endpoint=http://127.0.0.1:$S3_PORT
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=local-identity
s3proxy.credential=local-credential
s3proxy.ignore-unknown-headers=true
jclouds.provider=filesystem-nio2
jclouds.identity=local-identity
jclouds.credential=local-credential
jclouds.filesystem.basedir=$dir/data
EOF
  java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx256m -jar target/s3proxy/s3proxy.jar --properties "$dir/s3proxy.conf" > "$LOGS/s3proxy-$1.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$S3_PORT") 2>/dev/null && break; sleep 0.2; done
  (exec 3<>"/dev/tcp/127.0.0.1/$S3_PORT") 2>/dev/null || { tail "$LOGS/s3proxy-$1.log" >&2; fail "S3Proxy did not start"; }
  env $(aws_environment "$S3_PORT") java -cp "target/lib/*" infra/scripts/S3Upload.java "$seed" "$BUCKET" > "$LOGS/upload-$1.log" 2>&1 ||
    { tail "$LOGS/upload-$1.log" >&2; fail "could not upload the seed data to S3Proxy"; }
}
# The standard AWS environment, pointing at S3Proxy (S3Proxy 2.6 wants checksums only when required).
aws_environment() {
  printf '%s\n' AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local-identity AWS_SECRET_ACCESS_KEY=local-credential \
    "AWS_ENDPOINT_URL_S3=http://127.0.0.1:$1" AWS_REQUEST_CHECKSUM_CALCULATION=when_required
}

# start_emulator DIR FUNCTION EVENT...: sets EMULATOR_PID and EMULATOR_PORT
start_emulator() {
  local dir=$1 function=$2; shift 2
  java infra/scripts/RuntimeApiEmulator.java --answers "$dir/answers" --port-file "$dir/port" --wait-s 600 \
    --function-timeout-s "$(function_setting "$function" Timeout)" \
    --function-arn "arn:aws:lambda:us-east-1:123456789012:function:$function" "$@" > "$dir/emulator.out" 2>&1 &
  EMULATOR_PID=$!
  PIDS+=($EMULATOR_PID)
  for _ in $(seq 300); do [ -f "$dir/port" ] && break; sleep 0.1; done
  [ -f "$dir/port" ] || { cat "$dir/emulator.out" >&2; fail "the Runtime API emulator did not start"; }
  EMULATOR_PORT=$(cat "$dir/port")
}
# wait_emulator DIR WHAT: the emulator's verdict (it exits when every event is answered or one fails)
wait_emulator() {
  local status=0
  wait "$EMULATOR_PID" || status=$?
  sed 's/^/  /' "$1/emulator.out"
  [ "$status" = 0 ] || { echo "  its log ends with:" >&2; tail -25 "$1/function.log" | sed 's/^/  | /' >&2; fail "$2: the emulator reported a failure"; }
}

# The same answer, latency_ms aside (classify reports its own measured latency).
# classify's own latency_ms aside, also inside a Function URL answer's body (a JSON string: \"latency_ms\")
normalised() { sed -E 's/\\?"latency_ms\\?":[0-9.eE+-]+,?//' "$1"; }

# Outside the container the task root is a copy of what Dockerfile.lambda copies into ${LAMBDA_TASK_ROOT}/lib
# (the Runtime Interface Client loads the handler from the jars in lib/ under its working directory).
TASK_ROOT=$WORK/task-root
mkdir -p "$TASK_ROOT/lib" && cp target/lib/*.jar "$JAR" "$TASK_ROOT/lib/"
HANDLER=$(sed -n 's/^CMD \["\(.*\)"\]/\1/p' "$DOCKERFILE")
HOST_S3_PORT= CONTAINER_S3_PORT=
start_s3 host; HOST_S3_PORT=$S3_PORT
start_s3 container; CONTAINER_S3_PORT=$S3_PORT

for export in prepare classify; do
  function=${export^}Function
  # The distributed prepare's payloads (prepare-plan*, prepare-map-*, prepare-reduce, prepare-distributed-execution) are other
  # functions' or the state machine's input: DeploymentEventsTest and PrepareDistributedTest check them.
  mapfile -t events < <(ls events/"$export"*.json | grep -v -e '/prepare-plan' -e '/prepare-map-' -e '/prepare-reduce' -e '/prepare-distributed-')
  memory=$(function_setting "$function" MemorySize)
  tmp_size=$(resolve "$(resource_block "$function" | awk '/^      EphemeralStorage:/ {f=1; next} f && /Size:/ {sub(/^ *Size: */, ""); sub(/ *#.*/, ""); print; exit}')")
  mapfile -t environment < <(function_environment "$function")
  [ "${environment[0]}" = "QUARKUS_FUNQY_EXPORT=$export" ] || fail "$function's environment in $TEMPLATE does not start with QUARKUS_FUNQY_EXPORT=$export: ${environment[*]}"

  step "$export outside the container: the same jars and Runtime Interface Client on this machine's JVM, ${#events[@]} events"
  dir=$LOGS/$export-host && mkdir -p "$dir"
  start_emulator "$dir" "$function" "${events[@]}"
  (cd "$TASK_ROOT" && exec env "${environment[@]}" $(aws_environment "$HOST_S3_PORT") DJL_OFFLINE=true \
    AWS_LAMBDA_RUNTIME_API="127.0.0.1:$EMULATOR_PORT" AWS_LAMBDA_FUNCTION_NAME="$function" AWS_LAMBDA_FUNCTION_MEMORY_SIZE="$memory" \
    java -Dcom.amazonaws.services.lambda.runtime.api.client.runtimeapi.NativeClient.JNI="$RUNTIME_LIB/jni/libaws-lambda-jni.linux-x86_64.so" \
      -classpath "$RUNTIME_LIB/*" com.amazonaws.services.lambda.runtime.api.client.AWSLambda "$HANDLER") > "$dir/function.log" 2>&1 &
  host_pid=$!
  PIDS+=($host_pid)
  wait_emulator "$dir" "$export on the host"
  kill "$host_pid" 2>/dev/null || true

  step "$export in the image: Runtime Interface Client, read-only root, /tmp only, user 993, ${memory} MB"
  dir=$LOGS/$export-container && mkdir -p "$dir"
  start_emulator "$dir" "$function" "${events[@]}"
  name=gpt2cls-check-$export-$$
  CONTAINERS+=("$name")
  # Lambda's /tmp starts empty: notmpcopyup keeps what the build left in the image's /tmp out of it
  variables=()  # one -e each, values kept whole (JAVA_TOOL_OPTIONS holds spaces)
  for variable in "${environment[@]}" $(aws_environment "$CONTAINER_S3_PORT"); do variables+=(-e "$variable"); done
  podman run --rm --name "$name" --network host --read-only --read-only-tmpfs=false \
    --tmpfs "/tmp:rw,mode=1777,size=${tmp_size}m,notmpcopyup" --user 993:990 --memory "${memory}m" --memory-swap "${memory}m" \
    "${variables[@]}" \
    -e AWS_LAMBDA_RUNTIME_API="127.0.0.1:$EMULATOR_PORT" -e AWS_LAMBDA_FUNCTION_NAME="$function" \
    -e AWS_LAMBDA_FUNCTION_MEMORY_SIZE="$memory" -e AWS_LAMBDA_FUNCTION_VERSION='$LATEST' \
    "$FUNCTION_IMAGE" > "$dir/function.log" 2>&1 &
  wait_emulator "$dir" "$export in the image"
  podman rm -f "$name" >/dev/null 2>&1 || true

  for event in "${events[@]}"; do
    file=$(basename "$event")
    expected=$LOGS/$export-host/answers/$file
    actual=$dir/answers/$file
    # What a right answer holds: classify's results; prepare's counts for the events naming the bucket (or,
    # for a later event announcing the same upload, the duplicate's "already holds ... from these inputs"),
    # and for events/prepare.json (local paths, for the jar's command) the allowed-locations refusal.
    case "$export:$(grep -c "$BUCKET" "$event")" in
      classify:*) want='"results":\[\{|\\"results\\":\[\{' ;;  # the Function URL's answer holds it in its body
      prepare:0) want="is outside the allowed locations" ;;
      prepare:*) want='"accepted":|already holds the dataset prepared from these inputs' ;;
    esac
    if ! grep -qE "$want" "$actual"; then
      fail "$file: the answer lacks $want: $(head -c 600 "$actual")"
    elif [ "$(normalised "$expected")" != "$(normalised "$actual")" ]; then
      echo "  expected (host): $(head -c 600 "$expected")" >&2
      echo "  actual (image):  $(head -c 600 "$actual")" >&2
      fail "$file: the image answered differently"
    fi
    printf '  %-32s same answer: %s\n' "$file" "$(head -c 110 "$actual")..."
  done
done

# ---- 5. the fine-tuning job's entry point, on the CPU ---------------------------------------------------
# Dockerfile.gpu needs PyTorch's CUDA image; what a stand-in can serve is its entry point: the same jar,
# ENTRYPOINT, WORKDIR and GPT2CLS_JOB, on the stand-in's Java, with the CPU libtorch jar kept.
step "finetune: Dockerfile.gpu's entry point on the CPU, the request EventBridge builds"
gpu_dockerfile=src/main/docker/Dockerfile.gpu
mkdir -p "$LOGS/finetune"
{
  echo "FROM $DEBIAN_IMAGE"
  echo "COPY target/lib/ /app/lib/"
  echo "COPY target/gpt2cls-runner.jar /app/gpt2cls-runner.jar"
  echo "ENV DJL_CACHE_DIR=/tmp/djl DJL_OFFLINE=true $(grep -oE '^ +GPT2CLS_JOB=[a-z]+' "$gpu_dockerfile" | tr -d ' ')"
  grep -E '^(WORKDIR|ENTRYPOINT)' "$gpu_dockerfile"
} > "$LOGS/finetune/Containerfile"
build_image "$FINETUNE_IMAGE" --quiet -f "$LOGS/finetune/Containerfile" . > "$LOGS/finetune/build.log" 2>&1 ||
  { cat "$LOGS/finetune/build.log" >&2; fail "the fine-tuning image did not build"; }
manifest_key=$(sed -n 's/.*"key": "\(.*\)".*/\1/p' events/finetune-manifest-eventbridge.json)
request="{\"dataset\": \"s3://$BUCKET/$manifest_key\"}"   # the job request FinetuneOnManifest's InputTransformer builds
job_environment=$(resource_block FinetuneJobDefinition | awk '/- Name:/ {n=$3} /Value:/ && n {sub(/^ *Value: */, ""); print n "=" $0; n=""}' |
  while IFS= read -r pair; do echo "${pair%%=*}=$(resolve "${pair#*=}")"; done | grep -v '^AWS_REGION=')
# models/spam is the job's conventional output; the seeded classify model there has served its purpose
rm -rf "$WORK/s3-container/data/$BUCKET/models/spam"
name=gpt2cls-check-finetune-$$
CONTAINERS+=("$name")
finetune_status=0
podman run --rm --name "$name" --network host --user 993:990 \
  $(printf -- '-e %s ' $job_environment $(aws_environment "$CONTAINER_S3_PORT")) -e GPT2CLS_JOB_REQUEST="$request" \
  "$FINETUNE_IMAGE" > "$LOGS/finetune/answer.json" 2> "$LOGS/finetune/job.log" || finetune_status=$?
model_dir=$WORK/s3-container/data/$BUCKET/models/spam
if [ "$finetune_status" != 0 ] || ! grep -q '"status" *: *"completed"' "$LOGS/finetune/answer.json" || [ ! -f "$model_dir/model.safetensors" ]; then
  tail -20 "$LOGS/finetune/job.log" >&2; cat "$LOGS/finetune/answer.json" >&2
  fail "finetune in the container: exit status $finetune_status, or no model published under models/spam"
fi
echo "  exit 0; $(tr -d '\n' < "$LOGS/finetune/answer.json" | tr -s ' ' | head -c 200)..."

step "done"
printf 'ok: %s built from the unchanged %s answered every prepare and classify event as the same jars do outside it;\n' "$FUNCTION_IMAGE" "$DOCKERFILE"
printf '    finetune ran from Dockerfile.gpu'"'"'s entry point. Image %d MB. The whole check took %d s.\n' $((image_size / 1000000)) $((SECONDS - started))
