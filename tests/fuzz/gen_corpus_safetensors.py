#!/usr/bin/python3
"""Writes the seed corpus of fuzz_safetensors.c (tests/fuzz/corpus/safetensors).

Small files in the layout nnlua writes (8-byte length, JSON header padded with
spaces to a multiple of 8, data): float32 tensors of 0 to 3 dims, an empty
tensor, every dtype the reader converts, __metadata__ with nnlua's structure
(including an "N" number array stored as F64/I64), and an empty header.
Deterministic: run once, /usr/bin/python3 tests/fuzz/gen_corpus_safetensors.py
"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "safetensors")


def st(entries, meta=None):
    """entries: list of (name, dtype, shape, bytes) -> a safetensors file."""
    header, data = {}, b""
    if meta is not None:
        header["__metadata__"] = meta
    for name, dtype, shape, raw in entries:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - (8 + len(h)) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + data


def f32(*v):
    return struct.pack("<%df" % len(v), *v)


def main():
    os.makedirs(OUT, exist_ok=True)
    seeds = {
        "linear.st": st([("fc.weight", "F32", [2, 3], f32(1, 2, 3, 4, 5, 6)),
                         ("fc.bias", "F32", [2], f32(-0.5, 0.5))], {"format": "pt"}),
        "scalar_empty.st": st([("s", "F32", [], f32(2.5)), ("e", "F32", [3, 0, 2], b"")]),
        "dtypes.st": st([("f64", "F64", [2], struct.pack("<2d", 1.5, -2.0)),
                         ("f16", "F16", [2], struct.pack("<2H", 0x3C00, 0x7C00)),
                         ("bf16", "BF16", [1], struct.pack("<H", 0x3F80)),
                         ("i64", "I64", [1], struct.pack("<q", -7)),
                         ("i32", "I32", [1], struct.pack("<i", 9)),
                         ("i16", "I16", [1], struct.pack("<h", -3)),
                         ("i8", "I8", [2], b"\x80\x7f"),
                         ("u8", "U8", [2], b"\x00\xff"),
                         ("bool", "BOOL", [2], b"\x00\x01")]),
        "nnlua.st": st([("w", "F32", [1, 2], f32(1, 2)),
                        ("log", "F64", [3], struct.pack("<3d", 0.1, 0.2, float("nan"))),
                        ("steps", "I64", [2], struct.pack("<2q", 1, 2))],
                       {"format": "pt", "nnlua": json.dumps(
                           {"root": {"t": [["s:log", {"N": "log"}], ["s:steps", {"N": "steps"}],
                                           ["s:w", {"T": "w"}],
                                           ["s:x", {"t": [["i:1", {"f": "0x1.8p+1"}],
                                                          ["i:2", {"s": "a\"b"}],
                                                          ["x:00ff", {"x": "00ff"}],
                                                          ["i:3", {"b": True}]]}]]},
                            "v": 2}, separators=(",", ":"))}),
        "empty.st": st([]),
        "zero_dim.st": st([("z", "F32", [0, 3, 2], b""), ("one", "U8", [1, 1, 1], b"\x07")]),
    }
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
