#!/usr/bin/env bash
# make demo. The full study (intermediate-task vs direct fine-tuning on the built-in synthetic
# testbed) lands with the experiments and testbed issues; until then this runs the most end-to-end
# path that exists, on a tiny BERT checkpoint made by transformers (tests/data/hf-golden/bert) with
# a vocabulary written here: text -> tokenizer -> encoder -> logits, then fine-tuning on a small
# generated paraphrase task in PAWS-X's file layout and evaluation.
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
stilts="$here/$build/stilts"
work="$here/$build/demo"
rm -rf "$work" && mkdir -p "$work/model"

echo "== stilts demo (foundation only: the full intermediate-vs-direct study is not built yet) =="
cp "$here/tests/data/hf-golden/bert/config.json" "$here/tests/data/hf-golden/bert/model.safetensors" "$work/model/"
# The checkpoint has 120 ids: [PAD] [UNK] [CLS] [SEP] [MASK] then 115 word pieces.
python3 - "$work/model/vocab.txt" <<'PY'
import sys
words = ("the a an is was were be to of and in on at for with by from as that this it he she they we "
         "you his her their its born moved city river team film song album game player club school "
         "university state county village town country world war year years new old first second "
         "last same other many most more also later after before during between into over under "
         "paris london berlin tokyo seoul madrid beijing english german french spanish japanese "
         "korean chinese . , ' \" ( ) - ##s ##ed ##ing ##er ##ly ##al john mary ted bob son daughter "
         "brother sister father mother wife husband married died lived worked played wrote").split()
vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words
vocab = (vocab + [f"[unused{i}]" for i in range(200)])[:120]
open(sys.argv[1], "w").write("\n".join(vocab) + "\n")
PY

echo
echo "-- stilts inspect: what the checkpoint holds"
"$stilts" inspect "$work/model"

echo
echo "-- stilts tokenize: a paraphrase pair and a single sentence, padded to the longest"
printf '%s\n' \
  '{"text": "Bob and Ted were brothers. Ted is John'"'"'s son.", "text_pair": "Ted is John'"'"'s son, and Bob and Ted were brothers."}' \
  '{"text": "Mary moved to Paris in the same year."}' |
  "$stilts" tokenize "$work/model" --padding longest | tee "$work/tokens.jsonl"

echo
echo "-- stilts forward: the encoder and its classification head on those ids"
python3 - "$work/tokens.jsonl" "$work/inputs.json" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
json.dump({k: [r[k] for r in rows] for k in ("input_ids", "attention_mask", "token_type_ids")}, open(sys.argv[2], "w"))
PY
"$stilts" forward "$work/model" --input "$work/inputs.json" --output "$work/out.safetensors"
python3 - "$work/out.safetensors" <<'PY'
import json, struct, sys
f = open(sys.argv[1], "rb"); n = struct.unpack("<Q", f.read(8))[0]; header = json.loads(f.read(n)); data = f.read()
info = header["logits"]; b, e = info["data_offsets"]
vals = struct.unpack("<%df" % ((e - b) // 4), data[b:e]); rows, cols = info["shape"]
for r in range(rows):
    print("row %d logits: %s" % (r, " ".join("%+.4f" % vals[r * cols + c] for c in range(cols))))
PY
echo "(random tiny weights: these logits mean nothing yet)"

echo
echo "-- stilts train: fine-tune on a generated paraphrase task written in PAWS-X's layout"
python3 - "$work/data" <<'PY'
import os, random, sys
root = sys.argv[1]
rng = random.Random(7)
names = "john mary ted bob".split()
verbs = "married played wrote lived".split()
places = "paris london berlin tokyo seoul madrid beijing".split()
def example(i):
    a, b = rng.sample(names, 2); v = rng.choice(verbs); p = rng.choice(places)
    s1 = f"{a} {v} with {b} in {p} ."
    if rng.random() < 0.5:   # a paraphrase: same roles, other word order
        return s1, f"in {p} , {a} {v} with {b} .", 1
    # a non-paraphrase: the same sentence shape, another place
    return s1, f"in {rng.choice([q for q in places if q != p])} , {a} {v} with {b} .", 0
for lang, split, n in (("en", "train.tsv", 600), ("en", "dev_2k.tsv", 200)):
    os.makedirs(f"{root}/{lang}", exist_ok=True)
    with open(f"{root}/{lang}/{split}", "w") as f:
        f.write("id\tsentence1\tsentence2\tlabel\n")
        for i in range(n):
            s1, s2, y = example(i)
            f.write(f"{i}\t{s1}\t{s2}\t{y}\n")
PY
"$stilts" train --model "$work/model" --task pair-classification --format pawsx \
  --train "$work/data/en/train.tsv" --dev "$work/data/en/dev_2k.tsv" --out "$work/run" \
  --epochs 15 --batch-size 16 --lr 3e-3 --warmup-ratio 0.1 --seed 1 \
  --set cache_dir="$work/cache"

echo
echo "-- stilts eval: the fine-tuned model on the dev set, with a bootstrap interval"
"$stilts" eval --model "$work/run" --data "$work/data/en/dev_2k.tsv" --format pawsx

echo
echo "The intermediate-vs-direct study itself comes with the experiments issue. Next: make test."
