"""CTranslate2's ``model.bin``, read by our own code (no CTranslate2 needed to read it).

Binary format version 6, as the ``ctranslate2`` package's ``specs/model_spec.py``
(``ModelSpec._serialize``) writes it, all integers little-endian::

    uint32 version (6) | string spec name | uint32 spec revision | uint32 n
    n x (string name | uint8 rank | rank x uint32 dim | uint8 dtype | uint32 nbytes | nbytes raw)
    uint32 m | m x (string alias | string name)

where a string is ``uint16 length (with its NUL) | bytes | NUL`` and dtype is the index in
``(float32, int8, int16, int32, float16, bfloat16)``. An alias is a tensor stored once under
another name (e.g. Whisper's output projection = its token embedding).

Quantised weights (int8 / int16 with a ``weight_scale``) are refused by name: reading them would
approximate the model's weights, silently.
"""
from __future__ import annotations

import dataclasses
import mmap
import os
import struct
from pathlib import Path

import numpy as np

VERSION = 6
DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")
FLOATS = ("float32", "float16", "bfloat16")


class ModelBinError(ValueError):
    """A model.bin that is not a complete CTranslate2 version-6 file of float weights."""


@dataclasses.dataclass
class ModelBin:
    path: Path
    spec: str  # e.g. "WhisperSpec"
    revision: int
    tensors: dict[str, np.ndarray]  # name -> array as stored (float16 stays float16)
    dtypes: dict[str, str]
    aliases: dict[str, str]

    def get(self, name: str) -> np.ndarray:
        return self.tensors[self.aliases.get(name, name)]

    def __contains__(self, name: str) -> bool:
        return self.aliases.get(name, name) in self.tensors

    def names(self, prefix: str = "") -> list[str]:
        return sorted(n for n in [*self.tensors, *self.aliases] if n.startswith(prefix))


class _Reader:
    def __init__(self, path: Path, data: memoryview):
        self.path, self.data, self.at = path, data, 0

    def take(self, size: int, what: str) -> memoryview:
        if self.at + size > len(self.data):
            raise ModelBinError(
                f"{self.path}: ends at byte {len(self.data):,} while reading {what} (needs {self.at + size:,}): "
                "the file is truncated, or a split model.bin was joined from only some of its parts")
        out = self.data[self.at : self.at + size]
        self.at += size
        return out

    def uint(self, fmt: str, what: str) -> int:
        return struct.unpack("<" + fmt, self.take(struct.calcsize(fmt), what))[0]

    def string(self, what: str) -> str:
        length = self.uint("H", what)
        raw = bytes(self.take(length, what))
        if not raw.endswith(b"\0"):
            raise ModelBinError(f"{self.path}: {what} is not a NUL-terminated string at byte {self.at - length:,}")
        return raw[:-1].decode("utf-8", errors="replace")


def read_model_bin(path: str | os.PathLike, keep=lambda name: True) -> ModelBin:
    """Every tensor of ``path`` (those ``keep(name)`` accepts are decoded, the others skipped)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (a CTranslate2 model folder holds model.bin)")
    with open(path, "rb") as f:  # memory-mapped: the skipped tensors (a decoder) are never read
        if os.fstat(f.fileno()).st_size == 0:
            raise ModelBinError(f"{path}: empty file")
        data = memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ))
    r = _Reader(path, data)
    version = r.uint("I", "the format version")
    if version != VERSION:
        raise ModelBinError(f"{path}: CTranslate2 binary format version {version}; this reader follows version "
                            f"{VERSION} (ctranslate2 >= 3); convert the model again with a current ctranslate2")
    spec = r.string("the spec name")
    revision = r.uint("I", "the spec revision")
    count = r.uint("I", "the tensor count")
    tensors, dtypes = {}, {}
    for index in range(count):
        what = f"tensor {index + 1} of {count}"
        name = r.string(what)
        rank = r.take(1, what)[0]
        shape = tuple(r.uint("I", f"{name}'s shape") for _ in range(rank))
        code = r.take(1, f"{name}'s dtype")[0]
        if code >= len(DTYPES):
            raise ModelBinError(f"{path}: {name} has dtype code {code}, not one of {DTYPES}")
        nbytes = r.uint("I", f"{name}'s size")
        raw = r.take(nbytes, f"{name}'s {nbytes:,} bytes")
        dtype = DTYPES[code]
        dtypes[name] = dtype
        if not keep(name):
            continue
        numpy_dtype = np.uint16 if dtype == "bfloat16" else np.dtype(dtype)
        array = np.frombuffer(raw, dtype=numpy_dtype)
        if array.size != int(np.prod(shape, dtype=np.int64)):
            raise ModelBinError(f"{path}: {name} holds {array.size} values for shape {shape}")
        tensors[name] = array.reshape(shape)
    aliases = {}
    for _ in range(r.uint("I", "the alias count")):
        alias = r.string("an alias")
        aliases[alias] = r.string(f"the target of alias {alias}")
    if r.at != len(data):
        raise ModelBinError(f"{path}: {len(data) - r.at:,} bytes after the last alias; a model.bin ends there "
                            "(two files joined, or parts joined in the wrong order?)")
    return ModelBin(path, spec, revision, tensors, dtypes, aliases)


def as_float32(model: ModelBin, name: str) -> np.ndarray:
    """A float tensor as float32: exact for float16 and bfloat16. Quantised weights are refused."""
    stored = model.aliases.get(name, name)
    dtype = model.dtypes[stored]
    if dtype not in FLOATS:
        scale = stored.rsplit("/", 1)[0] + "/weight_scale"
        raise ModelBinError(
            f"{model.path}: {name} is stored as {dtype}"
            + (f" with a {scale} (quantised by ct2-transformers-converter --quantization)" if scale in model.dtypes else "")
            + "; reading it would approximate the model's weights. Convert the model again with "
            "--quantization float16 or float32 (or none), or give its Hugging Face / OpenAI checkpoint")
    array = model.tensors[stored]
    if dtype == "bfloat16":
        return (array.astype(np.uint32) << 16).view(np.float32)
    return array.astype(np.float32)
