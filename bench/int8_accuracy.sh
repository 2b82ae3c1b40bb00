#!/usr/bin/env bash
# What int8 costs in accuracy: one fine-tuned classifier evaluated on a real dev set with
# `stilts eval --precision fp32` and `--precision int8` (the nn::Linear layers dynamically quantized,
# as PyTorch's quantize_dynamic), compared example by example: both accuracies, their difference with
# a paired bootstrap interval, the examples whose prediction changed and the largest probability
# change. Speed is stilts bench's to measure (bench/stilts_vs_pytorch.sh): this is about accuracy only.
# Builds nothing (ninja -C BUILD_DIR stilts first).
#
#   bash bench/int8_accuracy.sh [BUILD_DIR]        (default build)
#
# Environment knobs (defaults in brackets):
#   MODEL        a fine-tuned classifier directory (HF layout) to compare; unset: the script makes one
#                (below) in BUILD_DIR/bench-work/int8-accuracy/
#   DATA [/work/shared/fixtures/data/sst2/test.tsv]  FORMAT [glue-sst2]  TASK [classification]
#                the dev set (SST-2's GLUE dev, 872 sentences, is the fixtures' test.tsv)
#   TRAIN [/work/shared/fixtures/data/sst2/train.tsv]  the training set when the script makes the model
#   STEPS [1500]  BATCH [32]  LR [5e-4]  MAX_LENGTH [64]  SEED [1]  when it makes the model
#   RESAMPLES [2000]  paired bootstrap resamples of the accuracy difference
#
# No pretrained weights can be had here, so the model it makes is a small BERT (4 layers, hidden 256,
# 4 heads, intermediate 1024; bert-base-uncased's 30522-word vocabulary) initialised from scratch
# (`stilts pretrain --init scratch`, one step) and fine-tuned on SST-2's training set. Pass MODEL to
# measure a real fine-tuned checkpoint instead.
set -euo pipefail

build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
[[ $build = /* ]] || build="$root/$build"
stilts="$build/stilts"
work="$build/bench-work/int8-accuracy"

DATA=${DATA:-/work/shared/fixtures/data/sst2/test.tsv}
FORMAT=${FORMAT:-glue-sst2}
TASK=${TASK:-classification}
TRAIN=${TRAIN:-/work/shared/fixtures/data/sst2/train.tsv}
TOKENIZER=${TOKENIZER:-/work/shared/fixtures/tokenize/wordpiece-uncased}
STEPS=${STEPS:-1500}
BATCH=${BATCH:-32}
LR=${LR:-5e-4}
MAX_LENGTH=${MAX_LENGTH:-64}
SEED=${SEED:-1}
RESAMPLES=${RESAMPLES:-2000}

if [[ ! -x $stilts ]]; then
  echo "bench/int8_accuracy.sh: $stilts is missing: build it first (ninja -C $build stilts)" >&2
  exit 1
fi
if [[ ! -f $DATA ]]; then
  echo "bench/int8_accuracy.sh: the dev set $DATA is absent: nothing measured" >&2
  exit 0
fi
mkdir -p "$work"

model=${MODEL:-}
if [[ -z $model ]]; then
  if [[ ! -f $TRAIN || ! -f $TOKENIZER/vocab.txt ]]; then
    echo "bench/int8_accuracy.sh: the training set ($TRAIN) or the tokenizer ($TOKENIZER) is absent: nothing measured" >&2
    exit 0
  fi
  model="$work/sst2-small-bert"
  if [[ ! -f $model/model.safetensors ]]; then
    base="$work/base"
    mkdir -p "$base"
    cp "$TOKENIZER"/{vocab.txt,tokenizer_config.json,special_tokens_map.json} "$base/"
    cat >"$base/config.json" <<'JSON'
{"model_type": "bert", "architectures": ["BertForMaskedLM"], "vocab_size": 30522, "hidden_size": 256,
 "num_hidden_layers": 4, "num_attention_heads": 4, "intermediate_size": 1024, "hidden_act": "gelu",
 "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 512,
 "type_vocab_size": 2, "initializer_range": 0.02, "layer_norm_eps": 1e-12, "pad_token_id": 0}
JSON
    awk -F'\t' 'NR > 1 && NR <= 2001 { print $1 }' "$TRAIN" >"$work/text.txt"
    echo "== making the model: a small BERT from scratch, fine-tuned on $TRAIN for $STEPS steps"
    "$stilts" pretrain --model "$base" --init scratch --train "$work/text.txt" --out "$work/scratch" \
      --max-steps 1 --batch-size 8 --max-length "$MAX_LENGTH" --seed "$SEED" >"$work/pretrain.log" 2>&1
    "$stilts" train --model "$work/scratch" --task "$TASK" --format "$FORMAT" --train "$TRAIN" --dev "$DATA" \
      --out "$model" --max-steps "$STEPS" --batch-size "$BATCH" --lr "$LR" --max-length "$MAX_LENGTH" \
      --seed "$SEED" --eval-every 500 --final-model last --set warmup_ratio=0.06 >"$work/train.log" 2>&1
  fi
fi

cpu=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
echo "== int8 vs fp32 accuracy: $model on $DATA ($FORMAT)"
echo "   machine: $cpu, $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ)"
for precision in fp32 int8; do
  "$stilts" eval --model "$model" --data "$DATA" --format "$FORMAT" --task "$TASK" --max-length "$MAX_LENGTH" \
    --precision "$precision" --json --outputs "$work/$precision.jsonl" >"$work/$precision.json"
done

python3 - "$work" "$RESAMPLES" "$model" "$DATA" <<'EOF'
# Example by example: accuracy of each precision, the paired bootstrap interval of the difference
# (resampling examples, seed 0), and the examples whose prediction int8 changed.
import json, random, sys
work, resamples, model, data = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
rows = {p: [json.loads(l) for l in open(f"{work}/{p}.jsonl")] for p in ("fp32", "int8")}
n = len(rows["fp32"])
assert n == len(rows["int8"]) and n > 0
right = {p: [r["prediction"] == r["gold"] for r in rows[p]] for p in rows}
acc = {p: sum(right[p]) / n for p in rows}
changed = sum(a["prediction"] != b["prediction"] for a, b in zip(rows["fp32"], rows["int8"]))
prob_diff = max(abs(x - y) for a, b in zip(rows["fp32"], rows["int8"])
                for x, y in zip(a["probabilities"], b["probabilities"]))
rng = random.Random(0)
diffs = []
for _ in range(resamples):
    idx = [rng.randrange(n) for _ in range(n)]
    diffs.append(sum(right["int8"][i] - right["fp32"][i] for i in idx) / n)
diffs.sort()
lo, hi = diffs[int(0.025 * resamples)], diffs[int(0.975 * resamples) - 1]
lines = [
    f"Model {model}; dev set {data} ({n} examples).",
    "",
    "| precision | accuracy |",
    "|---|---|",
    f"| fp32 | {acc['fp32']:.4f} |",
    f"| int8 | {acc['int8']:.4f} |",
    "",
    f"int8 − fp32 accuracy: {acc['int8'] - acc['fp32']:+.4f} (95% paired bootstrap interval {lo:+.4f} to {hi:+.4f}, "
    f"{resamples} resamples); predictions changed: {changed} of {n}; largest probability difference {prob_diff:.4f}.",
]
table = "\n".join(lines)
open(f"{work}/int8_accuracy.md", "w").write(table + "\n")
print(table)
EOF
echo "   results: $work/{fp32,int8}.jsonl (per example), $work/int8_accuracy.md (the table)"
