"""fmnist_raw.py -- Debian's FashionMNIST for the PyTorch side of make bench.

SRC is where dataset-fashion-mnist puts the gzipped IDX files; unpack_raw(root)
lays them out unpacked in <root>/FashionMNIST/raw, where torchvision's
FashionMNIST(root, download=False) looks for them."""
import gzip
import os
import shutil

SRC = "/usr/share/datasets/fashion-mnist"


def unpack_raw(root):
    raw = os.path.join(root, "FashionMNIST", "raw")
    os.makedirs(raw)
    for name in os.listdir(SRC):
        if name.endswith(".gz"):
            with gzip.open(os.path.join(SRC, name)) as f, open(os.path.join(raw, name[:-3]), "wb") as out:
                shutil.copyfileobj(f, out)
