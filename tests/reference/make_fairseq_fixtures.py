#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes tests/data/fairseq/: what fairseq's preprocess.py and subword-nmt produce, at a tiny size,
for tests/text/fairseq_files.cpp to compare hat's C++ readers against:

- bpe.codes: subword-nmt's learn_bpe on a small synthetic text (version 0.2 header), and
  bpe.in / bpe.out: lines and subword-nmt's apply_bpe segmentation of them (`@@ ` markers);
- dict.de.txt, dict.en.txt: fairseq dictionaries of the segmented text (symbol, count; one
  `#fairseq:overwrite` line);
- test.de-en.{de,en}.{idx,bin}: the segmented lines binarized in fairseq's mmap format (uint16 ids,
  as fairseq picks for vocabularies under 65,500), valid.de-en.{de,en}.{idx,bin} in the older
  TNTIDX format (int32 ids), each sentence ending in </s>; test.ids / valid.ids: the ids as text.

The binary layouts are those of fairseq's indexed_dataset.py (MMapIndexedDataset.Index.writer and
IndexedDatasetBuilder), written here with struct so that no fairseq install is needed.
Run: PYTHONPATH=<subword-nmt from PyPI> /usr/bin/python3 tests/reference/make_fairseq_fixtures.py
The files are committed; rerun only when the fixture set changes. Deterministic (seeded).
"""
import io
import os
import random
import struct

from subword_nmt import apply_bpe, learn_bpe

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "fairseq")

DE = ["der", "die", "das", "Hund", "Katze", "läuft", "schläft", "über", "Straße", "schnell", "große", "kleine",
      "Fußball", "spielt", "Mädchen", "Jungen", "Wasser", "trinkt", "grüne", "Wiese"]
EN = ["the", "a", "dog", "cat", "runs", "sleeps", "across", "street", "quickly", "big", "small", "football",
      "plays", "girl", "boys", "water", "drinks", "green", "meadow", "naïve"]


def sentences(words, n, rng):
    return [" ".join(rng.choice(words) for _ in range(rng.randint(1, 9))) for _ in range(n)]


def dictionary(lines):
    """fairseq's Dictionary as preprocess.py counts and sorts it: by count, then symbol."""
    counts = {}
    for line in lines:
        for w in line.split():
            counts[w] = counts.get(w, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def write_dict(path, entries):
    with open(path, "w", encoding="utf-8") as f:
        for w, c in entries:
            f.write("%s %d\n" % (w, c))
        # a repeated symbol that takes a new id, as fairseq allows with the flag
        f.write("%s %d #fairseq:overwrite\n" % (entries[0][0], 1))


def ids_of(line, index):
    return [index.get(w, 3) for w in line.split()] + [2]


def write_mmap(prefix, seqs):
    """MMapIndexedDataset (HAT's fairseq: no document index), dtype code 8 = uint16."""
    with open(prefix + ".bin", "wb") as b:
        for s in seqs:
            b.write(struct.pack("<%dH" % len(s), *s))
    with open(prefix + ".idx", "wb") as f:
        f.write(b"MMIDIDX\x00\x00")
        f.write(struct.pack("<Q", 1))
        f.write(struct.pack("<B", 8))
        f.write(struct.pack("<Q", len(seqs)))
        f.write(struct.pack("<%di" % len(seqs), *[len(s) for s in seqs]))
        pointers, at = [], 0
        for s in seqs:
            pointers.append(at)
            at += 2 * len(s)
        f.write(struct.pack("<%dq" % len(seqs), *pointers))


def write_tnt(prefix, seqs):
    """IndexedDataset (TNTIDX), dtype code 4 = int32, element size 4."""
    with open(prefix + ".bin", "wb") as b:
        for s in seqs:
            b.write(struct.pack("<%di" % len(s), *s))
    data_offsets, dim_offsets, sizes = [0], [0], []
    for s in seqs:
        data_offsets.append(data_offsets[-1] + len(s))
        sizes.append(len(s))
        dim_offsets.append(dim_offsets[-1] + 1)
    with open(prefix + ".idx", "wb") as f:
        f.write(b"TNTIDX\x00\x00")
        f.write(struct.pack("<Q", 1))
        f.write(struct.pack("<QQ", 4, 4))
        f.write(struct.pack("<QQ", len(seqs), len(sizes)))
        for arr in (dim_offsets, data_offsets, sizes):
            f.write(struct.pack("<%dq" % len(arr), *arr))


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(3)
    de, en = sentences(DE, 60, rng), sentences(EN, 60, rng)
    codes = io.StringIO()
    learn_bpe.learn_bpe(io.StringIO("\n".join(de + en) + "\n"), codes, 60, min_frequency=2)
    with open(os.path.join(OUT, "bpe.codes"), "w", encoding="utf-8") as f:
        f.write(codes.getvalue())
    bpe = apply_bpe.BPE(io.StringIO(codes.getvalue()))
    probe = de[:20] + en[:20] + ["  Fußballstraße  überquert   naïvely ", "x", "ab abab ababab", "Straßenfußball-Mädchen"]
    with open(os.path.join(OUT, "bpe.in"), "w", encoding="utf-8") as f:
        f.write("\n".join(probe) + "\n")
    with open(os.path.join(OUT, "bpe.out"), "w", encoding="utf-8") as f:
        f.write("\n".join(bpe.process_line(line) for line in probe) + "\n")
    seg_de = [bpe.process_line(s) for s in de]
    seg_en = [bpe.process_line(s) for s in en]
    dicts = {}
    for lang, lines in (("de", seg_de), ("en", seg_en)):
        entries = dictionary(lines)
        write_dict(os.path.join(OUT, "dict.%s.txt" % lang), entries)
        index = {w: 4 + i for i, (w, _) in enumerate(entries)}
        index[entries[0][0]] = 4 + len(entries)  # the overwrite line's new id
        dicts[lang] = index
    for split, lo, hi, writer in (("test", 0, 40, write_mmap), ("valid", 40, 60, write_tnt)):
        with open(os.path.join(OUT, split + ".ids"), "w") as f:
            for lang, lines in (("de", seg_de), ("en", seg_en)):
                seqs = [ids_of(s, dicts[lang]) for s in lines[lo:hi]]
                writer(os.path.join(OUT, "%s.de-en.%s" % (split, lang)), seqs)
                for s in seqs:
                    f.write("%s %s\n" % (lang, " ".join(map(str, s))))


if __name__ == "__main__":
    main()
