#!/usr/bin/python3
"""Writes the seed corpus of the fuzzers (tests/fuzz/corpus/{png,idx,shape,safetensors}).

PNG seeds: copies of some fixtures of tests/fixtures/png (see gen_png.py there)
plus one RGBA image with text, gamma and physical-size chunks. IDX seeds: 3
images of 2x2 and their 3 labels, plain and gzip (mtime 0, so the bytes do not
change between runs). Shape seeds: programs in the format of shape_one.h, one
per reproduction of issue 13 and per op family (make test replays them).
Safetensors seeds: files of every dtype, metadata, empty and 0-d tensors, and
the refused header with shape [0, 2^40, 2^40].
Run once: /usr/bin/python3 tests/fuzz/gen_corpus.py
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
SHAPE = os.path.join(HERE, "corpus", "shape")
ST = os.path.join(HERE, "corpus", "safetensors")


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


# ---- shape programs (the byte format of shape_one.h) ----

# indices into SHAPE_SPECIAL of shape_one.h
SPECIAL = [0, 1, 2, 3, 4, 7, 16, 64, 1 << 19, (1 << 19) + 1, 1 << 20, (1 << 31) - 1, 1 << 31,
           1 << 32, (1 << 32) + 2, (1 << 37) + 1, (1 << 38) - 1, 1 << 38, (1 << 38) + 1, 1 << 40,
           1 << 62, (1 << 62) + 1, (1 << 63) - 1, -(1 << 63), -(1 << 63) + 1, -2, -(1 << 40),
           291028859863088071, 543804029693342783, 4348471222203600969]
OPS = ["view", "reshape", "narrow", "expand", "permute", "transpose", "squeeze", "unsqueeze",
       "select", "flatten", "cat", "stack", "index_select", "matmul", "add", "contiguous", "sum",
       "empty", "view_of"]


def size(v):
    """One size: small ones in a byte, the edge values by index, others raw."""
    if -1 <= v <= 10:
        return bytes([v + 1])
    if v in SPECIAL:
        return bytes([0xC0 + SPECIAL.index(v)])
    return b"\xff" + struct.pack("<q", v)


def dim(d):
    assert -2 <= d <= 8
    return bytes([d + 2])


def sizes(vs):
    return bytes([len(vs)]) + b"".join(size(v) for v in vs)


def op(name, dst, src, *args):
    """args: bytes, already encoded with size/dim/sizes."""
    return bytes([OPS.index(name), dst, src]) + b"".join(args)


def base(shape):
    return bytes([len(shape)] + list(shape))


# Slots: 0 the base tensor (1, 2, ... viewed as the base shape), 1 a [1] of ones,
# 2 arange 1..6, 3 a 0-d 5.
P62, MAX = 1 << 62, 1 << 38
SHAPE_SEEDS = {
    "issue_view_wraps": base([]) + op("view", 0, 3, sizes([291028859863088071, 543804029693342783,
                                                            4348471222203600969]))
                        + op("reshape", 0, 0, sizes([291028859863088071, 543804029693342783,
                                                     4348471222203600969]))
                        + op("view", 0, 0, sizes([-1, P62])),
    "issue_narrow_overflows": base([2, 3]) + op("narrow", 0, 2, dim(0), size(P62 + 1), size(P62))
                              + op("narrow", 0, 2, dim(0), size((1 << 63) - 1), size((1 << 63) - 1))
                              + op("narrow", 1, 2, dim(0), size(6), size(0))
                              + op("narrow", 0, 0, dim(1), size(1), size(2)),
    "issue_expand_sum": base([]) + op("expand", 0, 1, sizes([P62 + 1, 4]))
                        + op("expand", 0, 1, sizes([1 << 19, 1 << 19])) + op("sum", 0, 1, dim(-1))
                        + op("expand", 0, 1, sizes([(1 << 19) + 1, 1 << 19])),
    "issue_zero_huge": base([0]) + op("empty", 1, 0, sizes([0, 1 << 40, 1 << 40]))
                       + op("view", 1, 0, sizes([0, 1 << 40, 1 << 40]))
                       + op("empty", 1, 0, sizes([0, 1 << 19, 1 << 19]))
                       + op("flatten", 2, 1, dim(0), dim(2)) + op("contiguous", 3, 1)
                       + op("sum", 3, 1, dim(1)) + op("transpose", 1, 1, dim(0), dim(2))
                       + op("unsqueeze", 1, 1, dim(1)) + op("expand", 0, 1, sizes([0, MAX, 1])),
    "found_matmul_expanded_vector": base([]) + op("expand", 0, 1, sizes([64]))
                                    + op("matmul", 2, 0, bytes([0]))
                                    + op("expand", 3, 1, sizes([3])) + op("view", 1, 2, sizes([3, 2]))
                                    + op("matmul", 0, 3, bytes([1])) + op("matmul", 0, 1, bytes([3])),
    "found_reduce_empty_loop": base([]) + op("empty", 1, 0, sizes([1 << 17, 1 << 17, 3, 0]))
                               + op("sum", 2, 1, dim(2)) + op("sum", 2, 1, dim(3))
                               + op("sum", 2, 1, dim(0)) + op("contiguous", 3, 1),
    "views": base([2, 3, 4]) + op("permute", 1, 0, dim(2), dim(0), dim(1))
             + op("transpose", 2, 1, dim(0), dim(2)) + op("contiguous", 3, 2)
             + op("view", 3, 3, sizes([4, -1])) + op("reshape", 2, 2, sizes([-1]))
             + op("squeeze", 1, 0, dim(-1)) + op("unsqueeze", 1, 1, dim(3))
             + op("select", 1, 1, dim(1), size(2)) + op("select", 1, 0, dim(0), size((1 << 63) - 1))
             + op("flatten", 1, 0, dim(1), dim(2)) + op("view", 1, 0, sizes([1, 2, 1, 12, 1]))
             + op("permute", 1, 0, dim(0), dim(0), dim(1)) + op("transpose", 1, 0, dim(1), dim(8))
             + op("unsqueeze", 1, 0, dim(8)) + op("view", 1, 0, sizes([1] * 9)),
    "cat_stack_index": base([2, 3]) + op("cat", 1, 0, bytes([2]), dim(0), bytes([0, 0, 0]))
                       + op("cat", 1, 0, bytes([1]), dim(1), bytes([0, 2]))
                       + op("stack", 2, 0, bytes([3]), dim(0), bytes([0, 0, 0, 0]))
                       + op("expand", 3, 1, sizes([MAX // 2 + 1]))
                       + op("cat", 2, 0, bytes([1]), dim(0), bytes([3, 3]))
                       + op("index_select", 1, 0, dim(1), bytes([4]), size(1), size(3), size(0),
                            size(1 << 40), bytes([1]))
                       + op("index_select", 1, 0, dim(0), bytes([2]), size(2), size(1), bytes([0]))
                       + op("expand", 3, 3, sizes([4, -1])) + op("index_select", 2, 3, dim(0),
                                                                 bytes([1]), size(1), bytes([0])),
    "broadcast_matmul": base([3, 1]) + op("add", 2, 0, bytes([2]))
                        + op("expand", 1, 1, sizes([1 << 20, 1])) + op("expand", 3, 0, sizes([3, 4]))
                        + op("transpose", 2, 1, dim(0), dim(1)) + op("add", 0, 1, bytes([2]))
                        + op("matmul", 0, 1, bytes([2])) + op("matmul", 3, 3, bytes([3]))
                        + op("view", 3, 3, sizes([1, 3, 4])) + op("matmul", 0, 3, bytes([0])),
    "view_of_edges": base([4]) + op("view_of", 1, 0, sizes([2, 2]), size(2), size(1), size(0))
                     + op("view_of", 1, 0, sizes([2]), size(3), size(1))
                     + op("view_of", 1, 0, sizes([2]), size(-1), size(0))
                     + op("view_of", 1, 0, sizes([0, MAX]), size(7), size(MAX), size(1 << 40))
                     + op("view_of", 1, 0, sizes([P62, P62]), size(0), size(0), size(0))
                     + op("view_of", 1, 0, sizes([1]), size(0), size((1 << 63) - 1)),
}


# ---- safetensors files ----

def safetensors(entries, meta=None, pad=True, data=None):
    """entries: (name, dtype, shape, raw bytes); offsets follow one another."""
    import json
    header, blob = {}, b""
    if meta is not None:
        header["__metadata__"] = meta
    for name, dtype, shape, raw in entries:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    h = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        h += b" " * (-(8 + len(h)) % 8)
    return struct.pack("<Q", len(h)) + h + (blob if data is None else data)


def st_seeds():
    f32 = struct.pack("<6f", 1, -2.5, 3, 0, float("inf"), float("nan"))
    return {
        "f32_2x3": safetensors([("w", "F32", [2, 3], f32)]),
        "dtypes": safetensors([
            ("f64", "F64", [2], struct.pack("<2d", 1.5, -1e300)),
            ("f16", "F16", [3], struct.pack("<3H", 0x3C00, 0x7C00, 0x0001)),
            ("bf16", "BF16", [2], struct.pack("<2H", 0x3F80, 0xFF80)),
            ("i64", "I64", [1], struct.pack("<q", -(1 << 62))),
            ("i32", "I32", [2], struct.pack("<2i", -7, 1 << 30)),
            ("i16", "I16", [1], struct.pack("<h", -300)),
            ("i8", "I8", [2], struct.pack("<2b", -128, 127)),
            ("u8", "U8", [3], bytes([0, 128, 255])),
            ("bool", "BOOL", [2], bytes([0, 1])),
        ]),
        "meta_nested_names": safetensors([("model.fc1.weight", "F32", [1, 2], struct.pack("<2f", 1, 2)),
                                          ("model.fc1.bias", "F32", [], struct.pack("<f", 3))],
                                         meta={"format": "pt", "nnlua": "{\"keys\":[]}"}),
        "empty_and_scalar": safetensors([("e", "F32", [0, 3], b""), ("s", "F32", [], struct.pack("<f", 7)),
                                         ("z", "U8", [2, 0, 4], b"")]),
        "zero_huge_refused": safetensors([("x", "F32", [0, 1 << 40, 1 << 40], b"")]),
        "eight_dims": safetensors([("x", "I8", [1, 2, 1, 2, 1, 2, 1, 1], bytes(range(8)))]),
        "unpadded_trailing": safetensors([("a", "F32", [1], struct.pack("<f", 1))], pad=False,
                                         data=struct.pack("<f", 1) + b"extra"),
    }


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
    for folder, seeds in [(SHAPE, SHAPE_SEEDS), (ST, st_seeds())]:
        os.makedirs(folder, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(folder, name), "wb") as f:
                f.write(data)


main()
