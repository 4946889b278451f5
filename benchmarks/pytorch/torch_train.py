#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""PyTorch training speed on the batches `table_cpu_train_speed --dump` wrote: the same model as
hat's (post-norm encoder-decoder, the multi30k space's largest or smallest SubTransformer, one
shared vocabulary table tied to the output), the same dropout, label-smoothed loss (0.1), Adam.
PyTorch at its best for CPU training: nn.TransformerEncoder/DecoderLayer (post-norm), foreach Adam,
set_to_none gradients. Prints one JSON object: tokens_per_s, tokens, seconds, updates, precision.
--precision bf16: the forward and loss under torch.autocast("cpu", dtype=torch.bfloat16) (bf16
matmuls, fp32 master weights and Adam), the peer of `hat train --precision bf16`.

  /usr/bin/python3 benchmarks/pytorch/torch_train.py --batches B.txt [--arch largest] [--threads 1] [--warmup 3]
      [--precision fp32|bf16]
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

PAD, EOS = 1, 2
ARCHS = {  # d, ffn, heads, encoder layers, decoder layers (multi30k_space)
    "largest": (256, 1024, 4, 3, 3),
    "smallest": (192, 256, 2, 3, 1),
}


def read_batches(path):
    with open(path) as f:
        vocab = int(f.readline().split()[1])
        lines = f.read().splitlines()
    batches = []
    for s, t in zip(lines[0::2], lines[1::2]):
        out = []
        for line in (s, t):
            tag, rows, cols, *ids = line.split()
            out.append(torch.tensor([int(x) for x in ids], dtype=torch.long).view(int(rows), int(cols)))
        batches.append(tuple(out))
    return vocab, batches


def sinusoid(n, d):
    half = d // 2
    freq = torch.exp(torch.arange(half, dtype=torch.float) * -(math.log(10000.0) / (half - 1)))
    pos = torch.arange(n, dtype=torch.float).unsqueeze(1) + 2  # fairseq: positions start at padding_idx + 1
    return torch.cat([torch.sin(pos * freq), torch.cos(pos * freq)], dim=1)


class Model(nn.Module):
    def __init__(self, vocab, d, ffn, heads, enc_layers, dec_layers, dropout, attn_dropout):
        super().__init__()
        self.embed = nn.Embedding(vocab, d, padding_idx=PAD)
        nn.init.normal_(self.embed.weight, 0, d ** -0.5)
        self.scale = d ** 0.5
        self.register_buffer("pos", sinusoid(1024, d))
        self.dropout = dropout
        enc = nn.TransformerEncoderLayer(d, heads, ffn, dropout, batch_first=True)
        dec = nn.TransformerDecoderLayer(d, heads, ffn, dropout, batch_first=True)
        for layer in (enc, dec):  # attention-probability dropout at its own rate, as fairseq
            for m in layer.modules():
                if isinstance(m, nn.MultiheadAttention):
                    m.dropout = attn_dropout
        self.encoder = nn.TransformerEncoder(enc, enc_layers, enable_nested_tensor=False)
        self.decoder = nn.TransformerDecoder(dec, dec_layers)

    def embed_tokens(self, tokens):
        mask = tokens.ne(PAD)
        positions = (torch.cumsum(mask, dim=1) - 1).clamp(min=0)
        x = self.embed(tokens) * self.scale + self.pos[positions] * mask.unsqueeze(-1)
        return F.dropout(x, self.dropout, self.training)

    def forward(self, src, prev):
        src_pad, tgt_pad = src.eq(PAD), prev.eq(PAD)
        causal = torch.triu(torch.full((prev.size(1), prev.size(1)), float("-inf")), diagonal=1)
        memory = self.encoder(self.embed_tokens(src), src_key_padding_mask=src_pad)
        y = self.decoder(self.embed_tokens(prev), memory, tgt_mask=causal, tgt_key_padding_mask=tgt_pad,
                         memory_key_padding_mask=src_pad)
        return F.linear(y, self.embed.weight)


def shifted_right(tgt):
    prev = torch.full_like(tgt, PAD)
    lengths = tgt.ne(PAD).sum(1)
    for r in range(tgt.size(0)):
        n = int(lengths[r])
        prev[r, 0] = tgt[r, n - 1]
        prev[r, 1:n] = tgt[r, : n - 1]
    return prev


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batches", required=True)
    p.add_argument("--arch", default="largest", choices=sorted(ARCHS))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    vocab, batches = read_batches(a.batches)
    d, ffn, heads, el, dl = ARCHS[a.arch]
    model = Model(vocab, d, ffn, heads, el, dl, 0.1, 0.1)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=5e-4, betas=(0.9, 0.98), eps=1e-8, foreach=True)
    prepared = [(s, shifted_right(t), t) for s, t in batches]
    tokens, start = 0, None
    for i, (src, prev, tgt) in enumerate(prepared):
        if i == a.warmup:
            start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.precision == "bf16"):
            logits = model(src, prev)
            n = int(tgt.ne(PAD).sum())
            loss = F.cross_entropy(logits.view(-1, vocab), tgt.view(-1), ignore_index=PAD, label_smoothing=0.1,
                                   reduction="sum")
        (loss / n).backward()
        opt.step()
        if i >= a.warmup:
            tokens += n
    seconds = time.perf_counter() - start
    print(json.dumps({"tokens_per_s": round(tokens / seconds, 1), "tokens": tokens, "seconds": round(seconds, 3),
                      "updates": len(prepared) - a.warmup, "precision": a.precision}))


if __name__ == "__main__":
    main()
