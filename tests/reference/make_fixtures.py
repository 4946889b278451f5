#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes tests/data/parity_*.txt: logits and losses of HAT SubTransformers computed by an
independent PyTorch transcription of HAT's SuperTransformer (fairseq's post-norm Transformer
with HAT's weight slices), for tests/nn/parity.cpp to compare against.

Run with Debian's torch: /usr/bin/python3 tests/reference/make_fixtures.py
The files are committed; rerun only when the fixture set changes. Deterministic (seeded).
"""
import math
import os
import torch
import torch.nn.functional as F

PAD, EOS = 1, 2
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data")

# The tiny super maxima the fixtures use (tests/nn/parity.cpp declares the same).
D, FE, FD, Q, LE, LD = 16, 32, 24, 8, 3, 3


def sinusoid(num, dim):
    """fairseq's SinusoidalPositionalEmbedding table at the super width, row p = position p."""
    half = dim // 2
    freq = torch.exp(torch.arange(half, dtype=torch.float64) * -(math.log(10000.0) / (half - 1)))
    ang = torch.arange(num, dtype=torch.float64).unsqueeze(1) * freq.unsqueeze(0)
    table = torch.cat([torch.sin(ang), torch.cos(ang)], dim=1)
    table[PAD, :] = 0
    return table


def make_positions(tokens):
    mask = tokens.ne(PAD).long()
    return torch.cumsum(mask, dim=1) * mask + PAD


def params(vocab_src, vocab_tgt, sharing, gen):
    p = {}

    def rnd(*shape, scale=0.5):
        return (torch.rand(*shape, generator=gen, dtype=torch.float64) * 2 - 1).float() * scale

    p["encoder.embed_tokens.weight"] = rnd(vocab_src, D)
    if sharing != "all":
        p["decoder.embed_tokens.weight"] = rnd(vocab_tgt, D)
    if sharing == "none":
        p["decoder.embed_out"] = rnd(vocab_tgt, D)

    def attn(pre):
        p[pre + "in_proj_weight"] = rnd(3 * Q, D)
        p[pre + "in_proj_bias"] = rnd(3 * Q, scale=0.1)
        p[pre + "out_proj.weight"] = rnd(D, Q)
        p[pre + "out_proj.bias"] = rnd(D, scale=0.1)

    def norm(pre):
        p[pre + "weight"] = 1 + rnd(D, scale=0.2)
        p[pre + "bias"] = rnd(D, scale=0.1)

    def ffn(pre, f):
        p[pre + "fc1.weight"] = rnd(f, D)
        p[pre + "fc1.bias"] = rnd(f, scale=0.1)
        p[pre + "fc2.weight"] = rnd(D, f)
        p[pre + "fc2.bias"] = rnd(D, scale=0.1)

    for l in range(LE):
        pre = "encoder.layers.%d." % l
        attn(pre + "self_attn.")
        norm(pre + "self_attn_layer_norm.")
        ffn(pre, FE)
        norm(pre + "final_layer_norm.")
    for l in range(LD):
        pre = "decoder.layers.%d." % l
        attn(pre + "self_attn.")
        norm(pre + "self_attn_layer_norm.")
        attn(pre + "encoder_attn.")
        norm(pre + "encoder_attn_layer_norm.")
        ffn(pre, FD)
        norm(pre + "final_layer_norm.")
    return p


def attention(p, pre, query, key, heads, d_q, d_kv, key_padding=None, causal=False):
    """HAT's MultiheadAttentionSuper on T x B x C tensors, in float64."""
    w, b = p[pre + "in_proj_weight"].double(), p[pre + "in_proj_bias"].double()
    q = F.linear(query, w[0:Q, :d_q], b[0:Q])
    k = F.linear(key, w[Q:2 * Q, :d_kv], b[Q:2 * Q])
    v = F.linear(key, w[2 * Q:3 * Q, :d_kv], b[2 * Q:3 * Q])
    tq, bsz, _ = q.shape
    tk = k.shape[0]
    hd = Q // heads
    q = q * hd ** -0.5
    q = q.contiguous().view(tq, bsz * heads, hd).transpose(0, 1)
    k = k.contiguous().view(tk, bsz * heads, hd).transpose(0, 1)
    v = v.contiguous().view(tk, bsz * heads, hd).transpose(0, 1)
    s = torch.bmm(q, k.transpose(1, 2))
    if causal:
        s = s + torch.triu(torch.full((tq, tk), float("-inf"), dtype=s.dtype), 1 + tk - tq).unsqueeze(0)
    if key_padding is not None:
        s = s.view(bsz, heads, tq, tk).masked_fill(key_padding.unsqueeze(1).unsqueeze(2), float("-inf"))
        s = s.view(bsz * heads, tq, tk)
    a = torch.softmax(s, dim=-1)
    ctx = torch.bmm(a, v).transpose(0, 1).contiguous().view(tq, bsz, Q)
    return F.linear(ctx, p[pre + "out_proj.weight"].double()[:d_q, :], p[pre + "out_proj.bias"].double()[:d_q])


def layer_norm(p, pre, x, d):
    return F.layer_norm(x, (d,), p[pre + "weight"].double()[:d], p[pre + "bias"].double()[:d], 1e-5)


def ffn(p, pre, x, f, d):
    h = F.relu(F.linear(x, p[pre + "fc1.weight"].double()[:f, :d], p[pre + "fc1.bias"].double()[:f]))
    return F.linear(h, p[pre + "fc2.weight"].double()[:d, :f], p[pre + "fc2.bias"].double()[:d])


def embed(table, tokens, d):
    pos = sinusoid(64, D)[make_positions(tokens)][..., :d]
    x = math.sqrt(d) * table.double()[tokens][..., :d] + pos
    return x.transpose(0, 1)  # T x B x C


def forward(p, sharing, cfg, src, prev):
    de, dd = cfg["enc_dim"], cfg["dec_dim"]
    pad = src.eq(PAD)
    x = embed(p["encoder.embed_tokens.weight"], src, de)
    outs = []
    for l in range(LE):  # layers past encoder_layers are identity, as in HAT
        if l < len(cfg["enc_ffn"]):
            pre = "encoder.layers.%d." % l
            x = layer_norm(p, pre + "self_attn_layer_norm.",
                           x + attention(p, pre + "self_attn.", x, x, cfg["enc_heads"][l], de, de, pad), de)
            x = layer_norm(p, pre + "final_layer_norm.", x + ffn(p, pre, x, cfg["enc_ffn"][l], de), de)
        outs.append(x)
    tgt_table = p["encoder.embed_tokens.weight"] if sharing == "all" else p["decoder.embed_tokens.weight"]
    y = embed(tgt_table, prev, dd)
    for l in range(len(cfg["dec_ffn"])):
        pre = "decoder.layers.%d." % l
        m = {-1: 1, 1: 2, 2: 3}[cfg["arbitrary"][l]]
        mem = torch.cat([outs[-1 - j] for j in range(m)], dim=0)  # along time, last first
        mem_pad = torch.cat([pad] * m, dim=1)
        y = layer_norm(p, pre + "self_attn_layer_norm.",
                       y + attention(p, pre + "self_attn.", y, y, cfg["dec_self_heads"][l], dd, dd, None, True), dd)
        y = layer_norm(p, pre + "encoder_attn_layer_norm.",
                       y + attention(p, pre + "encoder_attn.", y, mem, cfg["dec_ende_heads"][l], dd, de, mem_pad), dd)
        y = layer_norm(p, pre + "final_layer_norm.", y + ffn(p, pre, y, cfg["dec_ffn"][l], dd), dd)
    out = p["decoder.embed_out"] if sharing == "none" else tgt_table
    return F.linear(y.transpose(0, 1), out.double()[:, :dd])  # B x T x V


def label_smoothed(logits, target, eps):
    """fairseq's label_smoothed_cross_entropy summed over non-pad tokens (natural log)."""
    lp = torch.log_softmax(logits, dim=-1).view(-1, logits.shape[-1])
    t = target.view(-1)
    keep = t.ne(PAD)
    nll = -lp.gather(1, t.unsqueeze(1)).squeeze(1)[keep]
    smooth = -lp.sum(dim=-1)[keep]
    loss = (1 - eps) * nll + eps / lp.shape[-1] * smooth
    return loss.sum().item(), nll.sum().item(), int(keep.sum())


def fmt(values):
    return " ".join(repr(float(v)) for v in values)


def write(name, vocab_src, vocab_tgt, sharing, cases, seed):
    gen = torch.Generator().manual_seed(seed)
    p = params(vocab_src, vocab_tgt, sharing, gen)
    lines = ["hat-parity-fixture 1",
             "maxima %d %d %d %d %d %d" % (D, FE, FD, Q, LE, LD),
             "vocab %d %d %s" % (vocab_src, vocab_tgt, sharing)]
    for k, v in p.items():
        lines.append("param %s %d %s" % (k, v.numel(), fmt(v.flatten().tolist())))
    for case in cases:
        cfg = case["config"]
        src = torch.tensor(case["src"])
        tgt = torch.tensor(case["tgt"])
        prev = tgt.clone()  # fairseq's prev_output_tokens: the final </s> moved to the front
        for r in range(tgt.shape[0]):
            n = int(tgt[r].ne(PAD).sum())
            prev[r, 0] = tgt[r, n - 1]
            prev[r, 1:n] = tgt[r, :n - 1]
        logits = forward(p, sharing, cfg, src, prev)
        loss, nll, ntok = label_smoothed(logits, tgt, 0.1)
        lines.append("case %s" % case["name"])
        lines.append("config %d %d %s | %s | %s | %s | %s | %s | %s" % (
            cfg["enc_dim"], cfg["dec_dim"], fmt_ints(cfg["enc_ffn"]), fmt_ints(cfg["enc_heads"]),
            fmt_ints(cfg["dec_ffn"]), fmt_ints(cfg["dec_self_heads"]), fmt_ints(cfg["dec_ende_heads"]),
            fmt_ints(cfg["arbitrary"]), ""))
        lines.append("src %d %d %s" % (src.shape[0], src.shape[1], fmt_ints(src.flatten().tolist())))
        lines.append("tgt %d %d %s" % (tgt.shape[0], tgt.shape[1], fmt_ints(tgt.flatten().tolist())))
        lines.append("logits %d %s" % (logits.numel(), fmt(logits.flatten().tolist())))
        lines.append("loss %s %s %d" % (repr(loss), repr(nll), ntok))
    path = os.path.join(OUT, name)
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(path + ".tmp", path)
    print("wrote", path, len(cases), "cases")


def fmt_ints(values):
    return " ".join(str(int(v)) for v in values)


def cfg(enc_dim, dec_dim, enc_ffn, enc_heads, dec_ffn, dec_self, dec_ende, arbitrary):
    return dict(enc_dim=enc_dim, dec_dim=dec_dim, enc_ffn=enc_ffn, enc_heads=enc_heads, dec_ffn=dec_ffn,
                dec_self_heads=dec_self, dec_ende_heads=dec_ende, arbitrary=arbitrary)


# Sources left-padded, targets right-padded (fairseq's defaults); every target ends with </s>.
SRC = [[5, 9, 7, 11, 6, EOS], [PAD, PAD, 8, 13, 4, EOS]]
TGT = [[6, 10, 4, 12, EOS], [9, 5, EOS, PAD, PAD]]
SRC1 = [[2, 7, 7, 7, 7, 7, 7]]
TGT1 = [[7, 7, 7, 7, EOS]]

CASES = [
    dict(name="largest", config=cfg(16, 16, [32] * 3, [2] * 3, [24] * 3, [2] * 3, [2] * 3, [-1] * 3), src=SRC, tgt=TGT),
    dict(name="mixed_dims_arbitrary_1", config=cfg(16, 12, [32, 16, 8], [4, 2, 1], [24, 12], [1, 4], [2, 8], [1, 1]),
         src=SRC, tgt=TGT),
    dict(name="arbitrary_2_fewer_decoder_layers", config=cfg(12, 16, [8, 32, 16], [2, 8, 4], [16], [8], [1], [2]),
         src=SRC, tgt=TGT),
    dict(name="mixed_arbitrary_per_layer", config=cfg(8, 8, [16, 16, 32], [1, 2, 2], [24, 8, 16], [2, 1, 4],
                                                      [4, 2, 1], [2, -1, 1]), src=SRC, tgt=TGT),
    dict(name="fewer_encoder_layers_identity", config=cfg(12, 12, [32, 16], [2, 4], [24, 24], [2, 2], [2, 2], [2, 1]),
         src=SRC, tgt=TGT),
    dict(name="latency_style_no_padding", config=cfg(16, 12, [16, 8, 32], [8, 1, 2], [8, 24, 16], [4, 4, 2], [1, 2, 8],
                                                     [-1, 2, 1]), src=SRC1, tgt=TGT1),
]

if __name__ == "__main__":
    write("parity_shared.txt", 24, 24, "all", CASES, 7)
    write("parity_separate.txt", 20, 26, "none", CASES, 8)
