"""The skops schema, checked as JSON before skops reads a byte of the payload.

skops builds a file's objects from ``schema.json``: a tree of nodes, each naming a loader
(how to build it) and a class. This walk accepts only the loaders, classes and node shapes
that the project's own pipelines produce (the allow-list in :mod:`automl.bundle._allowed`),
so nothing else is ever constructed: no function or method references, no
``ConstructorFromReduceNode`` (a call of an allowed type with arguments from the file, such
as ``lightgbm.basic.Booster(None, None, "/some/path")``), no cached references. It also
bounds what building costs: every zip member must be read by exactly one node (one 64 MiB
array referenced 2,000 times would ask for ~128 GiB), and the header of every array must
agree with the member's size before numpy allocates anything. Every occurrence of a node is
checked, including repeats of an ``__id__`` that skops resolves to an earlier node.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from numpy.lib import format as npy

from automl.bundle._allowed import KEY_TYPES, ROOT_CLASSES, loaders
from automl.bundle._format import (
    MANIFEST_NAME,
    REEXPORT,
    REFERENCE_NAME,
    SCHEMA_NAME,
    max_model_bytes,
    read_member,
)
from automl.errors import ModelFileError, UnsafeModelError

_BASE = frozenset({"__class__", "__module__", "__loader__", "__id__"})
_LEAVES = frozenset({"JsonNode", "TypeNode", "NdArrayNode", "BytearrayNode", "SparseMatrixNode"})
_EXTENSIONS = {"NdArrayNode": ".npy", "BytearrayNode": ".bin", "SparseMatrixNode": ".npz"}
_NPZ_MEMBERS = frozenset({"data.npy", "indices.npy", "indptr.npy", "format.npy", "shape.npy"})
MAX_SCHEMA_BYTES = 64 * 2**20
MAX_DEPTH = 200  # nodes from the root; an ensemble of every family needs 21
MAX_NDIM = 4


def audit(zf: zipfile.ZipFile, path: Path) -> dict:
    """Check ``schema.json`` and the members it names; return the parsed schema."""
    if SCHEMA_NAME not in zf.namelist():
        raise ModelFileError(f"{path} has no model payload ({SCHEMA_NAME}). {REEXPORT}")
    try:
        schema = json.loads(read_member(zf, SCHEMA_NAME, path, MAX_SCHEMA_BYTES))
    except (ValueError, RecursionError) as e:
        raise ModelFileError(f"{path} has a damaged model payload ({SCHEMA_NAME}: {e}). "
                             + REEXPORT) from None
    _Walk(path).run(schema, zf)
    return schema


def _refuse(path: Path, what: str) -> UnsafeModelError:
    err = UnsafeModelError(f"{path} holds {what}, which automl does not write; it was made or "
                           f"edited by something else and is not loaded. {REEXPORT}")
    err.what = what
    return err


class _Walk:
    def __init__(self, path: Path):
        self.path = path
        self.seen: dict[int, dict] = {}
        self.files: dict[str, tuple[str, set[int]]] = {}
        self.sparse: dict[str, str] = {}  # member -> the format its class implies
        self.loaders = loaders()

    def run(self, schema, zf: zipfile.ZipFile) -> None:
        from skops.io._protocol import PROTOCOL

        if not isinstance(schema, dict) or schema.get("protocol") != PROTOCOL or not isinstance(
                schema.get("_skops_version"), str):
            raise ModelFileError(f"{self.path}: the model payload is not skops protocol "
                                 f"{PROTOCOL} as this automl writes it. {REEXPORT}")
        root = {k: v for k, v in schema.items() if k not in ("protocol", "_skops_version")}
        if f"{root.get('__module__')}.{root.get('__class__')}" not in ROOT_CLASSES:
            raise _refuse(self.path, "a payload that is not a pipeline or an ensemble")
        stack = [(root, 1)]
        while stack:
            node, depth = stack.pop()
            if depth > MAX_DEPTH:
                raise _refuse(self.path, f"objects nested more than {MAX_DEPTH} deep")
            stack.extend((child, depth + 1) for child in self.children(node))
        self.check_members(zf)

    def children(self, node) -> Iterator[dict]:
        if not isinstance(node, dict) or not isinstance(node.get("__loader__"), str):
            raise _refuse(self.path, f"a malformed node ({str(node)[:80]!r})")
        loader, name = node["__loader__"], f"{node.get('__module__')}.{node.get('__class__')}"
        classes, extra = self.loaders.get(loader, (frozenset(), frozenset()))
        if loader not in self.loaders:
            raise _refuse(self.path, f"a {loader!r} node (building {name})")
        if name not in classes:
            raise _refuse(self.path, f"the type {name} (built by skops' {loader})")
        if not _BASE <= node.keys() <= _BASE | extra or type(node["__id__"]) is not int:
            raise _refuse(self.path, f"a {loader} with the fields {sorted(node)}")
        first = self.seen.setdefault(node["__id__"], node)
        if first is not node and (first["__loader__"] != loader
                                  or (loader in _LEAVES and first != node)
                                  or f"{first['__module__']}.{first['__class__']}" != name):
            raise _refuse(self.path, f"two different objects with the id {node['__id__']}")
        return getattr(self, "on_" + loader.removesuffix("Node").lower())(node)

    def _content(self, node, kind):
        content = node.get("content")
        if not isinstance(content, kind):
            raise _refuse(self.path, f"a {node['__loader__']} without a {kind.__name__} content")
        return content

    def _file(self, node) -> None:
        name = node.get("file")
        if not isinstance(name, str):
            raise _refuse(self.path, f"a {node['__loader__']} without a member name")
        loader, ids = self.files.setdefault(name, (node["__loader__"], set()))
        if loader != node["__loader__"]:
            raise _refuse(self.path, f"the member {name} read as two kinds of data")
        ids.add(node["__id__"])

    def on_object(self, node):
        return [node["content"]] if "content" in node else []

    def on_dict(self, node):
        content, key_types = self._content(node, dict), node.get("key_types")
        keys = key_types.get("content") if isinstance(key_types, dict) else None
        if (not isinstance(keys, list) or len(keys) != len(content) or key_types.get(
                "__loader__") != "ListNode" or any(
                not isinstance(k, dict) or k.get("__loader__") != "TypeNode" or
                f"{k.get('__module__')}.{k.get('__class__')}" not in KEY_TYPES for k in keys)):
            raise _refuse(self.path, "a dict whose key types are not plain")
        return [key_types, *content.values()]

    def on_list(self, node):
        return self._content(node, list)

    on_tuple = on_list

    def on_json(self, node):
        """skops writes containers as their own nodes, so a JSON value is a scalar."""
        content = node.get("content")
        if not isinstance(content, str) or node.get("is_json") is not True or \
                content.lstrip()[:1] in ("[", "{"):
            raise _refuse(self.path, "a malformed JSON value")
        return []

    def on_type(self, node):
        return []

    def on_ndarray(self, node):
        if node.get("type") == "numpy" and node.keys() - _BASE == {"type", "file"}:
            self._file(node)
            return []
        if node.get("type") == "json" and node.keys() - _BASE == {"type", "content", "shape"} \
                and node["__class__"] == "ndarray":
            items = self._content(node, list)
            if any(not isinstance(i, dict) or i.get("__loader__") != "JsonNode" for i in items):
                raise _refuse(self.path, "an object array holding objects")
            return [*items, node["shape"]]
        raise _refuse(self.path, "a malformed array")

    def on_dtype(self, node):
        return [node["content"]]

    def on_slice(self, node):
        content = self._content(node, dict)
        if content.keys() != {"start", "stop", "step"} or any(
                v is not None and (type(v) is not int or abs(v) >= 2**63)
                for v in content.values()):
            raise _refuse(self.path, "a malformed slice")
        return []

    def on_bytearray(self, node):
        self._file(node)
        return []

    def _pair(self, node, keys):
        content = self._content(node, dict)
        if content.keys() != keys:
            raise _refuse(self.path, f"a malformed {node['__loader__']}")
        return list(content.values())

    def on_defaultdict(self, node):
        return self._pair(node, {"main", "default_factory"})

    def on_randomgenerator(self, node):
        return self._pair(node, {"bit_generator", "seed_seq"})

    def on_loss(self, node):
        reduce = node["__reduce__"]
        if not isinstance(reduce, dict) or reduce.keys() != {"args"}:
            raise _refuse(self.path, f"a malformed {node['__loader__']}")
        return [reduce["args"], node["content"]]

    on_tree = on_loss

    def on_sparsematrix(self, node):
        if node.get("type") != "scipy":
            raise _refuse(self.path, "a malformed sparse matrix")
        self._file(node)
        self.sparse[node["file"]] = node["__class__"].removesuffix("_matrix")
        return []

    def check_members(self, zf: zipfile.ZipFile) -> None:
        """Every payload member read by exactly one node, with the kind of data it claims."""
        members = set(zf.namelist()) - {SCHEMA_NAME, MANIFEST_NAME, REFERENCE_NAME}
        missing = sorted(set(self.files) - members)
        unused = sorted(members - set(self.files))
        if missing or unused:
            raise UnsafeModelError(f"{self.path}: the payload names members the file lacks "
                                   f"({missing[:3]}) or holds members it does not use "
                                   f"({unused[:3]}). {REEXPORT}")
        for name, (loader, ids) in self.files.items():
            if len(ids) > 1:
                raise _refuse(self.path, f"the member {name} read {len(ids)} times")
            if not name.endswith(_EXTENSIONS[loader]):
                raise _refuse(self.path, f"the member {name} read as {loader}")
            if loader == "NdArrayNode":
                with zf.open(name) as f:
                    _check_npy(f, zf.getinfo(name).file_size, self.path, name)
            elif loader == "SparseMatrixNode":
                _check_npz(read_member(zf, name, self.path), self.path, name, self.sparse[name])


def _check_npy(f, size: int, path: Path, name: str) -> None:
    """The array's header: a plain dtype, and a shape that is exactly the bytes present."""
    try:
        version = npy.read_magic(f)
        reader = {(1, 0): npy.read_array_header_1_0, (2, 0): npy.read_array_header_2_0}[version]
        shape, _, dtype = reader(f)
        header = f.tell()
    except Exception as e:  # a header numpy cannot parse: refuse before np.load sees it
        raise ModelFileError(f"{path}: the array {name} is damaged ({e}). {REEXPORT}") from None
    fields = [dtype] if dtype.names is None else [dtype.fields[n][0] for n in dtype.names]
    if dtype.hasobject or not all(d.kind in "biufUS" and d.subdtype is None for d in fields) \
            or len(shape) > MAX_NDIM:
        raise _refuse(path, f"an array of dtype {dtype} and {len(shape)} dimensions")
    if int(np.prod(shape, dtype=object)) * dtype.itemsize != size - header:
        raise ModelFileError(f"{path}: the array {name} declares shape {shape} but holds "
                             f"{size - header} bytes. {REEXPORT}")


def _check_npz(body: bytes, path: Path, name: str, fmt_expected: str) -> None:
    """A sparse matrix is itself a zip of arrays: the same checks, one level down."""
    try:
        inner = zipfile.ZipFile(io.BytesIO(body))
        infos = inner.infolist()
        names = [i.filename for i in infos]
        plain = all(i.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) and not
                    i.flag_bits & 1 for i in infos)
        if set(names) != _NPZ_MEMBERS or len(names) != len(_NPZ_MEMBERS) or not plain or sum(
                i.file_size for i in infos) > max_model_bytes():
            raise ValueError("unexpected members")
        for info in infos:
            with inner.open(info) as f:
                _check_npy(f, info.file_size, path, f"{name}/{info.filename}")
        fmt = np.load(io.BytesIO(inner.read("format.npy")), allow_pickle=False)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
        raise ModelFileError(f"{path}: the sparse matrix {name} is damaged ({e}). "
                             + REEXPORT) from None
    value = fmt.item() if fmt.shape == () else None
    value = value.decode("ascii", "replace") if isinstance(value, bytes) else value
    if value != fmt_expected:
        raise _refuse(path, f"a sparse matrix of format {str(value)[:20]!r}")
