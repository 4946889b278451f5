#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""HAT's latency protocol on CTranslate2 (a peer engine for serving fairseq-style Transformers
on CPUs), on a model with the SubTransformer's shapes: the same layers, widths, per-layer FFN
widths, Q/K/V width (--qkv, HAT's: 512) and vocabulary as hat's model of the same YAML. Prints
one JSON object per file with the fields of `hat latency --json` (encoder_ms, decoder_ms,
total_ms), plus ct2_compute_type.

Weights: `--weights FILE.safetensors` reads the SubTransformer's dense weights as
`hat export --checkpoint C --arch FILE.yml --out FILE.safetensors` writes them (fairseq's
tensor names: one fused in_proj_weight per attention, the embedding table the decoder shares
with its output projection), so CTranslate2 runs hat's weights; without it, seeded random
weights of the same shapes (HAT's protocol times random weights: the values do not change the
time). For --compute-type int8 CTranslate2 quantises them itself at load (int8 weights with
per-row scales, int8 activations quantised per call).

What CTranslate2 cannot express, and how it is approximated:
- one head count per encoder and per decoder: the largest of the YAML's layers (head_dim =
  qkv / heads, so the projections keep their shapes; a layer with fewer heads in the YAML gets
  more, smaller heads here: a little more softmax work on 30 keys);
- HAT's arbitrary encoder-decoder attention (a decoder layer attending to the last 1-3 encoder
  layers): every decoder layer attends to the last encoder layer only (30 keys, not up to 90:
  less work for CTranslate2).
The protocol: batch 1, a source of 30 tokens (23 for IWSLT) ending in </s>, decoding started
from </s> as fairseq does, beam 5, exactly 30 decoder steps (min = max decoding length), each
with the vocabulary projection, log-softmax and top-k (CTranslate2 always searches; hat's latency
loop projects without searching). total_ms is the whole translate_batch call; CTranslate2 has
no encoder-only call, so encoder_ms is estimated from a second run that stops after one step:
encoder = one-step run - (total - one-step run) / (steps - 1), and decoder_ms = total - encoder.
The estimate is biased low: CTranslate2 decodes the first step with one hypothesis, not beam
of them, so the average step subtracted is heavier than the one in the one-step run.
Warm-up runs, then HAT's trimmed mean (drop the fastest and slowest 10 %).

  python benchmarks/ctranslate2/ct2_latency.py [--compute-type int8|float32] [--threads 1]
      [--iters 10] [--weights FILE.safetensors [--qkv 512]] FILE.yml... | max

Needs the pip packages ctranslate2 and numpy (and safetensors for --weights), in a throwaway
virtual environment: a benchmark peer, never a dependency of hat. The side-by-side table:
benchmarks/pytorch/latency_vs_pytorch.py --peer ctranslate2.
"""
import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from hat_protocol import SPACE0_MAX, read_yaml, trimmed  # noqa: E402  (shared with the other peer script)

QKV = 512  # HAT's WMT and IWSLT spaces; --qkv for another space


class Weights:
    """fairseq-named dense tensors from a safetensors file (hat export --arch), or seeded random
    ones of the asked shape. HAT's fused attention projections (in_proj_weight: q, k and v rows)
    and its embedding table are as wide as the widest side that reads them: take(name, rows,
    cols) reads the first `cols` columns."""

    def __init__(self, path, seed):
        self.tensors = None
        self.path = path
        if path:
            from safetensors.numpy import load_file
            self.tensors = load_file(path)
        self.rng = np.random.default_rng(seed)

    def rows(self, name):
        """The rows of the file's tensor `name` (a named error when it has none)."""
        if name not in self.tensors:
            sys.exit("%s: no tensor '%s' (write the file with hat export --arch)" % (self.path, name))
        return self.tensors[name].shape[0]

    def take(self, name, rows, cols=None, row0=0):
        shape = (rows,) if cols is None else (rows, cols)
        if self.tensors is None:
            if name.endswith("layer_norm.weight"):
                return np.ones(shape, np.float32)
            if cols is None:
                return np.zeros(shape, np.float32)
            return (self.rng.standard_normal(shape) / np.sqrt(cols)).astype(np.float32)
        self.rows(name)
        t = self.tensors[name]
        if t.ndim != len(shape) or t.shape[0] < row0 + rows or (cols is not None and t.shape[1] < cols):
            sys.exit("%s: tensor '%s' is %s, too small for %s at row %d" %
                     (self.path, name, tuple(t.shape), shape, row0))
        t = t[row0:row0 + rows] if cols is None else t[row0:row0 + rows, :cols]
        return np.ascontiguousarray(t, dtype=np.float32)


def linear(spec, w, name, out_dim, in_dim):
    spec.weight = w.take(name + ".weight", out_dim, in_dim)
    spec.bias = w.take(name + ".bias", out_dim)


def norm(spec, w, name, dim):
    spec.gamma = w.take(name + ".weight", dim)
    spec.beta = w.take(name + ".bias", dim)


def in_proj(spec, w, name, row0, rows, cols, qkv):
    """Rows [row0, row0 + rows) of HAT's fused q/k/v projection `name` (fairseq's in_proj_*),
    which holds 3 x qkv rows."""
    if w.tensors is not None and name + ".in_proj_weight" in w.tensors:
        have = w.tensors[name + ".in_proj_weight"].shape[0]
        if have != 3 * qkv:
            sys.exit("%s: tensor '%s.in_proj_weight' has %d rows, 3 x --qkv is %d" % (w.path, name, have, 3 * qkv))
    spec.weight = w.take(name + ".in_proj_weight", rows, cols, row0)
    spec.bias = w.take(name + ".in_proj_bias", rows, None, row0)


def self_attention(spec, w, p, d, qkv):
    """Layer prefix p's self-attention (width d) into a CTranslate2 self-attention spec."""
    in_proj(spec.linear[0], w, p + "self_attn", 0, 3 * qkv, d, qkv)
    linear(spec.linear[1], w, p + "self_attn.out_proj", d, qkv)
    norm(spec.layer_norm, w, p + "self_attn_layer_norm", d)


def ffn(spec, w, p, d, f):
    """Layer prefix p's feed-forward block (d -> f -> d) into a CTranslate2 FFN spec."""
    linear(spec.linear_0, w, p + "fc1", f, d)
    linear(spec.linear_1, w, p + "fc2", d, f)
    norm(spec.layer_norm, w, p + "final_layer_norm", d)


def build_spec(c, vocab, w, qkv):
    """A post-norm CTranslate2 Transformer with c's shapes and w's weights (fairseq's names)."""
    from ctranslate2.specs import common_spec, transformer_spec

    enc_h, dec_h = max(c["enc_heads"]), max(c["dec_self"] + c["dec_ende"])
    if qkv % enc_h or qkv % dec_h:
        sys.exit("%s: --qkv %d is not a multiple of its heads (encoder %d, decoder %d)" %
                 (c["file"], qkv, enc_h, dec_h))
    encoder = transformer_spec.TransformerEncoderSpec(c["enc_layers"], enc_h, pre_norm=False,
                                                      activation=common_spec.Activation.RELU,
                                                      head_dim=qkv // enc_h)
    decoder = transformer_spec.TransformerDecoderSpec(c["dec_layers"], dec_h, pre_norm=False,
                                                      activation=common_spec.Activation.RELU,
                                                      head_dim=qkv // dec_h)
    de, dd = c["enc_dim"], c["dec_dim"]
    encoder.embeddings[0].weight = w.take("encoder.embed_tokens.weight", vocab, de)
    for l, layer in enumerate(encoder.layer):
        p = "encoder.layers.%d." % l
        self_attention(layer.self_attention, w, p, de, qkv)
        ffn(layer.ffn, w, p, de, c["enc_ffn"][l])
    # HAT shares the decoder's table with the output projection (its WMT and IWSLT spaces).
    if w.tensors is not None and "decoder.embed_out" in w.tensors:
        sys.exit("%s: a separate output projection (decoder.embed_out): this script ties it to the decoder's "
                 "embedding table, as HAT's spaces do" % w.path)
    decoder.embeddings.weight = w.take("decoder.embed_tokens.weight", vocab, dd)
    decoder.projection.weight = decoder.embeddings.weight
    for l, layer in enumerate(decoder.layer):
        p = "decoder.layers.%d." % l
        self_attention(layer.self_attention, w, p, dd, qkv)
        ende = layer.attention
        in_proj(ende.linear[0], w, p + "encoder_attn", 0, qkv, dd, qkv)
        in_proj(ende.linear[1], w, p + "encoder_attn", qkv, 2 * qkv, de, qkv)
        linear(ende.linear[2], w, p + "encoder_attn.out_proj", dd, qkv)
        norm(ende.layer_norm, w, p + "encoder_attn_layer_norm", dd)
        ffn(layer.ffn, w, p, dd, c["dec_ffn"][l])
    spec = transformer_spec.TransformerSpec(encoder, decoder)
    tokens = ["<s>", "<pad>", "</s>", "<unk>"] + ["w%d" % i for i in range(4, vocab)]
    spec.register_source_vocabulary(tokens)
    spec.register_target_vocabulary(tokens)
    # fairseq's (and HAT's) sentences: the source ends in </s>, decoding starts from </s>
    spec.config.add_source_eos = True
    spec.config.decoder_start_token = "</s>"
    return spec


def measure(translator, length, beam, warmup, iters):
    source = [["w7"] * (length - 1)]  # and </s> (add_source_eos): `length` tokens, as HAT's dummy sentence
    full = dict(beam_size=beam, min_decoding_length=length, max_decoding_length=length, num_hypotheses=1)
    first = dict(beam_size=beam, min_decoding_length=1, max_decoding_length=1, num_hypotheses=1)

    def timed(kw):
        t0 = time.perf_counter()
        r = translator.translate_batch(source, **kw)
        return r, (time.perf_counter() - t0) * 1e3

    for _ in range(warmup):
        timed(full)
    steps = len(timed(full)[0][0].hypotheses[0])
    if steps != length:
        sys.exit("CTranslate2 decoded %d steps, not %d" % (steps, length))
    one = trimmed([timed(first)[1] for _ in range(iters)])
    total = trimmed([timed(full)[1] for _ in range(iters)])
    encoder = max(0.0, one - (total - one) / (length - 1))
    return encoder, total - encoder, total


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--task", default="wmt14.en-de")
    p.add_argument("--threads", type=int, default=1, help="CTranslate2's intra-op threads")
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--beam", type=int, default=5)
    p.add_argument("--vocab", type=int, help="vocabulary size (default: the --weights file's, else 32768)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--qkv", type=int, default=QKV, help="the space's Q/K/V width (HAT's: 512)")
    p.add_argument("--compute-type", default="int8", choices=["int8", "float32"])
    p.add_argument("--weights", help="safetensors of one SubTransformer (hat export --arch); one YAML file only")
    p.add_argument("files", nargs="+", help="SubTransformer YAML files, or 'max' (space0's largest)")
    a = p.parse_args()
    if a.weights and len(a.files) != 1:
        p.error("--weights: one YAML file, the one it was exported with")
    if a.threads < 1 or a.iters < 2 or a.beam < 1 or a.qkv < 1 or (a.vocab is not None and a.vocab < 8):
        p.error("--threads, --beam, --qkv >= 1, --iters >= 2, --vocab >= 8")
    weights = Weights(a.weights, a.seed)
    if a.vocab is None:
        a.vocab = weights.rows("decoder.embed_tokens.weight") if a.weights else 32768
    import ctranslate2
    length = 23 if "iwslt" in a.task else 30
    for f in a.files:
        c = dict(SPACE0_MAX if f == "max" else read_yaml(f), file=f)
        spec = build_spec(c, a.vocab, weights, a.qkv)
        with tempfile.TemporaryDirectory(prefix="hat-ct2-") as d:
            spec.validate()
            spec.optimize()
            spec.save(d)
            translator = ctranslate2.Translator(d, device="cpu", compute_type=a.compute_type,
                                                inter_threads=1, intra_threads=a.threads)
            e, dec, t = measure(translator, length, a.beam, a.warmup, a.iters)
        print(json.dumps({"file": f, "encoder_ms": round(e, 4), "decoder_ms": round(dec, 4), "total_ms": round(t, 4),
                          "ct2_compute_type": a.compute_type}))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
