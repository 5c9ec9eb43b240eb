"""The model artifact format: named arrays laid out raw, so a web worker maps them instead of reading them.

An artifact is ``MAGIC``, the length of a JSON header (8 bytes, little-endian), the header, then
every array's bytes, each starting at a multiple of ``ALIGN``. The header is a tree: a model's
name and parameters, its arrays as ``[offset, bytes, dtype, shape]`` (the offset counted from
the start of the data), and its nested models (a hybrid's parts) under ``children``, laid out the
same way in the same file. Arrays with the same bytes, dtype and shape are stored once (a hybrid's
parts share the histories and ids of the users they were fitted on).

Loading from a file maps it (``numpy.memmap``, copy-on-write): no byte is read until a request
touches it, the operating system's page cache is shared by every process serving the file, and
load time no longer grows with the users. Loading from bytes takes views of one writable copy of
them. Only plain numeric, boolean and string dtypes are accepted, never objects: no code runs on
load.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

MAGIC = b"\x93PROMOTIONS-MODEL\n"
ALIGN = 64
#: Array kinds an artifact may hold: booleans, integers, floats, complex, unicode and byte strings.
KINDS = frozenset("biufcUS")

Tree = dict[str, Any]  # {"model", "params", "arrays": {name: ndarray}, "children": {name: Tree}}


def is_artifact(prefix: bytes) -> bool:
    """Whether these leading bytes are this format's (an older artifact is a zip file)."""
    return prefix[: len(MAGIC)] == MAGIC


def dumps(tree: Tree, header: Mapping[str, Any] | None = None) -> bytes:
    """The tree as artifact bytes; ``header`` adds top-level keys (the format version)."""
    out = io.BytesIO()
    dump(tree, out, header)
    return out.getvalue()


def dump(tree: Tree, out: io.RawIOBase | io.BufferedIOBase, header: Mapping[str, Any] | None = None) -> None:
    blobs: list[tuple[int, np.ndarray]] = []
    where: dict[tuple[str, tuple[int, ...], bytes], list[int]] = {}
    size = 0

    def place(array: np.ndarray) -> list[Any]:
        nonlocal size
        array = np.ascontiguousarray(array)
        check_dtype(array.dtype)
        raw = as_bytes(array)
        key = (array.dtype.str, array.shape, hashlib.blake2b(raw, digest_size=20).digest())
        if key not in where:
            size = -(-size // ALIGN) * ALIGN
            where[key] = [size, array.nbytes]
            blobs.append((size, array))
            size += array.nbytes
        return [*where[key], array.dtype.str, list(array.shape)]

    def layout(node: Tree) -> Tree:
        return {
            "model": node["model"],
            "params": node["params"],
            "arrays": {name: place(np.asarray(array)) for name, array in node["arrays"].items()},
            "children": {name: layout(child) for name, child in node.get("children", {}).items()},
        }

    encoded = json.dumps({**(header or {}), **layout(tree)}).encode()
    start = -(-(len(MAGIC) + 8 + len(encoded)) // ALIGN) * ALIGN
    out.write(MAGIC + len(encoded).to_bytes(8, "little") + encoded)
    written = len(MAGIC) + 8 + len(encoded)
    for offset, array in blobs:
        offset += start
        out.write(b"\0" * (offset - written))
        out.write(as_bytes(array))
        written = offset + array.nbytes


def as_bytes(array: np.ndarray) -> np.ndarray:
    """A contiguous array's bytes, without a copy."""
    return array.reshape(-1).view(np.uint8) if array.nbytes else np.zeros(0, np.uint8)


def check_dtype(dtype: np.dtype) -> None:
    if dtype.kind not in KINDS or dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise ValueError(f"An artifact cannot hold arrays of dtype {dtype}")


def load(source: bytes | bytearray | memoryview | str | os.PathLike[str]) -> tuple[dict[str, Any], Tree]:
    """(the header's top-level keys, the tree with read-only arrays) of artifact bytes or a file.

    A file is memory-mapped; bytes are viewed in place. Raises ``ValueError`` on anything that is
    not a well-formed artifact (truncated, foreign, or with arrays outside the data).
    """
    if isinstance(source, (str, os.PathLike)):
        # Copy-on-write: scipy sorts some matrices' indices in place; such a write stays in this
        # process's own pages and never reaches the file.
        buffer = np.memmap(source, dtype=np.uint8, mode="c") if os.path.getsize(source) else np.zeros(0, np.uint8)
    else:
        buffer = np.frombuffer(source if isinstance(source, bytearray) else bytearray(source), dtype=np.uint8)
    if not is_artifact(bytes(buffer[: len(MAGIC)])):
        raise ValueError("Not a model artifact")
    length = int.from_bytes(bytes(buffer[len(MAGIC) : len(MAGIC) + 8]), "little")
    end = len(MAGIC) + 8 + length
    if length <= 0 or end > len(buffer):
        raise ValueError("Truncated model artifact")
    try:
        header = json.loads(bytes(buffer[len(MAGIC) + 8 : end]))
    except ValueError as error:
        raise ValueError(f"Corrupt model artifact header: {error}") from None
    start = -(-end // ALIGN) * ALIGN

    def view(entry: Any) -> np.ndarray:
        try:
            offset, nbytes, dtype, shape = int(entry[0]), int(entry[1]), np.dtype(entry[2]), tuple(map(int, entry[3]))
        except (TypeError, ValueError, IndexError) as error:
            raise ValueError(f"Corrupt model artifact entry {entry!r}: {error}") from None
        check_dtype(dtype)
        if offset < 0 or min(shape, default=0) < 0 or nbytes != dtype.itemsize * int(np.prod(shape)):
            raise ValueError(f"Corrupt model artifact entry {entry!r}")
        if start + offset + nbytes > len(buffer):
            raise ValueError("Truncated model artifact")
        if not nbytes:
            return np.zeros(shape, dtype=dtype)
        return buffer[start + offset : start + offset + nbytes].view(dtype).reshape(shape)

    def restore(node: Any) -> Tree:
        if not isinstance(node, dict) or not isinstance(node.get("arrays"), dict):
            raise ValueError("Corrupt model artifact header")
        return {
            "model": node.get("model"),
            "params": node.get("params") or {},
            "arrays": {name: view(entry) for name, entry in node["arrays"].items()},
            "children": {name: restore(child) for name, child in (node.get("children") or {}).items()},
        }

    tree = restore(header)
    return {key: value for key, value in header.items() if key not in ("arrays", "children", "params")}, tree


class IdIndex(Mapping[str, int]):
    """id -> row of an array of ids, by binary search over the ids in sorted order (``order``).

    Built in no time for any number of ids (a dict of 277k users takes a worker about 0.1 s and
    30 MB); a blank id (a forgotten user's row) answers to no id.
    """

    def __init__(self, ids: np.ndarray, order: np.ndarray | None = None):
        self.ids = ids
        self.order = np.argsort(ids, kind="stable") if order is None else order

    def get(self, key: Any, default: Any = None) -> Any:
        if not isinstance(key, str) or not key or not len(self.ids):
            return default
        position = int(np.searchsorted(self.ids, key, sorter=self.order))
        if position < len(self.order):
            row = int(self.order[position])
            if self.ids[row] == key:
                return row
        return default

    def __getitem__(self, key: str) -> int:
        row = self.get(key)
        if row is None:
            raise KeyError(key)
        return row

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None

    def __iter__(self) -> Iterator[str]:
        return (user for user in self.ids.tolist() if user)

    def __len__(self) -> int:
        return int(np.count_nonzero(self.ids != ""))
