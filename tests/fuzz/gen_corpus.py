#!/usr/bin/python3
"""Writes the seed corpus of the fuzzers (tests/fuzz/corpus/{png,idx}).

PNG seeds: copies of some fixtures of tests/fixtures/png (see gen_png.py there)
plus one RGBA image with text, gamma and physical-size chunks. IDX seeds: 3
images of 2x2 and their 3 labels, plain and gzip (mtime 0, so the bytes do not
change between runs). Run once: /usr/bin/python3 tests/fuzz/gen_corpus.py
"""
import gzip
import os
import shutil
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "fixtures", "png")
PNG = os.path.join(HERE, "corpus", "png")
IDX = os.path.join(HERE, "corpus", "idx")


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def rgba_with_chunks():
    w, h = 3, 2
    def row(y):
        return b"\x00" + bytes(v for x in range(w) for v in (40 * x, 60 * y, 90, 255 - 50 * x))
    raw = b"".join(row(y) for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)) +
            chunk(b"gAMA", struct.pack(">I", 45455)) +
            chunk(b"pHYs", struct.pack(">IIB", 2835, 2835, 1)) +
            chunk(b"tEXt", b"Title\x00seed") +
            chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(b"a compressed comment")) +
            chunk(b"IDAT", zlib.compress(raw, 9)) +
            chunk(b"IEND", b""))


def idx(magic, dims, data):
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + data


def main():
    os.makedirs(PNG, exist_ok=True)
    os.makedirs(IDX, exist_ok=True)
    for name in ["pal_trns.png", "gray16.png", "rgba16.png", "gray1.png", "gray_alpha.png",
                 "rgb_interlaced.png"]:
        shutil.copyfile(os.path.join(FIX, name), os.path.join(PNG, name))
    with open(os.path.join(PNG, "rgba_chunks.png"), "wb") as f:
        f.write(rgba_with_chunks())
    images = idx(0x00000803, [3, 2, 2], bytes(range(0, 240, 20)))
    labels = idx(0x00000801, [3], bytes([7, 0, 9]))
    for name, data in [("images-idx3-ubyte", images), ("labels-idx1-ubyte", labels)]:
        with open(os.path.join(IDX, name), "wb") as f:
            f.write(data)
        with open(os.path.join(IDX, name + ".gz"), "wb") as f:
            f.write(gzip.compress(data, 9, mtime=0))


main()
