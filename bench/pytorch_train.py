#!/usr/bin/env python3
"""The PyTorch side of bench/train_throughput: the same fine-tuning steps in plain PyTorch.

transformers' BertForSequenceClassification (train mode: dropout where transformers has it) written
with torch.nn.functional over nn.Parameters read from the model directory train_throughput wrote
(config.json + model.safetensors, parsed here with struct/json and torch.frombuffer), and the batches
it wrote with --write-batches (the same rows, lengths and padding). A step is what transformers'
Trainer does: zero_grad, forward, cross-entropy, backward, clip_grad_norm_(1.0), torch.optim.AdamW
step (weight decay 0.01 except biases and LayerNorm weights), LambdaLR linear schedule step.
--precision bf16 runs the forward and the loss under torch.autocast("cpu", torch.bfloat16), as
transformers' Trainer does with bf16=True (the backward outside it).

  pytorch_train.py --model-dir DIR --batches FILE [--modes padded,dynamic] [--precision fp32|bf16]
                   [--threads 1] [--seed 0] [--check-loss X] [--no-bench | --serve]

--check-loss: the eval-mode loss train_throughput --no-bench printed for the batch dynamic.timed.0;
exit 1 when this side's differs by more than the tolerance. One JSON line per mode, as the C++ side;
--serve: steps on request, one line "<mode> <warmup|timed> <k>" on stdin, one JSON line back.

Letters: B batch, T tokens, H hidden, N heads, D head dim, C classes.
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_bert  # noqa: E402
from torch_bert import CHECK_TOLERANCE, environment, load_safetensors  # noqa: E402


class Bert(torch_bert.Bert):
    """torch_bert.Bert over nn.Parameters, in train mode (dropout on) unless .training is set False;
    forward returns the logits [B, C]."""

    def __init__(self, config, weights):
        super().__init__(config, {name: torch.nn.Parameter(t) for name, t in weights.items()}, training=True)

    def parameter_groups(self, weight_decay):
        """transformers' Trainer rule: no decay for biases and LayerNorm weights."""
        decay = [p for n, p in self.w.items() if "bias" not in n and "LayerNorm." not in n]
        no_decay = [p for n, p in self.w.items() if "bias" in n or "LayerNorm." in n]
        return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]

    def forward(self, input_ids, attention_mask, token_type_ids):
        return super().forward(input_ids, attention_mask, token_type_ids)["logits"]  # [B, C]


def batches_of(tensors, mode, kind, count):
    """[(input_ids, attention_mask, token_type_ids, labels)] of `mode`.`kind`.k for k < count."""
    out = []
    for k in range(count):
        name = f"{mode}.{kind}.{k}."
        out.append(tuple(tensors[name + part] for part in ("input_ids", "attention_mask", "token_type_ids", "labels")))
    return out


class Trainer:
    def __init__(self, model, total_steps, precision="fp32", lr=2e-5, weight_decay=0.01):
        self.model = model
        self.bf16 = precision == "bf16"
        self.params = list(model.w.values())
        self.optimizer = torch.optim.AdamW(model.parameter_groups(weight_decay), lr=lr, betas=(0.9, 0.999), eps=1e-8)
        # get_linear_schedule_with_warmup with 0 warm-up steps
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda step: max(0.0, (total_steps - step) / max(1, total_steps)))
        self.last_loss = 0.0

    def run(self, batch):
        input_ids, attention_mask, token_type_ids, labels = batch
        self.optimizer.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            logits = self.model.forward(input_ids, attention_mask, token_type_ids)  # [B, C]
            loss = F.cross_entropy(logits.float(), labels)
        self.last_loss = loss.item()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, 1.0)
        self.optimizer.step()
        self.scheduler.step()
        return int(attention_mask.sum())


def timed_step(trainer, batch):
    """(seconds, non-pad tokens, B × T) of one step."""
    start = time.perf_counter()
    tokens = trainer.run(batch)
    return time.perf_counter() - start, tokens, batch[0].numel()


def time_mode(trainer, tensors, meta, mode, batch_size):
    """All of a mode's steps in this process: warm-up, then the timed batches."""
    warmup, steps = int(meta["warmup"]), int(meta["steps"])
    for batch in batches_of(tensors, mode, "warmup", warmup):
        trainer.run(batch)
    seconds, tokens, computed = [], 0, 0
    for batch in batches_of(tensors, mode, "timed", steps):
        s, n, c = timed_step(trainer, batch)
        seconds.append(s)
        tokens += n
        computed += c
    total = sum(seconds)
    return {
        "kind": "steps", "impl": "pytorch", "mode": mode,
        "model": "bert-base (BertForSequenceClassification, 2 labels), train mode",
        "precision": "bf16" if trainer.bf16 else "fp32",
        "batch": batch_size, "warmup": warmup, "steps": steps, "tokens": tokens, "computed_tokens": computed,
        "seconds": round(total, 3), "tokens_per_s": round(tokens / total, 3), "s_per_step": round(total / steps, 3),
        "step_s": [round(s, 3) for s in seconds], "last_loss": round(trainer.last_loss, 3),
        **environment(),
    }


def serve(trainer, tensors, meta, batch_size):
    """One step per line of stdin, "<mode> <warmup|timed> <k>", one JSON line per step on stdout, until
    end of input (bench/train_run.sh drives this and train_throughput --serve in lockstep)."""
    print(json.dumps({"kind": "ready", "impl": "pytorch", "batch": batch_size,
                      "precision": "bf16" if trainer.bf16 else "fp32", **environment()}), flush=True)
    for line in sys.stdin:
        parts = line.split()
        try:
            mode, kind, k = parts[0], parts[1], int(parts[2])
            if mode not in ("padded", "dynamic") or kind not in ("warmup", "timed") or not 0 <= k < int(
                    meta["warmup" if kind == "warmup" else "steps"]):
                raise ValueError(line)
        except (IndexError, ValueError):
            print(json.dumps({"kind": "error", "line": line.rstrip("\n")}), flush=True)
            continue
        s, n, c = timed_step(trainer, batches_of(tensors, mode, kind, k + 1)[k])
        print(json.dumps({"kind": "step", "impl": "pytorch", "mode": mode, "batch_kind": kind, "k": k,
                          "seconds": s, "tokens": n, "computed_tokens": c, "loss": trainer.last_loss}), flush=True)


def check(model, tensors, expected):
    input_ids, attention_mask, token_type_ids, labels = batches_of(tensors, "dynamic", "timed", 1)[0]
    model.training = False
    with torch.no_grad():
        loss = F.cross_entropy(model.forward(input_ids, attention_mask, token_type_ids).float(), labels).item()
    model.training = True
    ok = abs(loss - expected) <= CHECK_TOLERANCE
    print(json.dumps({"check": "pass" if ok else "FAIL", "batch": "dynamic.timed.0", "eval_loss": loss,
                      "stilts_eval_loss": expected, "tolerance": CHECK_TOLERANCE}), file=sys.stderr)
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--batches", required=True, help="train_throughput --write-batches output")
    ap.add_argument("--modes", default="padded,dynamic")
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (0: leave the default)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--check-loss", type=float)
    ap.add_argument("--no-bench", action="store_true")
    ap.add_argument("--serve", action="store_true", help="steps on request from stdin (see serve())")
    args = ap.parse_args()

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    with open(os.path.join(args.model_dir, "config.json")) as f:
        config = json.load(f)
    weights, _ = load_safetensors(os.path.join(args.model_dir, "model.safetensors"), copy=True)
    model = Bert(config, weights)
    tensors, meta = load_safetensors(args.batches)
    if args.check_loss is not None and not check(model, tensors, args.check_loss):
        return 1
    if args.no_bench:
        return 0
    modes = [m for m in args.modes.split(",") if m]
    batch_size = batches_of(tensors, modes[0], "timed", 1)[0][0].shape[0]
    torch.manual_seed(args.seed)  # dropout
    steps_per_mode = int(meta["warmup"]) + int(meta["steps"])
    if args.serve:  # open-ended: the learning rate does not matter for speed
        serve(Trainer(model, total_steps=1000000, precision=args.precision), tensors, meta, batch_size)
        return 0
    trainer = Trainer(model, total_steps=len(modes) * steps_per_mode, precision=args.precision)
    for mode in modes:
        print(json.dumps(time_mode(trainer, tensors, meta, mode, batch_size)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
