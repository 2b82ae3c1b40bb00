#!/usr/bin/env bash
# Forward latency of a BERT-base-shaped model: stilts (build/bench/forward_latency) beside the same
# forward in plain PyTorch (bench/pytorch_forward.py), same weights, same thread settings.
# Builds nothing: `make bench` builds first, then runs this.
#
#   bash bench/run.sh [BUILD_DIR]        (default build)
#
# Environment knobs (defaults in brackets):
#   ROUNDS [5]       interleaved rounds; each round runs stilts then PyTorch, each a fresh process
#   THREADS [1]      torch threads (at::set_num_threads / torch.set_num_threads); a list ("1,2") adds
#                    a row per value. 1 is the faster here: see bench/README.md.
#   BATCH [1,32]  SEQ [128]  WARMUP [3,1]  REPS [20,3]   (WARMUP / REPS: one value or one per batch)
#   PYTHON           an interpreter with torch (default: python3 if it has torch, else /usr/bin/python3)
# OPENBLAS_CORETYPE / OPENBLAS_NUM_THREADS / OMP_NUM_THREADS are left as they are and recorded.
#
# Writes BUILD_DIR/bench-work/: bert-base/ (the model, made once), check.safetensors (the parity
# input and stilts' outputs), forward_latency.jsonl (every run's JSON line, with its round) and
# forward_latency.md (the table printed at the end: medians over rounds of each run's p50).
set -euo pipefail

build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/common.sh
source "$root/bench/common.sh"
[[ $build = /* ]] || build="$root/$build"
bin="$build/bench/forward_latency"
script="$root/bench/pytorch_forward.py"
work="$build/bench-work"
model="$work/bert-base"

ROUNDS=${ROUNDS:-5}
THREADS=${THREADS:-1}
BATCH=${BATCH:-1,32}
SEQ=${SEQ:-128}
WARMUP=${WARMUP:-3,1}
REPS=${REPS:-20,3}

if [[ ! -x $bin ]]; then
  echo "bench/run.sh: $bin is missing: build it first (make bench, or ninja -C $build forward_latency)" >&2
  exit 1
fi
bench_pick_python bench/run.sh

mkdir -p "$work"
common=(--model-dir "$model" --batch "$BATCH" --seq "$SEQ" --warmup "$WARMUP" --reps "$REPS")

echo "== forward latency: BERT-base (random weights), seq $SEQ, batch $BATCH, $ROUNDS interleaved rounds"
bench_print_environment

# The same weights on both sides, and proof that both compute the same thing.
if [[ ! -f $model/model.safetensors ]]; then echo "-- creating $model"; fi
"$bin" --model-dir "$model" --dump "$work/check.safetensors" --no-bench
"$PYTHON" "$script" --model-dir "$model" --check "$work/check.safetensors" --no-bench

out="$work/forward_latency.jsonl"
: >"$out"
for ((round = 1; round <= ROUNDS; round++)); do
  for threads in ${THREADS//,/ }; do
    echo "-- round $round/$ROUNDS, $threads torch thread(s): stilts, then PyTorch"
    "$bin" "${common[@]}" --threads "$threads" | sed "s/^{/{\"round\": $round, /" >>"$out"
    "$PYTHON" "$script" "${common[@]}" --threads "$threads" | sed "s/^{/{\"round\": $round, /" >>"$out"
  done
done

"$PYTHON" - "$out" "$work/forward_latency.md" <<'EOF'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
settings = sorted({(r["torch_threads"], r["batch"], r["seq"]) for r in rows})
def blank(v): return v if v is not None else "unset"
lines = ["| setting | stilts p50 ms | PyTorch p50 ms | ratio (PyTorch/stilts) | threads |",
         "|---|---|---|---|---|"]
for threads, batch, seq in settings:
    cell = {}
    for impl in ("stilts", "pytorch"):
        p50s = [r["p50_ms"] for r in rows if (r["impl"], r["torch_threads"], r["batch"], r["seq"]) == (impl, threads, batch, seq)]
        cell[impl] = (statistics.median(p50s), min(p50s), max(p50s), len(p50s))
    env = next(r for r in rows if r["torch_threads"] == threads)
    fmt = lambda m: f"{m[0]:.1f} ({m[1]:.1f}–{m[2]:.1f}, n={m[3]})"
    lines.append(f"| batch {batch} × seq {seq} | {fmt(cell['stilts'])} | {fmt(cell['pytorch'])} | "
                 f"{cell['pytorch'][0] / cell['stilts'][0]:.2f} | torch {threads}, "
                 f"OpenBLAS {env['openblas_threads']} ({env['openblas_core']} kernels, "
                 f"OPENBLAS_CORETYPE={blank(env['OPENBLAS_CORETYPE'])}) |")
table = "\n".join(lines)
open(sys.argv[2], "w").write(table + "\n")
print(table)
EOF
echo "   p50 cells: median over rounds of each process's p50 (min–max over rounds, n rounds);" \
     "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   results: $out, $work/forward_latency.md"
