#!/usr/bin/env bash
# Fine-tuning throughput of a BERT-base-shaped model on PAWS-X dev lengths: stilts
# (build/bench/train_throughput) beside the same steps in plain PyTorch (bench/pytorch_train.py), same
# weights, same batches, same thread settings; (a) every batch padded to 128, (b) dynamic padding.
# Builds nothing (ninja -C BUILD_DIR train_throughput first).
#
# Interleaving: a training step takes seconds, so fresh processes per round (as bench/run.sh does for
# forwards) would put minutes between a stilts measurement and its PyTorch twin on a machine whose load
# changes by the second. Instead both sides stay resident (--serve) and are stepped in lockstep: every
# timed step on one side is followed or preceded by the same batch on the other (ABBA order), after a
# warm-up step per mode and side.
#
#   bash bench/train_run.sh [BUILD_DIR]        (default build)
#
# Environment knobs (defaults in brackets):
#   ROUNDS [4]      rounds over the timed batches, both modes (odd rounds padded first, even rounds
#                   dynamic first)
#   PRECISIONS [fp32,bf16]  each measured in turn, both sides fresh (bf16: the forward and the loss under
#                   autocast, as stilts train --precision bf16 and transformers' Trainer bf16=True)
#   THREADS         torch threads; default stilts train's per precision: 1 for fp32 (its GEMMs run in
#                   OpenBLAS's own pool), 2 for bf16 (oneDNN scales with torch's threads)
#   MARGIN [0.05]   a warning is printed for every setting whose per-round stilts / PyTorch ratios
#                   span more than this (as bench/stilts_vs_pytorch.sh does)
#   BATCH [16]  WARMUP [1]  STEPS [4]  (warm-up steps per mode and side; timed batches per mode and
#                   round; batch 16 rather than 32 keeps a run under 10 minutes on 2 quiet cores)
#   LANGS [en,de,es,fr,ja,ko,zh]  SPLIT [dev_2k]
#   PAWSX [/work/shared/fixtures/data/pawsx]  TOKENIZER [/work/shared/fixtures/tokenize/wordpiece-cased]
#   PYTHON          an interpreter with torch (default: python3 if it has torch, else /usr/bin/python3)
# OPENBLAS_CORETYPE / OPENBLAS_NUM_THREADS / OMP_NUM_THREADS are left as they are and recorded.
#
# Writes BUILD_DIR/bench-work/: train-bert-base/ (the model, made once), features-cache/,
# train_batches.safetensors (the batches both sides run), train_data.json (length distribution and
# padding), train_throughput-<precision>.jsonl (every timed step of both sides) and
# train_throughput-<precision>.md (the table).
set -euo pipefail

build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/common.sh
source "$root/bench/common.sh"
[[ $build = /* ]] || build="$root/$build"
bin="$build/bench/train_throughput"
script="$root/bench/pytorch_train.py"
work="$build/bench-work"
model="$work/train-bert-base"

ROUNDS=${ROUNDS:-4}
PRECISIONS=${PRECISIONS:-fp32,bf16}
MARGIN=${MARGIN:-0.05}
THREADS=${THREADS:-}
BATCH=${BATCH:-16}
WARMUP=${WARMUP:-1}
STEPS=${STEPS:-4}
LANGS=${LANGS:-en,de,es,fr,ja,ko,zh}
SPLIT=${SPLIT:-dev_2k}
PAWSX=${PAWSX:-/work/shared/fixtures/data/pawsx}
TOKENIZER=${TOKENIZER:-/work/shared/fixtures/tokenize/wordpiece-cased}

if [[ ! -d $PAWSX || ! -f $TOKENIZER/vocab.txt ]]; then
  echo "bench/train_run.sh: PAWS-X data ($PAWSX) or the tokenizer ($TOKENIZER) is absent: nothing measured" >&2
  exit 0
fi
if [[ ! -x $bin ]]; then
  echo "bench/train_run.sh: $bin is missing: build it first (ninja -C $build train_throughput)" >&2
  exit 1
fi
bench_pick_python bench/train_run.sh

mkdir -p "$work"
batches="$work/train_batches.safetensors"
data="$work/train_data.json"

echo "== fine-tuning throughput: BERT-base (random weights), $PRECISIONS, batch $BATCH, PAWS-X $SPLIT ($LANGS) lengths," \
     "$WARMUP warm-up + $STEPS timed steps per mode, $ROUNDS rounds, sides in lockstep"
bench_print_environment

# The data, the batches and the model, once; then proof that both sides start from the same state.
"$bin" --model-dir "$model" --pawsx "$PAWSX" --tokenizer "$TOKENIZER" --langs "$LANGS" --split "$SPLIT" \
  --batch "$BATCH" --warmup "$WARMUP" --steps "$STEPS" --threads "${THREADS:-1}" --write-batches "$batches" \
  --no-bench >"$data"
check_loss=$("$PYTHON" -c 'import json,sys; print(repr(json.load(open(sys.argv[1]))["check"]["eval_loss"]))' "$data")
"$PYTHON" "$script" --model-dir "$model" --batches "$batches" --threads "${THREADS:-1}" --check-loss "$check_loss" \
  --no-bench

IFS=, read -r -a precisions <<<"$PRECISIONS"
for precision in "${precisions[@]}"; do
case $precision in
  fp32) threads=${THREADS:-1} ;;
  bf16) threads=${THREADS:-2} ;;
  *) echo "bench/train_run.sh: PRECISIONS: '$precision' is neither fp32 nor bf16" >&2; exit 2 ;;
esac
echo "-- $precision, $threads torch thread(s)"
out="$work/train_throughput-$precision.jsonl"
export TT_BIN="$bin" TT_SCRIPT="$script" TT_MODEL="$model" TT_BATCHES="$batches" TT_PAWSX="$PAWSX" \
  TT_TOKENIZER="$TOKENIZER" TT_LANGS="$LANGS" TT_SPLIT="$SPLIT" TT_BATCH="$BATCH" TT_WARMUP="$WARMUP" \
  TT_STEPS="$STEPS" TT_THREADS="$threads" TT_ROUNDS="$ROUNDS" TT_PYTHON="$PYTHON" TT_PRECISION="$precision" TT_MARGIN="$MARGIN"
"$PYTHON" - "$out" "$data" "$work/train_throughput-$precision.md" <<'EOF'
# The driver: both sides resident (train_throughput --serve, pytorch_train.py --serve) and stepped in
# lockstep, so each stilts step has its PyTorch twin (the same batch) right before or after it.
import json, os, statistics, subprocess, sys
out_path, data_path, md_path = sys.argv[1:4]
e = os.environ
common = ["--threads", e["TT_THREADS"], "--precision", e["TT_PRECISION"], "--serve"]
commands = {
    "stilts": [e["TT_BIN"], "--model-dir", e["TT_MODEL"], "--pawsx", e["TT_PAWSX"], "--tokenizer", e["TT_TOKENIZER"],
               "--langs", e["TT_LANGS"], "--split", e["TT_SPLIT"], "--batch", e["TT_BATCH"], "--warmup", e["TT_WARMUP"],
               "--steps", e["TT_STEPS"]] + common,
    "pytorch": [e["TT_PYTHON"], e["TT_SCRIPT"], "--model-dir", e["TT_MODEL"], "--batches", e["TT_BATCHES"]] + common,
}
procs = {impl: subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
         for impl, cmd in commands.items()}

def read(impl):
    line = procs[impl].stdout.readline()
    if not line:
        sys.exit(f"bench/train_run.sh: the {impl} process ended early (exit {procs[impl].wait()})")
    return json.loads(line)

def step(impl, mode, kind, k):
    procs[impl].stdin.write(f"{mode} {kind} {k}\n")
    procs[impl].stdin.flush()
    r = read(impl)
    if r.get("kind") != "step":
        sys.exit(f"bench/train_run.sh: {impl} answered {r}")
    return r

env = {impl: read(impl) for impl in procs}  # the "ready" lines: threads and libraries
rounds, steps, warmup = int(e["TT_ROUNDS"]), int(e["TT_STEPS"]), int(e["TT_WARMUP"])
for mode in ("padded", "dynamic"):
    for k in range(warmup):
        for impl in procs:
            step(impl, mode, "warmup", k)
rows = []
with open(out_path, "w") as out:
    for rnd in range(1, rounds + 1):
        modes = ("padded", "dynamic") if rnd % 2 else ("dynamic", "padded")
        for mode in modes:
            for k in range(steps):
                order = ("stilts", "pytorch") if (rnd + k) % 2 else ("pytorch", "stilts")  # ABBA
                for impl in order:
                    r = dict(step(impl, mode, "timed", k), round=rnd, first=order[0])
                    rows.append(r)
                    out.write(json.dumps(r) + "\n")
                    out.flush()
        def tps(impl, mode):
            rs = [r for r in rows if (r["round"], r["impl"], r["mode"]) == (rnd, impl, mode)]
            return sum(r["tokens"] for r in rs) / sum(r["seconds"] for r in rs)
        print(f"-- round {rnd}/{rounds}: tokens/s stilts / PyTorch: padded {tps('stilts', 'padded'):.0f} / "
              f"{tps('pytorch', 'padded'):.0f}, dynamic {tps('stilts', 'dynamic'):.0f} / {tps('pytorch', 'dynamic'):.0f}",
              flush=True)
for p in procs.values():
    p.stdin.close()
for impl, p in procs.items():
    if p.wait() != 0:
        sys.exit(f"bench/train_run.sh: {impl} exited with {p.returncode}")

# The table. Per round and side: non-pad tokens / seconds over that round's timed steps.
data = json.load(open(data_path))
def per_round(impl, mode, value):
    return [value([r for r in rows if (r["round"], r["impl"], r["mode"]) == (rnd, impl, mode)])
            for rnd in range(1, rounds + 1)]
tokens_per_s = lambda rs: sum(r["tokens"] for r in rs) / sum(r["seconds"] for r in rs)
s_per_step = lambda rs: sum(r["seconds"] for r in rs) / len(rs)
def spread(v, digits):
    f = lambda x: f"{x:.{digits}f}"
    return f"{f(statistics.median(v))} ({f(min(v))}–{f(max(v))})"
L, E = data["lengths"], data["epoch_padded_length"]
lines = [
    f"Precision {e['TT_PRECISION']}. "
    f"Data: {data['examples']} pairs of {data['data']}, tokenized with {data['tokenizer']} "
    f"(truncated to {data['max_length']}: {data['truncated']} pairs): length mean {L['mean']:.1f}, "
    f"p50 {L['p50']:.0f}, p90 {L['p90']:.0f}, max {L['max']:.0f} tokens. "
    f"Bucketed batches of {data['batch']}: padded length mean {E['mean']:.1f} (p50 {E['p50']:.0f}, p90 {E['p90']:.0f}); "
    f"non-pad share of the tokens computed over the epoch: {data['epoch_fill_dynamic']:.3f} dynamic, "
    f"{data['epoch_fill_padded']:.3f} padded to {data['max_length']}; over the {len(data['timed_padded_lengths'])} timed "
    f"batches (padded lengths {', '.join(str(int(v)) for v in data['timed_padded_lengths'])}): "
    f"{data['timed_fill_dynamic']:.3f} and {data['timed_fill_padded']:.3f}.",
    "",
    "| setting | stilts tokens/s | PyTorch tokens/s | ratio stilts/PyTorch | stilts s/step | PyTorch s/step |",
    "|---|---|---|---|---|---|",
]
medians = {}
warnings = []
for mode, label in (("padded", f"(a) padded to {data['max_length']}"), ("dynamic", "(b) dynamic padding")):
    s, p = per_round("stilts", mode, tokens_per_s), per_round("pytorch", mode, tokens_per_s)
    medians[mode] = (statistics.median(s), statistics.median(p))
    ratios = [a / b for a, b in zip(s, p)]  # paired within each round
    if len(ratios) > 1 and max(ratios) - min(ratios) > float(e["TT_MARGIN"]):
        warnings.append(f"WARNING: {e['TT_PRECISION']} {mode}: the per-round ratios span {min(ratios):.2f}-"
                        f"{max(ratios):.2f}, wider than the margin {e['TT_MARGIN']}: noise exceeds what a goal can "
                        f"be read at; run more rounds or on a quieter machine")
    lines.append(f"| {label} | {spread(s, 0)} | {spread(p, 0)} | "
                 f"**{statistics.median(ratios):.2f}** ({min(ratios):.2f}–{max(ratios):.2f}) | "
                 f"{spread(per_round('stilts', mode, s_per_step), 2)} | {spread(per_round('pytorch', mode, s_per_step), 2)} |")
lines.append(f"| dynamic ÷ padded, tokens/s | {medians['dynamic'][0] / medians['padded'][0]:.2f}× | "
             f"{medians['dynamic'][1] / medians['padded'][1]:.2f}× | | | |")
# Each step beside its twin: the same batch on the other side, run right before or after it.
twins = {}
for r in rows:
    twins.setdefault((r["round"], r["mode"], r["k"]), {})[r["impl"]] = r["seconds"]
step_ratio = {m: statistics.median(t["pytorch"] / t["stilts"] for (_, mode, _), t in twins.items() if mode == m)
              for m in ("padded", "dynamic")}
blank = lambda v: v if v is not None else "unset"
s_env = env["stilts"]
lines += ["", f"{rounds} rounds × {steps} timed steps per mode and side, after {warmup} warm-up step(s) per mode and side; "
              f"cells: median over rounds (min–max), the ratio the median of the per-round ratios. "
              f"Median over the step pairs (same batch, back to back) of PyTorch step time ÷ stilts step time: "
              f"padded {step_ratio['padded']:.2f}, dynamic {step_ratio['dynamic']:.2f}. "
              f"Threads: torch {s_env['torch_threads']} (PyTorch side {env['pytorch']['torch_threads']}), "
              f"OpenBLAS {s_env['openblas_threads']} ({s_env['openblas_core']} kernels, "
              f"OPENBLAS_CORETYPE={blank(s_env['OPENBLAS_CORETYPE'])}, OMP_NUM_THREADS={blank(s_env['OMP_NUM_THREADS'])}); "
              f"libtorch {s_env['torch_version']}, python3-torch {env['pytorch']['torch_version']}."]
table = "\n".join(lines + ([""] + warnings if warnings else []))
open(md_path, "w").write(table + "\n")
print(table)
EOF
echo "   results: $out (every timed step), $data, $work/train_throughput-$precision.md"
done
echo "   load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
