#!/usr/bin/python3
"""The PyTorch half of tests/lua/test_interop.lua.

    /usr/bin/python3 tests/interop/torch_side.py DIR DATA

DATA holds FashionMNIST's t10k-* and train-* IDX files (.gz). DIR holds what
the nnlua half wrote: nnlua.safetensors (model:save of the course MLP trained
in nnlua) and nnlua_0based.safetensors (the same through
nn.utils.shift_index(sd, -1)). This script
  - loads the nnlua model into the same PyTorch architecture (st.load, then
    st.shift_index(sd, -1)) and checks the 0-based file holds the same tensors;
  - trains the same architecture briefly in PyTorch and writes its state dict
    with st.save, once with PyTorch's names (torch.safetensors) and once
    renumbered for nnlua (torch_1based.safetensors);
  - writes out.safetensors: the logits of both models on the 10,000 test
    images ("logits_nnlua", "logits_torch") and the first 100 normalised
    test images ("inputs"), for the nnlua half to compare.
Exits non-zero with a message on any mismatch.
"""
import gzip, os, struct, sys
import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st  # noqa: E402  (the reader/writer shown in docs/interop.md)

MEAN, STD = np.float32(0.286), np.float32(0.353)


def idx(path):
    """An IDX file as a uint8 array: 4 magic bytes (the last one the rank), big-endian u32 dims, data."""
    with gzip.open(path) as f:
        raw = f.read()
    rank = raw[3]
    dims = struct.unpack(">%dI" % rank, raw[4:4 + 4 * rank])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * rank).reshape(dims)


def images(path):
    """[N, 1, 28, 28] float32 as nnlua's ToTensor + Normalize({0.286}, {0.353}): (x / 255 - mean) / std,
    each step rounded to float32 (numpy, like nnlua's C; torch may divide by a scalar as a product)."""
    x = idx(path).astype(np.float32) / np.float32(255)
    return torch.from_numpy(((x - MEAN) / STD)[:, None])


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                         nn.Linear(128, 10))


def main():
    out_dir, data = sys.argv[1], sys.argv[2]
    torch.manual_seed(0)
    x_test = images(os.path.join(data, "t10k-images-idx3-ubyte.gz"))

    # nnlua -> PyTorch
    model = mlp()
    sd = st.shift_index(st.load(os.path.join(out_dir, "nnlua.safetensors")), -1)
    model.load_state_dict(sd)  # strict: every name and shape must match
    shifted = st.load(os.path.join(out_dir, "nnlua_0based.safetensors"))
    if sorted(shifted) != sorted(sd) or not all(torch.equal(shifted[k], sd[k]) for k in sd):
        sys.exit("nn.utils.shift_index(sd, -1) in nnlua and st.shift_index(sd, -1) disagree: "
                 "%s vs %s" % (sorted(shifted), sorted(sd)))
    with torch.no_grad():
        logits_nnlua = model.eval()(x_test)

    # PyTorch -> nnlua: a few hundred SGD steps on the first 12,800 training images
    x = images(os.path.join(data, "train-images-idx3-ubyte.gz"))[:12800]
    y = torch.from_numpy(idx(os.path.join(data, "train-labels-idx1-ubyte.gz"))[:12800].astype(np.int64))
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for epoch in range(2):
        perm = torch.randperm(len(x))
        for i in range(0, len(x), 64):
            b = perm[i:i + 64]
            opt.zero_grad()
            nn.functional.cross_entropy(model(x[b]), y[b]).backward()
            opt.step()
    st.save(model.state_dict(), os.path.join(out_dir, "torch.safetensors"))
    st.save(st.shift_index(model.state_dict(), 1), os.path.join(out_dir, "torch_1based.safetensors"))
    with torch.no_grad():
        logits_torch = model.eval()(x_test)

    st.save({"logits_nnlua": logits_nnlua, "logits_torch": logits_torch, "inputs": x_test[:100]},
            os.path.join(out_dir, "out.safetensors"))


if __name__ == "__main__":
    main()
