#!/usr/bin/env bash
# make demo. The full study (intermediate-task vs direct fine-tuning on the built-in synthetic
# testbed) lands with the experiments issue; until then this runs the most end-to-end path that
# exists: text -> tokenizer -> encoder -> logits, on a tiny BERT checkpoint made by transformers
# (tests/data/hf-golden/bert) with a vocabulary written here.
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
echo
echo "Random tiny weights, so the logits mean nothing; the path is the point. Next: make test."
