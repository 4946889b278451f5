#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""HAT's latency protocol (latency_dataset.py) on a PyTorch implementation of the same SubTransformer,
at PyTorch's best: eval mode, torch.inference_mode(), contiguous dense weights (the slices the
SubTransformer reads, copied out), self-attention K/V cached, encoder-decoder K/V projected
once. Prints one JSON object per file with the fields of `hat latency --json`.
--quantize int8: PyTorch's dynamic int8 quantisation (torch.ao.quantization.quantize_dynamic) of
every Linear layer, the vocabulary projection included (int8 weights with per-row scales, int8
activations quantised per call; CPU only).

  /usr/bin/python3 benchmarks/pytorch/hat_latency.py --task wmt14.en-de --threads 1 --iters 10 [--device cuda]
      [--quantize int8] FILE.yml...

Used by benchmarks/pytorch/latency_vs_pytorch.py; needs Debian's python3-torch (not a dependency of hat).
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from hat_protocol import SPACE0_MAX, read_yaml, trimmed  # noqa: E402  (shared with the other peer script)

PAD, EOS, WORD = 1, 2, 7
SUPER_DIM, QKV = 640, 512


def sinusoid(num, dim):
    half = dim // 2
    freq = torch.exp(torch.arange(half, dtype=torch.float32) * -(math.log(10000.0) / (half - 1)))
    ang = torch.arange(num, dtype=torch.float32).unsqueeze(1) * freq.unsqueeze(0)
    t = torch.cat([torch.sin(ang), torch.cos(ang)], dim=1)
    t[PAD] = 0
    return t


class Attention(torch.nn.Module):
    def __init__(self, d_q, d_kv, heads):
        super().__init__()
        self.q = torch.nn.Linear(d_q, QKV)
        self.kv = torch.nn.Linear(d_kv, 2 * QKV)
        self.out = torch.nn.Linear(QKV, d_q)
        self.heads = heads

    def split(self, x):  # [B, T, QKV] -> [B, H, T, hd]
        b, t, _ = x.shape
        return x.view(b, t, self.heads, QKV // self.heads).transpose(1, 2)

    def forward(self, q, k, v, mask=None):  # q: [B, H, Tq, hd], k/v: [B, H, Tk, hd]
        s = torch.matmul(q, k.transpose(-1, -2)) * (QKV // self.heads) ** -0.5
        if mask is not None:
            s = s + mask
        ctx = torch.matmul(torch.softmax(s, dim=-1), v)
        b, h, t, hd = ctx.shape
        return self.out(ctx.transpose(1, 2).reshape(b, t, h * hd))


class EncoderLayer(torch.nn.Module):
    def __init__(self, d, f, heads):
        super().__init__()
        self.attn = Attention(d, d, heads)
        self.ln1, self.ln2 = torch.nn.LayerNorm(d), torch.nn.LayerNorm(d)
        self.fc1, self.fc2 = torch.nn.Linear(d, f), torch.nn.Linear(f, d)

    def forward(self, x):
        a = self.attn
        k, v = self.attn.kv(x).chunk(2, dim=-1)
        x = self.ln1(x + a(a.split(a.q(x)), a.split(k), a.split(v)))
        return self.ln2(x + self.fc2(F.relu(self.fc1(x))))


class DecoderLayer(torch.nn.Module):
    def __init__(self, d, d_enc, f, self_heads, ende_heads):
        super().__init__()
        self.self_attn = Attention(d, d, self_heads)
        self.ende = Attention(d, d_enc, ende_heads)
        self.ln1, self.ln2, self.ln3 = torch.nn.LayerNorm(d), torch.nn.LayerNorm(d), torch.nn.LayerNorm(d)
        self.fc1, self.fc2 = torch.nn.Linear(d, f), torch.nn.Linear(f, d)

    def forward(self, x, state, mem_k, mem_v):  # x: [B, 1, d]; state: cached self K/V
        a = self.self_attn
        k, v = a.kv(x).chunk(2, dim=-1)
        k, v = a.split(k), a.split(v)
        if state:
            k, v = torch.cat([state[0], k], dim=2), torch.cat([state[1], v], dim=2)
        state[:] = [k, v]
        x = self.ln1(x + a(a.split(a.q(x)), k, v))
        e = self.ende
        x = self.ln2(x + e(e.split(e.q(x)), mem_k, mem_v))
        return self.ln3(x + self.fc2(F.relu(self.fc1(x))))

    def full(self, x, mem_k, mem_v, mask):  # non-incremental (warm-up)
        a = self.self_attn
        k, v = a.kv(x).chunk(2, dim=-1)
        x = self.ln1(x + a(a.split(a.q(x)), a.split(k), a.split(v), mask))
        e = self.ende
        x = self.ln2(x + e(e.split(e.q(x)), mem_k, mem_v))
        return self.ln3(x + self.fc2(F.relu(self.fc1(x))))


class SubTransformer(torch.nn.Module):
    def __init__(self, c, vocab):
        super().__init__()
        self.c = c
        width = max(c["enc_dim"], c["dec_dim"])
        self.embed = torch.nn.Parameter(torch.randn(vocab, width) * SUPER_DIM ** -0.5)
        self.enc = torch.nn.ModuleList(EncoderLayer(c["enc_dim"], c["enc_ffn"][l], c["enc_heads"][l])
                                       for l in range(c["enc_layers"]))
        self.dec = torch.nn.ModuleList(DecoderLayer(c["dec_dim"], c["enc_dim"], c["dec_ffn"][l], c["dec_self"][l],
                                                    c["dec_ende"][l]) for l in range(c["dec_layers"]))
        # Buffers, so that .to(device) moves them with the parameters.
        self.register_buffer("pos", sinusoid(256, SUPER_DIM), persistent=False)
        # Contiguous copies of the slices each part reads (PyTorch at its best).
        self.register_buffer("enc_table", self.embed[:, :c["enc_dim"]].detach().contiguous(), persistent=False)
        self.register_buffer("dec_table", self.embed[:, :c["dec_dim"]].detach().contiguous(), persistent=False)
        # The vocabulary projection as a Linear over the same table, so that quantize_dynamic
        # reaches it as it reaches every other product.
        self.project = torch.nn.Linear(c["dec_dim"], vocab, bias=False)
        self.project.weight = torch.nn.Parameter(self.dec_table.clone())

    def embed_tokens(self, tokens, table, d, first=0):
        t = tokens.shape[1]
        return math.sqrt(d) * F.embedding(tokens, table) + self.pos[2 + first:2 + first + t, :d]

    def encode(self, src):
        x = self.embed_tokens(src, self.enc_table, self.c["enc_dim"])
        outs = []
        for layer in self.enc:
            x = layer(x)
            outs.append(x)
        while len(outs) < 6:  # identity layers, as in HAT
            outs.append(x)
        return outs

    def memories(self, outs, beam):
        mem = []
        for l, layer in enumerate(self.dec):
            m = {-1: 1, 1: 2, 2: 3}[self.c["arb"][l]]
            e = torch.cat([outs[-1 - j] for j in range(m)], dim=1).expand(beam, -1, -1)
            k, v = layer.ende.kv(e).chunk(2, dim=-1)
            mem.append((layer.ende.split(k), layer.ende.split(v)))
        return mem

    def step(self, token, k, states, mem):
        x = self.embed_tokens(token, self.dec_table, self.c["dec_dim"], first=k)
        for layer, state, (mk, mv) in zip(self.dec, states, mem):
            x = layer(x, state, mk, mv)
        return self.project(x)

    def full_decode(self, prev, mem):
        t = prev.shape[1]
        mask = torch.triu(torch.full((t, t), float("-inf"), device=prev.device), 1)
        x = self.embed_tokens(prev, self.dec_table, self.c["dec_dim"])
        for layer, (mk, mv) in zip(self.dec, mem):
            x = layer.full(x, mk, mv, mask)
        return self.project(x)


def timed(device, f):
    """f's result and its milliseconds: CUDA events on a GPU (HAT's GPU protocol), else the wall clock."""
    if device.type == "cuda":
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        r = f()
        stop.record()
        torch.cuda.synchronize()
        return r, start.elapsed_time(stop)
    t0 = time.perf_counter()
    r = f()
    return r, (time.perf_counter() - t0) * 1e3


def measure(model, length, beam, warmup, iters, device):
    src = torch.tensor([[EOS] + [WORD] * (length - 1)], device=device)
    prefix = torch.tensor([[WORD] * (length - 1) + [EOS]] * beam, device=device)
    for _ in range(warmup):
        model.encode(src)
    enc = []
    for _ in range(iters):
        outs, ms = timed(device, lambda: model.encode(src))
        enc.append(ms)
    for _ in range(warmup):
        model.full_decode(prefix, model.memories(outs, beam))

    def decode():
        mem = model.memories(outs, beam)  # HAT projects enc-dec K/V at the first step
        states = [[] for _ in model.dec]
        for k in range(length):
            model.step(prefix[:, k:k + 1], k, states, mem)

    dec = [timed(device, decode)[1] for _ in range(iters)]
    return trimmed(enc), trimmed(dec)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--task", default="wmt14.en-de")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--beam", type=int, default=5)
    p.add_argument("--vocab", type=int, default=32768)
    p.add_argument("--device", default="cpu", help="cpu or cuda (CUDA events, as HAT times GPUs)")
    p.add_argument("--quantize", default="none", choices=["none", "int8"],
                   help="int8: torch.ao.quantization.quantize_dynamic of every Linear (CPU)")
    p.add_argument("files", nargs="+")
    a = p.parse_args()
    if a.quantize != "none" and a.device != "cpu":
        p.error("--quantize int8: PyTorch's dynamic quantisation runs on the CPU only")
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    length = 23 if "iwslt" in a.task else 30
    for f in a.files:
        c = read_yaml(f) if f != "max" else SPACE0_MAX
        device = torch.device(a.device)
        model = SubTransformer(c, a.vocab).eval().to(device)
        if a.quantize == "int8":
            model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        with torch.inference_mode():
            e, d = measure(model, length, a.beam, a.warmup, a.iters, device)
        print(json.dumps({"file": f, "encoder_ms": round(e, 4), "decoder_ms": round(d, 4), "total_ms": round(e + d, 4)}))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
