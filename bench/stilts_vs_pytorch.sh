#!/usr/bin/env bash
# `stilts bench` beside the same forward in plain PyTorch (bench/pytorch_modes.py), on a BERT-base-shaped
# BertForSequenceClassification with random weights: same model file, same inputs (shape and
# distribution), same thread count, same warm-up and repetitions, per mode. stilts bench runs the
# classifier as stilts' inference does (EncoderModel::logits: the last layer at the [CLS] position
# only, the one the head reads); PyTorch runs transformers' forward, which computes every position.
# Builds nothing (`make bench` builds first).
#
#   bash bench/stilts_vs_pytorch.sh [BUILD_DIR]        (default build)
#
# Environment knobs (defaults in brackets):
#   ROUNDS [3]          interleaved rounds, each a fresh stilts and a fresh PyTorch process per setting;
#                       odd rounds run stilts first, even rounds PyTorch first
#   MODES [fp32,bf16]   any of fp32, bf16, int8
#   BATCH [1,32]  SEQ [128]  WARMUP [2]  REPS [10]  (REPS32 [3]: repetitions at batch sizes >= 16)
#   THREADS [0]         0: stilts bench's default for the mode, and the same number for PyTorch
#   MARGIN [0.05]       a warning is printed for every setting whose per-round stilts / PyTorch ratios
#                       spread (max - min) by more than this: the machine's noise then exceeds the
#                       margin a goal such as "<= 1.0x" is read at, and more rounds or a quieter
#                       machine are needed before the figure means anything
#   PYTHON              an interpreter with torch (see bench/common.sh)
# Also prints `stilts bench` on the whole grid (batch 1,8,32 x seq 128) once, and checks that two
# stilts runs agree at p50 (GRID=0 skips both; GRID_REPS [5] and GRID_MIN_TIME [2] per setting).
#
# Writes BUILD_DIR/bench-work/: bert-base/ (made once by forward_latency: create_model + init_weights +
# save_pretrained), check.safetensors, stilts_vs_pytorch.jsonl (every process's figures) and
# stilts_vs_pytorch.md (the table).
set -euo pipefail

build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/common.sh
source "$root/bench/common.sh"
[[ $build = /* ]] || build="$root/$build"
stilts="$build/stilts"
creator="$build/bench/forward_latency"
work="$build/bench-work"
model="$work/bert-base"

ROUNDS=${ROUNDS:-3}
MODES=${MODES:-fp32,bf16}
BATCH=${BATCH:-1,32}
SEQ=${SEQ:-128}
WARMUP=${WARMUP:-2}
REPS=${REPS:-10}
REPS32=${REPS32:-3}
THREADS=${THREADS:-0}
GRID=${GRID:-1}
MARGIN=${MARGIN:-0.05}
GRID_REPS=${GRID_REPS:-5}
GRID_MIN_TIME=${GRID_MIN_TIME:-2}

for bin in "$stilts" "$creator"; do
  if [[ ! -x $bin ]]; then
    echo "bench/stilts_vs_pytorch.sh: $bin is missing: build it first (make bench)" >&2
    exit 1
  fi
done
bench_pick_python bench/stilts_vs_pytorch.sh
mkdir -p "$work"

echo "== stilts bench vs PyTorch: BERT-base (random weights), seq $SEQ, batch $BATCH, modes $MODES, $ROUNDS rounds"
bench_print_environment

# The same weights on both sides, and proof that both compute the same thing (fp32).
"$creator" --model-dir "$model" --dump "$work/check.safetensors" --no-bench
"$PYTHON" "$root/bench/pytorch_forward.py" --model-dir "$model" --check "$work/check.safetensors" --no-bench

out="$work/stilts_vs_pytorch.jsonl"
: >"$out"
threads_for() {  # the thread count stilts bench uses for a mode (its default when THREADS=0)
  if [[ $THREADS != 0 ]]; then echo "$THREADS"; return; fi
  "$stilts" bench "$model" --mode "$1" --batch-sizes 1 --seq-lens 8 --reps 1 --min-time 0 --warmup 0 --csv \
    2>/dev/null | tail -1 | cut -d, -f3
}
run_stilts() {  # mode threads batch reps round: one stilts bench process, one JSON line per record
  "$stilts" bench "$model" --mode "$1" --threads "$2" --batch-sizes "$3" --seq-lens "$SEQ" \
    --warmup "$WARMUP" --reps "$4" --max-reps "$4" --min-time 0 --json 2>/dev/null |
    "$PYTHON" -c '
import json, sys
j = json.load(sys.stdin)
for r in j["records"]:
    print(json.dumps({"round": int(sys.argv[1]), "impl": "stilts", "mode": r["mode"], "batch": r["batch_size"],
                      "seq": r["seq_len"], "threads": r["threads"], "p50_ms": r["latency_ms"]["p50"],
                      "mean_ms": r["latency_ms"]["mean"], "reps": r["latency_ms"]["reps"],
                      "load": j["fingerprint"]["load_average"][0]}))' "$5" >>"$out"
}
run_pytorch() {  # mode threads batch reps round: the same forward in plain PyTorch
  "$PYTHON" "$root/bench/pytorch_modes.py" --model-dir "$model" --mode "$1" --threads "$2" \
    --batch "$3" --seq "$SEQ" --warmup "$WARMUP" --reps "$4" |
    sed "s/^{/{\"round\": $5, \"threads\": $2, /" >>"$out"
}
for mode in ${MODES//,/ }; do
  threads=$(threads_for "$mode")
  for ((round = 1; round <= ROUNDS; round++)); do
    for batch in ${BATCH//,/ }; do
      reps=$REPS
      ((batch >= 16)) && reps=$REPS32
      # Odd rounds run stilts first, even rounds PyTorch first (ABBA), so a drift within a round
      # favours neither.
      order="stilts pytorch"
      ((round % 2 == 0)) && order="pytorch stilts"
      echo "-- $mode, round $round/$ROUNDS, batch $batch, $threads thread(s), $reps reps: ${order/ /, then }"
      for impl in $order; do
        if [[ $impl = stilts ]]; then
          run_stilts "$mode" "$threads" "$batch" "$reps" "$round"
        else
          run_pytorch "$mode" "$threads" "$batch" "$reps" "$round"
        fi
      done
    done
  done
done

"$PYTHON" - "$out" "$work/stilts_vs_pytorch.md" "$MARGIN" <<'EOF'
import json, math, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
margin = float(sys.argv[3])
warnings = []
def paired(mode, batch, seq):  # geometric mean over rounds of stilts p50 / PyTorch p50 (same round)
    by_round = {}
    for r in rows:
        if (r["mode"], r["batch"], r["seq"]) == (mode, batch, seq):
            by_round.setdefault(r["round"], {})[r["impl"]] = r["p50_ms"]
    ratios = [v["stilts"] / v["pytorch"] for v in by_round.values() if len(v) == 2]
    return math.exp(sum(map(math.log, ratios)) / len(ratios)), ratios
keys = sorted({(r["mode"], r["batch"], r["seq"], r["threads"]) for r in rows}, key=lambda k: (k[0] != "fp32", k))
lines = ["| mode | setting | threads | stilts p50 ms | PyTorch p50 ms | stilts / PyTorch (medians) | per round (geometric mean) |",
         "|---|---|---|---|---|---|---|"]
p50 = {}
for mode, batch, seq, threads in keys:
    cell = {}
    for impl in ("stilts", "pytorch"):
        v = [r["p50_ms"] for r in rows if (r["impl"], r["mode"], r["batch"], r["seq"]) == (impl, mode, batch, seq)]
        cell[impl] = (statistics.median(v), min(v), max(v), len(v))
    p50[(mode, batch)] = cell["stilts"][0]
    per_round = paired(mode, batch, seq)[1]
    if len(per_round) > 1 and max(per_round) - min(per_round) > margin:
        warnings.append(f"WARNING: {mode} batch {batch}: the per-round ratios span {min(per_round):.2f}-{max(per_round):.2f}, "
                        f"wider than the margin {margin:g}: noise exceeds what a goal can be read at; "
                        f"add rounds or use a quieter machine")
    fmt = lambda m: f"{m[0]:.1f} ({m[1]:.1f}–{m[2]:.1f}, n={m[3]})"
    lines.append(f"| {mode} | batch {batch} × seq {seq} | {threads} | {fmt(cell['stilts'])} | {fmt(cell['pytorch'])} | "
                 f"{cell['stilts'][0] / cell['pytorch'][0]:.2f} | {paired(mode, batch, seq)[0]:.2f} "
                 f"({', '.join(f'{x:.2f}' for x in paired(mode, batch, seq)[1])}) |")
for mode in sorted({k[0] for k in keys} - {"fp32"}):
    for batch in sorted({k[1] for k in keys}):
        if ("fp32", batch) in p50 and (mode, batch) in p50:
            lines.append(f"\nstilts {mode} speed-up over fp32 at batch {batch}: {p50[('fp32', batch)] / p50[(mode, batch)]:.2f}x")
table = "\n".join(lines + ([""] + warnings if warnings else []))
open(sys.argv[2], "w").write(table + "\n")
print(table)
EOF
echo "   cells: median over rounds of each process's p50 (min–max, n rounds); load at end: $(cut -d' ' -f1-3 /proc/loadavg)"

if [[ $GRID = 1 ]]; then
  echo "== stilts bench on the whole grid (batch 1,8,32 x seq $SEQ, fp32), twice: p50 agreement"
  for run in 1 2; do
    "$stilts" bench "$model" --batch-sizes 1,8,32 --seq-lens "$SEQ" --warmup 1 --reps "$GRID_REPS" \
      --max-reps "$GRID_REPS" --min-time "$GRID_MIN_TIME" --json \
      >"$work/grid_run$run.json"
  done
  "$stilts" bench "$model" --batch-sizes 1 --seq-lens "$SEQ" --reps 2 --min-time 0 --md | head -3
  "$PYTHON" - "$work/grid_run1.json" "$work/grid_run2.json" <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
print("| batch × seq | run 1 p50 ms | run 2 p50 ms | run 2 / run 1 | p90 | p99 | seq/s | tok/s | peak RSS MB |")
print("|---|---|---|---|---|---|---|---|---|")
for ra, rb in zip(a["records"], b["records"]):
    la, lb = ra["latency_ms"], rb["latency_ms"]
    print(f"| {ra['batch_size']} × {ra['seq_len']} | {la['p50']:.1f} | {lb['p50']:.1f} | {lb['p50'] / la['p50']:.3f} | "
          f"{la['p90']:.1f} | {la['p99']:.1f} | {ra['throughput_seq_s']:.2f} | {ra['throughput_tok_s']:.0f} | {ra['peak_rss_mb']:.0f} |")
print(f"load average: run 1 {a['fingerprint']['load_average']}, run 2 {b['fingerprint']['load_average']}")
EOF
fi
