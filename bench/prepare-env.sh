# Sourced by bench/prepare-mapreduce.sh and bench/prepare-reduce.sh, with the work directory given (or its
# default): sets WORK and JAR, makes GPT-2's tokenizer in $WORK/tokenizer, and names the machine on stderr.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
WORK=$(realpath -m "$1")
JAR=${JAR:-target/gpt2cls-runner.jar}
mkdir -p "$WORK"
[ -f "$WORK/tokenizer/tokenizer.json" ] || java -jar "$JAR" tokenizer gpt2 --out "$WORK/tokenizer" >&2
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%dT%H:%MZ)" >&2
