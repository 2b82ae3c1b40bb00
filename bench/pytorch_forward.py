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
import ctypes
import json
import math
import os
import struct
import sys
import time

import torch
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64,
          "I64": torch.int64, "I32": torch.int32, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}
CHECK_TOLERANCE = 1e-4  # same ops on the same libraries: differences are summation-order noise


def load_safetensors(path):
    """{name: tensor} from a safetensors file: 8-byte little-endian header length, JSON header, data."""
    with open(path, "rb") as f:
        data = bytearray(f.read())
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_len])
    start = 8 + header_len
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        count = (end - begin) // torch.empty((), dtype=dtype).element_size()
        t = torch.frombuffer(data, dtype=dtype, count=count, offset=start + begin) if count else torch.empty(0, dtype=dtype)
        tensors[name] = t.reshape(info["shape"])
    return tensors


def activation(x, name):
    if name == "gelu":
        return F.gelu(x)
    if name in ("gelu_new", "gelu_pytorch_tanh"):
        return F.gelu(x, approximate="tanh")
    if name == "relu":
        return F.relu(x)
    if name in ("silu", "swish"):
        return F.silu(x)
    if name == "tanh":
        return torch.tanh(x)
    raise ValueError(f"hidden_act {name!r} is not supported")


class Bert:
    """BertForSequenceClassification.forward in eval mode (dropout is the identity)."""

    def __init__(self, config, weights):
        self.c = config
        self.w = weights
        self.num_heads = config["num_attention_heads"]
        self.eps = config.get("layer_norm_eps", 1e-12)
        self.act = config.get("hidden_act", "gelu")
        self.num_layers = config["num_hidden_layers"]

    def linear(self, x, name):
        return F.linear(x, self.w[name + ".weight"], self.w[name + ".bias"])

    def layer_norm(self, x, name):
        return F.layer_norm(x, (x.shape[-1],), self.w[name + ".weight"], self.w[name + ".bias"], self.eps)

    def forward(self, input_ids, attention_mask, token_type_ids):
        w = self.w
        B, T = input_ids.shape
        e = "bert.embeddings."
        position_ids = torch.arange(T, dtype=torch.long).unsqueeze(0)  # [1, T]
        x = F.embedding(input_ids, w[e + "word_embeddings.weight"])  # [B, T, H]
        x = x + F.embedding(token_type_ids, w[e + "token_type_embeddings.weight"])
        x = x + F.embedding(position_ids, w[e + "position_embeddings.weight"])
        hidden = self.layer_norm(x, e + "LayerNorm")
        H = hidden.shape[-1]
        D = H // self.num_heads
        mask = (1.0 - attention_mask.to(hidden.dtype)) * torch.finfo(hidden.dtype).min
        mask = mask[:, None, None, :]  # [B, 1, 1, T]

        def heads(t):  # [B, T, H] -> [B, N, T, D]
            return t.view(B, T, self.num_heads, D).transpose(1, 2)

        for i in range(self.num_layers):
            p = f"bert.encoder.layer.{i}."
            q = heads(self.linear(hidden, p + "attention.self.query"))
            k = heads(self.linear(hidden, p + "attention.self.key"))
            v = heads(self.linear(hidden, p + "attention.self.value"))
            scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(D)  # [B, N, T, T]
            scores = scores + mask
            probs = torch.softmax(scores, dim=-1)
            context = torch.matmul(probs, v).transpose(1, 2).reshape(B, T, H)  # [B, T, H]
            attended = self.layer_norm(self.linear(context, p + "attention.output.dense") + hidden,
                                       p + "attention.output.LayerNorm")
            inner = activation(self.linear(attended, p + "intermediate.dense"), self.act)  # [B, T, I]
            hidden = self.layer_norm(self.linear(inner, p + "output.dense") + attended, p + "output.LayerNorm")
        pooled = torch.tanh(self.linear(hidden[:, 0], "bert.pooler.dense"))  # [B, H]
        logits = self.linear(pooled, "classifier")  # [B, C]
        return {"last_hidden_state": hidden, "pooler_output": pooled, "logits": logits}


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
    ref = load_safetensors(path)
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


def openblas_info():
    """(threads, kernel set) of the OpenBLAS torch loaded, or (None, None) when the BLAS is another.

    fp32 matrix products run in OpenBLAS's own thread pool, outside torch.set_num_threads, with the
    kernels it picked for the CPU (OPENBLAS_CORETYPE overrides the pick)."""
    with open("/proc/self/maps") as f:
        paths = sorted({line.split()[-1] for line in f if "libopenblas" in line})
    for path in paths:
        try:
            lib = ctypes.CDLL(path)  # already loaded: the same handle
            lib.openblas_get_corename.restype = ctypes.c_char_p
            return lib.openblas_get_num_threads(), lib.openblas_get_corename().decode()
        except (OSError, AttributeError):
            continue
    return None, None


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
    openblas_threads, openblas_core = openblas_info()
    return {
        "impl": "pytorch",
        "model": "bert-base (BertForSequenceClassification, random weights)",
        "batch": batch, "seq": args.seq, "warmup": warmup, "reps": reps,
        "p50_ms": round(quantile(ms, 0.5), 3), "p90_ms": round(quantile(ms, 0.9), 3),
        "mean_ms": round(sum(ms) / len(ms), 3), "min_ms": round(min(ms), 3), "max_ms": round(max(ms), 3),
        "torch_threads": torch.get_num_threads(), "interop_threads": torch.get_num_interop_threads(),
        "openblas_threads": openblas_threads, "openblas_core": openblas_core,
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "torch_version": torch.__version__,
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
    model = Bert(config, load_safetensors(os.path.join(args.model_dir, "model.safetensors")))
    if args.check and not check(model, args.check):
        return 1
    if args.no_bench:
        return 0
    for batch, warmup, reps in zip(args.batch, args.warmup, args.reps):
        print(json.dumps(time_forward(model, args, batch, warmup, reps)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
