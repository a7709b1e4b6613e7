#!/usr/bin/python3
"""PyTorch's side of make bench: epochs of the issue's MLP on demand.

    /usr/bin/python3 bench/train.py <preloaded|textbook> <adam|sgd> <threads|default>

The same model, loss, optimizer and loop as bench/train.lua:
MLP 784-256-128-10 with ReLU, batch 64, CrossEntropyLoss, 50,000 of
FashionMNIST's 60,000 training images (random_split 50,000 / 10,000),
ToTensor + Normalize((0.286,), (0.353,)), 782 steps an epoch, each
forward, loss, zero_grad, backward, step, loss.item().

preloaded  the images are read once from Debian's IDX files and normalised
           into one float tensor; each step takes its batch with an index
           (a fresh permutation each epoch)
textbook   torchvision.datasets.FashionMNIST with transforms.ToTensor() and
           Normalize, torch.utils.data.DataLoader(batch_size=64, shuffle=True)

threads    torch.set_num_threads(n) before anything runs; "default" keeps
           PyTorch's own choice.

Once set up it prints "ready"; then commands come on standard input, one a
line (bench/bench.lua sends them):
  epoch [limit]  one epoch; with a limit in seconds, stops early once the
                 epoch has run that long; answers
                 "epoch <seconds> <mean loss> <steps done>"
  quit           answers "rss <peak resident kB> <threads used>" and exits
"""
import gzip
import os
import shutil
import sys
import tempfile
import time

import numpy as np
import torch
from torch import nn

from fmnist_raw import SRC, unpack_raw
MEAN, STD = 0.286, 0.353


def idx_array(name, offset):
    with gzip.open(os.path.join(SRC, name)) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def split_indices():
    g = torch.Generator().manual_seed(42)
    train, _ = torch.utils.data.random_split(range(60000), [50000, 10000], generator=g)
    return torch.tensor(list(train.indices))


def preloaded_batches():
    """An epoch function yielding (x, y) from one pre-normalised tensor."""
    images = torch.from_numpy(idx_array("train-images-idx3-ubyte.gz", 16).copy()).view(60000, 1, 28, 28)
    labels = torch.from_numpy(idx_array("train-labels-idx1-ubyte.gz", 8).astype(np.int64))
    keep = split_indices()
    x_all = images[keep].float().div_(255).sub_(MEAN).div_(STD)
    y_all = labels[keep]
    g = torch.Generator().manual_seed(1)

    def epoch():
        perm = torch.randperm(x_all.shape[0], generator=g)
        for i in range(0, x_all.shape[0], 64):
            idx = perm[i:i + 64]
            yield x_all[idx], y_all[idx]
    return epoch, None


def textbook_batches():
    """torchvision's dataset with transforms, through a DataLoader. torchvision
    wants the raw IDX files unpacked in <root>/FashionMNIST/raw."""
    import torchvision
    from torchvision import transforms
    root = tempfile.mkdtemp(prefix="nnlua-bench-")
    unpack_raw(root)
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((MEAN,), (STD,))])
    full = torchvision.datasets.FashionMNIST(root, train=True, transform=tf, download=False)
    train, _ = torch.utils.data.random_split(full, [50000, 10000], generator=torch.Generator().manual_seed(42))
    loader = torch.utils.data.DataLoader(train, batch_size=64, shuffle=True,
                                         generator=torch.Generator().manual_seed(1))
    return (lambda: iter(loader)), root


def peak_rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("preloaded", "textbook") or sys.argv[2] not in ("adam", "sgd"):
        sys.exit("usage: bench/train.py <preloaded|textbook> <adam|sgd> <threads|default>")
    how, which, threads = sys.argv[1:]
    if threads != "default":
        torch.set_num_threads(int(threads))
    epoch_batches, tmp = preloaded_batches() if how == "preloaded" else textbook_batches()
    torch.manual_seed(7)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                          nn.Linear(128, 10))
    loss_fn = nn.CrossEntropyLoss()
    if which == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    print("ready", flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if cmd and cmd[0] == "epoch":
            limit = float(cmd[1]) if len(cmd) > 1 else float("inf")
            t0 = time.perf_counter()
            total, steps = 0.0, 0
            for x, y in epoch_batches():
                loss = loss_fn(model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += loss.item()
                steps += 1
                if time.perf_counter() - t0 > limit:
                    break
            elapsed = time.perf_counter() - t0
            if steps == 782 or elapsed > limit:
                print("epoch %.6f %.9g %d" % (elapsed, total / steps, steps), flush=True)
            else:
                sys.exit("train.py: expected 782 steps, got %d" % steps)
        elif cmd == ["quit"]:
            print("rss %d %d" % (peak_rss_kb(), torch.get_num_threads()), flush=True)
            break
        else:
            sys.exit("train.py: unknown command %r" % line)
    if tmp:
        shutil.rmtree(tmp)


main()
