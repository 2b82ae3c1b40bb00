#!/usr/bin/env bash
# Data-parallel training throughput: stilts train at 1 rank and at N ranks (stilts launch) on one
# machine, the same global batch and steps, and the share of a step rank 0 spends in all-reduce (the
# "data-parallel:" line stilts train logs). A benchmark, not a test.
#
#   bash bench/ddp_run.sh [BUILD_DIR]        (default build)
#
# Environment knobs (defaults in brackets):
#   RANKS [2]  STEPS [30]  BATCH [32]  MAXLEN [128]  ROUNDS [2] (1-rank and N-rank runs alternate)
#   HIDDEN [256]  LAYERS [4]  HEADS [4]  FFN [1024]   the BERT shape (random weights)
#   PAWSX [/work/shared/fixtures/data/pawsx/en/dev_2k.tsv]  TOKENIZER [/work/shared/fixtures/tokenize/wordpiece-cased]
# The 1-rank run keeps the environment as it is (torch threads 1, OpenBLAS's own pool); stilts launch
# gives each rank OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=1 unless set.
# Writes BUILD_DIR/bench-work/ddp/: the model, runs/, and ddp.md (the table).
set -euo pipefail

build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
[[ $build = /* ]] || build="$root/$build"
stilts="$build/stilts"
work="$build/bench-work/ddp"
RANKS=${RANKS:-2} STEPS=${STEPS:-30} BATCH=${BATCH:-32} MAXLEN=${MAXLEN:-128} ROUNDS=${ROUNDS:-2}
HIDDEN=${HIDDEN:-256} LAYERS=${LAYERS:-4} HEADS=${HEADS:-4} FFN=${FFN:-1024}
PAWSX=${PAWSX:-/work/shared/fixtures/data/pawsx/en/dev_2k.tsv}
TOKENIZER=${TOKENIZER:-/work/shared/fixtures/tokenize/wordpiece-cased}
[[ -f $PAWSX ]] || { echo "ddp_run: no $PAWSX (set PAWSX to a PAWS-X tsv)"; exit 1; }

mkdir -p "$work"
model="$work/model-h$HIDDEN-l$LAYERS"
if [[ ! -f $model/model.safetensors ]]; then
  # A random BERT of this shape: config + tokenizer, weights from one scratch masked-LM step.
  scratch="$work/scratch"
  rm -rf "$scratch" "$model"
  mkdir -p "$scratch"
  cp "$TOKENIZER"/vocab.txt "$TOKENIZER"/tokenizer_config.json "$TOKENIZER"/special_tokens_map.json "$scratch"/
  vocab=$(wc -l <"$scratch/vocab.txt")
  cat >"$scratch/config.json" <<EOF
{"model_type": "bert", "vocab_size": $vocab, "hidden_size": $HIDDEN, "num_hidden_layers": $LAYERS,
 "num_attention_heads": $HEADS, "intermediate_size": $FFN, "max_position_embeddings": 512,
 "type_vocab_size": 2, "pad_token_id": 0}
EOF
  awk -F'\t' 'NR > 1 && NR <= 65 {print $2}' "$PAWSX" >"$work/text.txt"
  "$stilts" pretrain --model "$scratch" --init scratch --train "$work/text.txt" --out "$model" --max-steps 1 \
    --batch-size 8 --set "cache_dir=$work/cache" >/dev/null 2>&1
fi

args=(train --model "$model" --task pair-classification --format pawsx --train "$PAWSX" --max-steps "$STEPS"
  --batch-size "$BATCH" --max-length "$MAXLEN" --eval-every 100000 --checkpoint-every 100000 --lr 1e-4
  --final-model last --set "cache_dir=$work/cache")
table="$work/ddp.md"
echo "| ranks | round | steps | tokens | wall s | tokens/s | all-reduce share (rank 0) |" >"$table"
echo "|---|---|---|---|---|---|---|" >>"$table"
run() {  # ranks round
  local out="$work/runs/r$1-$2"
  rm -rf "$out"
  local log="$work/runs/r$1-$2.log"
  mkdir -p "$work/runs"
  if [[ $1 == 1 ]]; then
    "$stilts" "${args[@]}" --out "$out" >"$log" 2>&1
  else
    "$stilts" launch --nproc "$1" -- "$stilts" "${args[@]}" --out "$out" >"$log" 2>&1
  fi
  python3 - "$out/metrics.json" "$log" "$1" "$2" >>"$table" <<'EOF'
import json, re, sys
m = json.load(open(sys.argv[1]))
c = m["cost"]
share = ""
for line in open(sys.argv[2]):
    g = re.search(r"all-reduce ([0-9.]+) s of ([0-9.]+) s", line)
    if g: share = f"{100 * float(g.group(1)) / float(g.group(2)):.1f}%"
print(f"| {sys.argv[3]} | {sys.argv[4]} | {m['steps']} | {c['tokens']} | {c['wall_s']:.1f} | {c['tokens'] / c['wall_s']:.0f} | {share or 'n/a'} |")
EOF
}
for round in $(seq 1 "$ROUNDS"); do
  if ((round % 2)); then run 1 "$round"; run "$RANKS" "$round"; else run "$RANKS" "$round"; run 1 "$round"; fi
done
{
  echo
  echo "model: BERT h$HIDDEN l$LAYERS heads $HEADS ffn $FFN; batch $BATCH (global), max length $MAXLEN, $STEPS steps, fp32"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
  echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
} >>"$table"
cat "$table"
