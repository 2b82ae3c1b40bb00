"""What bench/pytorch_forward.py and bench/pytorch_train.py share: a safetensors reader, the OpenBLAS /
thread settings recorded with every JSON line, and transformers' BertForSequenceClassification forward
written with torch.nn.functional (dropout where transformers has it; the identity in eval mode).

Letters: B batch, T tokens, H hidden, N heads, D head dim, C classes.
"""
import ctypes
import json
import math
import os
import struct

import torch
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64,
          "I64": torch.int64, "I32": torch.int32, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}
CHECK_TOLERANCE = 1e-4  # same ops on the same libraries: differences are summation-order noise


def load_safetensors(path, copy=False):
    """({name: tensor}, metadata) from a safetensors file: 8-byte little-endian header length, JSON
    header, data. copy: tensors are clones (e.g. to become trainable parameters), else views of the
    file's bytes."""
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
        t = t.reshape(info["shape"])
        tensors[name] = t.clone() if copy else t
    return tensors, header.get("__metadata__", {})


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


def environment():
    """The thread and library settings, recorded with every result."""
    openblas_threads, openblas_core = openblas_info()
    return {
        "torch_threads": torch.get_num_threads(), "interop_threads": torch.get_num_interop_threads(),
        "openblas_threads": openblas_threads, "openblas_core": openblas_core,
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "torch_version": torch.__version__,
    }


class Bert:
    """BertForSequenceClassification.forward, transformers' op order and dropout placement.

    training False (the default): eval mode, dropout is the identity."""

    def __init__(self, config, weights, training=False):
        self.c = config
        self.w = weights
        self.num_heads = config["num_attention_heads"]
        self.eps = config.get("layer_norm_eps", 1e-12)
        self.act = config.get("hidden_act", "gelu")
        self.num_layers = config["num_hidden_layers"]
        self.p_hidden = config.get("hidden_dropout_prob", 0.1)
        self.p_attention = config.get("attention_probs_dropout_prob", 0.1)
        p = config.get("classifier_dropout")
        self.p_classifier = self.p_hidden if p is None else p
        self.training = training

    def linear(self, x, name):
        return F.linear(x, self.w[name + ".weight"], self.w[name + ".bias"])

    def layer_norm(self, x, name):
        return F.layer_norm(x, (x.shape[-1],), self.w[name + ".weight"], self.w[name + ".bias"], self.eps)

    def dropout(self, x, p):
        return F.dropout(x, p, self.training) if self.training else x

    def forward(self, input_ids, attention_mask, token_type_ids):
        """{"last_hidden_state": [B, T, H], "pooler_output": [B, H], "logits": [B, C]}"""
        w = self.w
        B, T = input_ids.shape
        e = "bert.embeddings."
        position_ids = torch.arange(T, dtype=torch.long).unsqueeze(0)  # [1, T]
        x = F.embedding(input_ids, w[e + "word_embeddings.weight"])  # [B, T, H]
        x = x + F.embedding(token_type_ids, w[e + "token_type_embeddings.weight"])
        x = x + F.embedding(position_ids, w[e + "position_embeddings.weight"])
        hidden = self.dropout(self.layer_norm(x, e + "LayerNorm"), self.p_hidden)
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
            probs = self.dropout(torch.softmax(scores, dim=-1), self.p_attention)
            context = torch.matmul(probs, v).transpose(1, 2).reshape(B, T, H)  # [B, T, H]
            attended = self.dropout(self.linear(context, p + "attention.output.dense"), self.p_hidden)
            attended = self.layer_norm(attended + hidden, p + "attention.output.LayerNorm")
            inner = activation(self.linear(attended, p + "intermediate.dense"), self.act)  # [B, T, I]
            out = self.dropout(self.linear(inner, p + "output.dense"), self.p_hidden)
            hidden = self.layer_norm(out + attended, p + "output.LayerNorm")  # [B, T, H]
        pooled = torch.tanh(self.linear(hidden[:, 0], "bert.pooler.dense"))  # [B, H]
        logits = self.linear(self.dropout(pooled, self.p_classifier), "classifier")  # [B, C]
        return {"last_hidden_state": hidden, "pooler_output": pooled, "logits": logits}
