#!/usr/bin/python3
"""PyTorch's side of make bench-data: one epoch of FashionMNIST training batches.

    /usr/bin/python3 bench/bench_data.py [epochs]

torchvision's FashionMNIST (PIL images) with ToTensor + Normalize, through
torch.utils.data.DataLoader(batch_size=64, shuffle=True), the way the course
sheet writes it (num_workers=0). torchvision wants the raw IDX files unpacked
in <root>/FashionMNIST/raw, so the Debian files are gunzipped into a
temporary folder first. Prints "torch <samples/s>" (the median epoch)."""
import sys
import tempfile
import time

import torch
import torchvision
from torchvision import transforms

from fmnist_raw import unpack_raw


def main():
    epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    with tempfile.TemporaryDirectory() as root:
        unpack_raw(root)
        tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.286,), (0.353,))])
        ds = torchvision.datasets.FashionMNIST(root, train=True, transform=tf, download=False)
        loader = torch.utils.data.DataLoader(ds, batch_size=64, shuffle=True)
        rates = []
        for _ in range(epochs):
            t0 = time.perf_counter()
            n = 0
            for x, y in loader:
                n += x.shape[0]
            rates.append(n / (time.perf_counter() - t0))
        rates.sort()
        print("torch %.1f" % rates[len(rates) // 2])


main()
