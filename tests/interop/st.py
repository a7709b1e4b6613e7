# st.py: safetensors files <-> PyTorch state dicts, with json and numpy only.
import json, struct
import numpy as np
import torch

DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4",
          "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?"}

def load(path):
    """{name: tensor} from a safetensors file; its __metadata__ is skipped."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header, data = json.loads(f.read(n)), f.read()
    out = {}
    for name, e in header.items():
        if name != "__metadata__":
            begin, end = e["data_offsets"]
            a = np.frombuffer(data[begin:end], DTYPES[e["dtype"]]).reshape(e["shape"])
            out[name] = torch.from_numpy(a.copy())
    return out

def save(tensors, path, metadata=None):
    """Writes {name: tensor} (a state_dict()) to a safetensors file."""
    header, chunks, offset = {"__metadata__": metadata} if metadata else {}, [], 0
    for name, t in tensors.items():
        a = t.detach().cpu().contiguous().numpy()
        dtype = next(k for k, d in DTYPES.items() if np.dtype(d) == a.dtype)
        b = a.astype(DTYPES[dtype]).tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)  # the spec allows trailing spaces; 8 keeps the data aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(chunks))

def shift_index(sd, delta):
    """Moves every whole-number part of the names by delta, as nnlua's nn.utils.shift_index."""
    num = lambda p: p == "0" or (p[:1] in "123456789" and p.isdigit())
    return {".".join(str(int(p) + delta) if num(p) else p for p in k.split(".")): v
            for k, v in sd.items()}
