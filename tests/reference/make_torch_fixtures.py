#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes tests/data/torch/: small torch.save files in both of PyTorch's formats (zip, and the
legacy format of PyTorch < 1.6) and, for each, a JSON of what they hold, for
tests/torch/torch_file.cpp to compare hat's C++ reader against; and fairseq-style checkpoints of
the tiny SuperTransformers whose PyTorch logits are in tests/data/parity_*.txt (the same weights,
from make_fixtures.py), for tests/torch/fairseq_checkpoint.cpp.

Run with Debian's torch: /usr/bin/python3 tests/reference/make_torch_fixtures.py
The files are committed; rerun only when the fixture set changes. Deterministic (seeded).
"""
import argparse
import collections
import json
import os

import numpy as np
import torch

import make_fixtures as parity

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "torch")


def tensors():
    """A state dict with every dtype and layout the reader must handle."""
    g = torch.Generator().manual_seed(7)
    base = torch.randn(3, 4, generator=g)
    sd = collections.OrderedDict()
    sd["f32"] = torch.randn(2, 3, generator=g)
    sd["f64"] = torch.randn(5, generator=g, dtype=torch.float64)
    sd["f16"] = torch.tensor([1.0, -2.5, 65504.0, 6.0e-8, 0.0, -0.0, 1.0 / 3], dtype=torch.float16)
    sd["bf16"] = torch.randn(4, generator=g).to(torch.bfloat16)
    sd["i64"] = torch.arange(-3, 3, dtype=torch.int64).reshape(2, 3)
    sd["i32"] = torch.tensor([7, -8, 2**31 - 1], dtype=torch.int32)
    sd["u8"] = torch.tensor([0, 200, 255], dtype=torch.uint8)
    sd["bool"] = torch.tensor([True, False, True])
    sd["base"] = base
    sd["transposed"] = base.t()  # shares base's storage, strides (1, 4)
    sd["row"] = base[1]  # storage offset 4
    sd["column"] = base[:, 2]  # offset 2, stride 4
    sd["scalar"] = torch.tensor(3.5)
    sd["empty"] = torch.zeros(0, 3)
    sd["parameter"] = torch.nn.Parameter(torch.randn(2, 2, generator=g))
    return sd


def checkpoint():
    """A fairseq-shaped checkpoint: args as an argparse.Namespace, numpy scalars in extra_state."""
    g = torch.Generator().manual_seed(11)
    model = collections.OrderedDict()
    model["encoder.embed_tokens.weight"] = torch.randn(6, 4, generator=g)
    model["encoder.layers.0.fc1.weight"] = torch.randn(8, 4, generator=g)
    model["encoder.layers.0.fc1.bias"] = torch.randn(8, generator=g)
    model["decoder.version"] = torch.tensor([3.0])
    args = argparse.Namespace(
        arch="transformersuper_wmt_en_de",
        encoder_embed_dim=640,
        encoder_embed_choice=[640, 512],
        decoder_layer_num_choice=[6, 5, 4, 3, 2, 1],
        share_all_embeddings=True,
        dropout=0.3,
        lr=[1e-7],
        max_tokens=4096,
        criterion="label_smoothed_cross_entropy",
        data="data/binary/wmt16_en_de",
        empty=None,
        pair=(1, 2),
        tags={"a"},
    )
    extra = {"train_iterator": {"epoch": 3, "iterations_in_epoch": 17}, "val_loss": np.float64(4.25),
             "best": np.float32(3.5), "steps": np.int64(-12345678901), "raw": b"\x00\xff\x7fok"}
    return {"args": args, "model": model, "extra_state": extra,
            "optimizer_history": [{"criterion_name": "LabelSmoothedCrossEntropyCriterion", "num_updates": 40000}]}


def fairseq_checkpoint(vocab_src, vocab_tgt, sharing, seed):
    """What fairseq's save_checkpoint writes for HAT's transformersuper, at the parity fixtures'
    tiny super sizes: args as an argparse.Namespace with the space's *_choice lists, the state
    dict by fairseq's names (shared embeddings under both keys, one storage), its buffers."""
    gen = torch.Generator().manual_seed(seed)  # as make_fixtures.write: the same weights
    p = parity.params(vocab_src, vocab_tgt, sharing, gen)
    model = collections.OrderedDict()
    model["encoder.version"] = torch.tensor([3.0])
    model["encoder.embed_tokens.weight"] = p["encoder.embed_tokens.weight"]
    model["encoder.embed_positions._float_tensor"] = torch.FloatTensor(1)
    for k, v in p.items():
        if k.startswith("encoder.layers."):
            model[k] = v
    model["decoder.version"] = torch.tensor([3.0])
    model["decoder.embed_tokens.weight"] = p["decoder.embed_tokens.weight"] if sharing != "all" else p["encoder.embed_tokens.weight"]
    model["decoder.embed_positions._float_tensor"] = torch.FloatTensor(1)
    for k, v in p.items():
        if k.startswith("decoder.layers.") or k == "decoder.embed_out":
            model[k] = v
    d, fe, fd, q, le, ld = parity.D, parity.FE, parity.FD, parity.Q, parity.LE, parity.LD
    args = argparse.Namespace(
        arch="transformersuper_iwslt_de_en" if sharing == "none" else "transformersuper_wmt_en_de",
        encoder_embed_dim=d, decoder_embed_dim=d, encoder_ffn_embed_dim=fe, decoder_ffn_embed_dim=fd,
        encoder_layers=le, decoder_layers=ld, encoder_attention_heads=4, decoder_attention_heads=4, qkv_dim=q,
        encoder_embed_choice=[16, 12, 8], decoder_embed_choice=[16, 12, 8],
        encoder_layer_num_choice=[3], decoder_layer_num_choice=[3, 2, 1],
        encoder_ffn_embed_dim_choice=[32, 16, 8], decoder_ffn_embed_dim_choice=[24, 16, 12, 8],
        encoder_self_attention_heads_choice=[4, 2], decoder_self_attention_heads_choice=[4, 2],
        decoder_ende_attention_heads_choice=[4, 2], decoder_arbitrary_ende_attn_choice=[-1, 1, 2],
        share_all_embeddings=sharing == "all", share_decoder_input_output_embed=False,
        encoder_normalize_before=False, decoder_normalize_before=False, activation_fn="relu",
        max_source_positions=1024, max_target_positions=1024, dropout=0.3, task="translation",
        source_lang="de", target_lang="en", data="data/binary/tiny")
    return {"args": args, "model": model, "optimizer_history": [
        {"criterion_name": "LabelSmoothedCrossEntropyCriterion", "optimizer_name": "FairseqAdam",
         "lr_scheduler_state": {"best": 4.5}, "num_updates": 100}],
        "extra_state": {"train_iterator": {"epoch": 1}, "val_loss": np.float64(4.5)},
        "last_optimizer_state": {"state": {}, "param_groups": [{"lr": 1e-4}]}}


def number_words_checkpoint(vocab_src, vocab_tgt, sharing, seed):
    """fairseq_checkpoint at the sizes and with the choices of hat's number-words space, for the
    command-line tests (3 MB: made when they run, never committed)."""
    parity.D, parity.FE, parity.FD, parity.Q, parity.LE, parity.LD = 128, 256, 256, 128, 2, 3
    ck = fairseq_checkpoint(vocab_src, vocab_tgt, sharing, seed)
    a = ck["args"]
    a.encoder_embed_choice = a.decoder_embed_choice = [128, 64]
    a.encoder_layer_num_choice, a.decoder_layer_num_choice = [2], [3, 2, 1]
    a.encoder_ffn_embed_dim_choice = a.decoder_ffn_embed_dim_choice = [256, 128]
    a.encoder_self_attention_heads_choice = a.decoder_self_attention_heads_choice = [4, 2]
    a.decoder_ende_attention_heads_choice, a.decoder_arbitrary_ende_attn_choice = [4, 2], [-1, 1]
    return ck


def describe(sd):
    out = {}
    for k, t in sd.items():
        out[k] = {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""),
                  "values": [float(v) for v in t.detach().reshape(-1).to(torch.float64).tolist()]}
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    sd = tensors()
    ck = checkpoint()
    for fmt, zip_format in (("zip", True), ("legacy", False)):
        torch.save(sd, os.path.join(OUT, f"tensors_{fmt}.pt"), _use_new_zipfile_serialization=zip_format)
        torch.save(ck, os.path.join(OUT, f"checkpoint_{fmt}.pt"), _use_new_zipfile_serialization=zip_format)
    torch.save(fairseq_checkpoint(24, 24, "all", 7), os.path.join(OUT, "tiny_shared_zip.pt"))
    torch.save(fairseq_checkpoint(24, 24, "all", 7), os.path.join(OUT, "tiny_shared_legacy.pt"),
               _use_new_zipfile_serialization=False)
    torch.save(fairseq_checkpoint(20, 26, "none", 8), os.path.join(OUT, "tiny_separate_legacy.pt"),
               _use_new_zipfile_serialization=False)
    with open(os.path.join(OUT, "tensors.json"), "w") as f:
        json.dump(describe(sd), f, indent=1)
    with open(os.path.join(OUT, "checkpoint.json"), "w") as f:
        json.dump({"model": describe(ck["model"])}, f, indent=1)


if __name__ == "__main__":
    main()
