#!/usr/bin/env python3
"""The PyTorch side of bench/forward_latency: the same BERT forward in plain PyTorch.

transformers' BertForSequenceClassification forward (eval mode) written with torch.nn.functional,
reading the model directory forward_latency wrote (config.json + model.safetensors, parsed here with
struct/json and torch.frombuffer). --check compares its outputs with forward_latency --dump's on the
same input (exit 1 beyond the tolerance); then the same timing as the C++ side, one JSON line per
batch size.

  pytorch_forward.py --model-dir DIR [--check FILE] [--batch 1,32] [--seq 128] [--warmup 3,1]
                     [--reps 20,5] [--threads N] [--seed 0] [--no-bench]

Letters: B batch, T tokens, H hidden, N heads, D head dim.
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_bert import CHECK_TOLERANCE, Bert, environment, load_safetensors  # noqa: E402


def int_list(text):
    return [int(v) for v in text.split(",")]


def quantile(values, q):
    """Linear interpolation between closest ranks, as forward_latency.cpp computes it."""
    s = sorted(values)
    pos = q * (len(s) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (pos - lo) * (s[hi] - s[lo])


def check(model, path):
    ref, _ = load_safetensors(path)
    mask = ref["attention_mask"]
    with torch.inference_mode():
        out = model.forward(ref["input_ids"], mask, ref["token_type_ids"])
    keep = mask.bool().unsqueeze(-1).expand_as(out["last_hidden_state"])  # real positions only
    diffs = {
        "last_hidden_state": (out["last_hidden_state"] - ref["last_hidden_state"]).abs().masked_select(keep).max().item(),
        "pooler_output": (out["pooler_output"] - ref["pooler_output"]).abs().max().item(),
        "logits": (out["logits"] - ref["logits"]).abs().max().item(),
    }
    ok = all(d <= CHECK_TOLERANCE for d in diffs.values())
    print(json.dumps({"check": "pass" if ok else "FAIL", "tolerance": CHECK_TOLERANCE,
                      "max_abs_diff": diffs}), file=sys.stderr)
    return ok


def time_forward(model, args, batch, warmup, reps):
    torch.manual_seed(args.seed + 1)
    vocab = model.c["vocab_size"]
    input_ids = torch.randint(1, vocab, (batch, args.seq), dtype=torch.long)  # [B, T]
    attention_mask = torch.ones(batch, args.seq, dtype=torch.long)  # full-length rows
    token_type_ids = torch.zeros(batch, args.seq, dtype=torch.long)
    ms = []
    with torch.inference_mode():
        for _ in range(warmup):
            model.forward(input_ids, attention_mask, token_type_ids)
        for _ in range(reps):
            start = time.perf_counter()
            model.forward(input_ids, attention_mask, token_type_ids)
            ms.append((time.perf_counter() - start) * 1000.0)
    return {
        "impl": "pytorch",
        "model": "bert-base (BertForSequenceClassification, random weights)",
        "batch": batch, "seq": args.seq, "warmup": warmup, "reps": reps,
        "p50_ms": round(quantile(ms, 0.5), 3), "p90_ms": round(quantile(ms, 0.9), 3),
        "mean_ms": round(sum(ms) / len(ms), 3), "min_ms": round(min(ms), 3), "max_ms": round(max(ms), 3),
        **environment(),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--check", help="forward_latency --dump output to compare with")
    ap.add_argument("--batch", type=int_list, default=[1, 32])
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--warmup", type=int_list, default=[3, 1])
    ap.add_argument("--reps", type=int_list, default=[20, 5])
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: leave the default)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-bench", action="store_true")
    args = ap.parse_args()
    for name in ("warmup", "reps"):
        values = getattr(args, name)
        if len(values) == 1:
            setattr(args, name, values * len(args.batch))
        elif len(values) != len(args.batch):
            ap.error("--warmup / --reps need one value or one per batch size")

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    with open(os.path.join(args.model_dir, "config.json")) as f:
        config = json.load(f)
    model = Bert(config, load_safetensors(os.path.join(args.model_dir, "model.safetensors"))[0])
    if args.check and not check(model, args.check):
        return 1
    if args.no_bench:
        return 0
    for batch, warmup, reps in zip(args.batch, args.warmup, args.reps):
        print(json.dumps(time_forward(model, args, batch, warmup, reps)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
