#!/usr/bin/env python3
"""The PyTorch side of bench/stilts_vs_pytorch.sh: bench/torch_bert.py's BERT forward (transformers'
BertForSequenceClassification, eval mode) in the modes of `stilts bench`, on the same weights, inputs
and threads, timed the same way. One JSON line per batch size.

  pytorch_modes.py --model-dir DIR [--mode fp32|bf16|int8] [--batch 1,32] [--seq 128] [--warmup 2]
                   [--reps 10] [--threads N]

Modes, as stilts bench runs them:
  fp32  as loaded.
  bf16  torch.autocast("cpu", dtype=torch.bfloat16) around each forward.
  int8  every nn.Linear weight of the encoder and pooler quantized per tensor (symmetric qint8, as
        quantize_dynamic's default) and run by quantized::linear_dynamic (the classifier stays fp32).
Inputs: random ids in [0, vocab - 1) shifted past the pad id, full rows, token types 0 (the same
distribution as stilts' grid; the values do not change the work).
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_forward import int_list, quantile  # noqa: E402
from torch_bert import Bert, environment, load_safetensors  # noqa: E402


class Int8Bert(Bert):
    """Bert with the linear layers of the encoder and pooler run as dynamic int8 (quantized::linear_dynamic)."""

    def __init__(self, config, weights):
        super().__init__(config, weights)
        engines = torch.backends.quantized.supported_engines
        engine = next((e for e in ("onednn", "fbgemm", "qnnpack") if e in engines), None)
        if engine is None:
            raise SystemExit("pytorch_modes.py: this torch has no quantized engine; int8 is unavailable")
        torch.backends.quantized.engine = engine
        self.packed = {}
        for name in weights:
            if not name.endswith(".weight") or name.startswith("classifier") or weights[name].dim() != 2:
                continue
            if "embeddings" in name:
                continue
            base = name[: -len(".weight")]
            w = weights[name].float().contiguous()
            scale = max(w.abs().max().item() / 127.5, 1e-12)
            qw = torch.quantize_per_tensor(w, scale, 0, torch.qint8)
            self.packed[base] = torch.ops.quantized.linear_prepack(qw, weights[base + ".bias"].float())

    def linear(self, x, name):
        packed = self.packed.get(name)
        if packed is None:
            return super().linear(x, name)
        return torch.ops.quantized.linear_dynamic(x.contiguous(), packed, False)


def time_mode(model, args, batch):
    g = torch.Generator().manual_seed(batch * 1000 + args.seq)
    vocab = model.c["vocab_size"]
    pad = model.c.get("pad_token_id", 0)
    ids = torch.randint(0, vocab - 1, (batch, args.seq), dtype=torch.long, generator=g)
    ids = ids + (ids >= pad).long()
    mask = torch.ones(batch, args.seq, dtype=torch.long)
    types = torch.zeros(batch, args.seq, dtype=torch.long)

    def forward():
        if args.mode == "bf16":
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return model.forward(ids, mask, types)
        return model.forward(ids, mask, types)

    ms = []
    with torch.inference_mode():
        for _ in range(args.warmup):
            forward()
        for _ in range(args.reps):
            start = time.perf_counter()
            forward()
            ms.append((time.perf_counter() - start) * 1000.0)
    return {"impl": "pytorch", "mode": args.mode, "batch": batch, "seq": args.seq, "warmup": args.warmup,
            "reps": args.reps, "p50_ms": round(quantile(ms, 0.5), 3), "p90_ms": round(quantile(ms, 0.9), 3),
            "mean_ms": round(sum(ms) / len(ms), 3), "samples_ms": [round(v, 3) for v in ms], **environment()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--mode", choices=("fp32", "bf16", "int8"), default="fp32")
    ap.add_argument("--batch", type=int_list, default=[1, 32])
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: leave the default)")
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    with open(os.path.join(args.model_dir, "config.json")) as f:
        config = json.load(f)
    weights = load_safetensors(os.path.join(args.model_dir, "model.safetensors"))[0]
    model = Int8Bert(config, weights) if args.mode == "int8" else Bert(config, weights)
    for batch in args.batch:
        print(json.dumps(time_mode(model, args, batch)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
