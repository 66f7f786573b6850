"""Seeded mutations of real model files, for the loader's fuzz test.

Each mutation takes the file's members (and its raw bytes) and a numpy random generator and
returns the new file's bytes and a one-line description. Most re-seal the file (recompute
the digest), so that the edit reaches the checks behind the digest, as an attacker's would.
"""

from __future__ import annotations

import copy
import io
import json
import re
import struct
import zipfile

import numpy as np

from automl.bundle import MANIFEST_NAME
from tests.bundle_files import SCHEMA, dump_npy, load_npy, nodes, write

EXTREMES = [-(2**63), -(2**31), -7, -2, -1, 0, 1, 2, 3, 255, 2**31 - 1, 2**31, 2**32,
            10**12, 2**63 - 1]
FLOATS = [np.nan, np.inf, -np.inf, -1e300, 1e300, 0.0, -0.0, 5e-324]
LOADERS = ["ObjectNode", "DictNode", "ListNode", "TupleNode", "JsonNode", "TypeNode",
           "NdArrayNode", "TreeNode", "LossNode", "ConstructorFromReduceNode", "FunctionNode",
           "CachedNode", "MethodNode", "BytesNode", "SparseMatrixNode", "NoSuchNode"]


def _json_value(rng):
    choices = [None, True, -1, 0, 10**20, -(10**20), 1.5, "x", "", [], {}, [1, 2], {"a": 1},
               "__missing__", 2**31, "1e999", "[" * 50]
    return choices[rng.integers(len(choices))]


def _zip(parts: dict[str, bytes], dup: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, body in parts.items():
            z.writestr(name, body)
        if dup is not None:
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                z.writestr(dup, parts[dup][::-1] or b"x")
    return buf.getvalue()


def _sealed(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    write(buf, parts)  # zipfile accepts a file object as the target
    return buf.getvalue()


def flip_bytes(rng, parts, raw):
    data = bytearray(raw)
    for at in rng.integers(0, len(data), rng.integers(1, 9)):
        data[at] ^= int(rng.integers(1, 256))
    return bytes(data), "flipped bytes"


def truncate(rng, parts, raw):
    at = int(rng.integers(0, len(raw)))
    return raw[:at], f"truncated at {at}"


def zip_structure(rng, parts, raw):
    payload = [n for n in parts if n != MANIFEST_NAME]
    kind = rng.integers(5)
    if kind == 0:
        name = payload[rng.integers(len(payload))]
        return _zip(parts, dup=name), f"duplicate member {name}"
    if kind == 1:
        name = payload[rng.integers(len(payload))]
        return _sealed({k: v for k, v in parts.items() if k != name}), f"dropped {name}"
    if kind == 2:
        extra = ["extra.npy", "../evil", "x" * 300, "schema.json.bak"][rng.integers(4)]
        return _sealed({**parts, extra: b"\x93NUMPY junk"}), f"extra member {extra!r}"
    data = bytearray(raw)
    entries = [m.start() for m in re.finditer(b"PK\x01\x02", raw)]
    at = entries[rng.integers(len(entries))]
    if kind == 3:
        value = int([0, 1, 100, 2**32 - 1, rng.integers(0, 2**32)][rng.integers(5)])
        field = [20, 24][rng.integers(2)]  # compressed or uncompressed size
        struct.pack_into("<I", data, at + field, value)
        return bytes(data), f"central size field +{field} set to {value}"
    struct.pack_into("<H", data, at + 10, int([12, 14, 99, 1][rng.integers(4)]))
    return bytes(data), "compression method changed"


def manifest(rng, parts, raw):
    m = json.loads(parts[MANIFEST_NAME])
    field = list(m)[rng.integers(len(m))]
    kind = rng.integers(4)
    if kind == 0:
        del m[field]
        what = f"manifest: deleted {field}"
    elif kind == 1:
        m[field] = _json_value(rng)
        what = f"manifest: {field} = {m[field]!r:.30}"
    elif kind == 2 and m.get("classes"):
        m["classes"] = [m["classes"][::-1], m["classes"][:1], m["classes"] * 2,
                        list(range(50)), [None, None]][rng.integers(5)]
        what = f"manifest: classes = {m['classes']!r:.40}"
    else:
        cols = m["schema"]["columns"] if isinstance(m.get("schema"), dict) else []
        if cols:
            col = cols[rng.integers(len(cols))]
            key = list(col)[rng.integers(len(col))]
            col[key] = _json_value(rng)
        what = "manifest: schema column edited"
    return _sealed({**parts, MANIFEST_NAME: json.dumps(m).encode()}), what


def schema(rng, parts, raw):
    tree = json.loads(parts[SCHEMA])
    found = [n for _, n in nodes(tree)]
    node = found[rng.integers(len(found))]
    kind = rng.integers(9)
    if kind == 0:
        node["__loader__"] = LOADERS[rng.integers(len(LOADERS))]
        what = f"loader -> {node['__loader__']}"
    elif kind == 1:
        other = found[rng.integers(len(found))]
        node["__class__"], node["__module__"] = other["__class__"], other["__module__"]
        what = f"class -> {other['__module__']}.{other['__class__']}"
    elif kind == 2:
        key = list(node)[rng.integers(len(node))]
        del node[key]
        what = f"deleted {key}"
    elif kind == 3:
        key = list(node)[rng.integers(len(node))]
        node[key] = _json_value(rng)
        what = f"{key} = {node[key]!r:.30}"
    elif kind == 4:
        jsons = [n for n in found if n["__loader__"] == "JsonNode"]
        node = jsons[rng.integers(len(jsons))]
        value = [EXTREMES[rng.integers(len(EXTREMES))], "NaN", "1e999", '"x"', "null", "[]",
                 "{}", "[" * 2000 + "]" * 2000][rng.integers(8)]
        node["content"] = str(value)
        what = f"JSON value -> {str(value)[:30]}"
    elif kind == 5:
        other = found[rng.integers(len(found))]
        node["__id__"] = other.get("__id__")
        what = "id aliased"
    elif kind == 6:
        files = [n for n in found if "file" in n]
        names = [n for n in parts if n not in (SCHEMA, MANIFEST_NAME)]
        if files and names:
            files[rng.integers(len(files))]["file"] = names[rng.integers(len(names))]
        what = "file reference moved"
    elif kind == 7:
        dicts = [n for n in found if n["__loader__"] == "DictNode" and n.get("content")]
        target = dicts[rng.integers(len(dicts))]
        key = list(target["content"])[rng.integers(len(target["content"]))]
        target["content"][key] = copy.deepcopy(found[rng.integers(len(found))])
        what = f"subtree copied into {key}"
    else:
        deep = dict(node)
        for i in range(int(rng.integers(150, 400))):  # json.dumps recurses
            deep = {"__class__": "list", "__module__": "builtins", "__loader__": "ListNode",
                    "content": [deep], "__id__": 10**12 + i}
        node.clear()
        node.update(deep)
        what = "deeply nested"
    return _sealed({**parts, SCHEMA: json.dumps(tree).encode()}), "schema: " + what


def sparse(rng, parts, raw):
    """One value of a sparse matrix's index arrays (or data) set to an extreme."""
    name = next(n for n in parts if n.endswith(".npz"))
    with zipfile.ZipFile(io.BytesIO(parts[name])) as z:
        inner = {i.filename: load_npy(z.read(i)) for i in z.infolist()}
    field = ["indices.npy", "indptr.npy", "data.npy", "shape.npy"][rng.integers(4)]
    arr = inner[field].copy()
    if arr.size:
        value = EXTREMES[rng.integers(len(EXTREMES))]
        try:
            arr.reshape(-1)[rng.integers(arr.size)] = value
        except OverflowError:
            arr.reshape(-1)[0] = -1
    inner[field] = arr
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for key, value in inner.items():
            z.writestr(key, dump_npy(value))
    return _sealed({**parts, name: buf.getvalue()}), f"sparse: {field} edited"


def array(rng, parts, raw):
    if any(n.endswith(".npz") for n in parts) and rng.random() < 0.5:
        return sparse(rng, parts, raw)
    names = [n for n in parts if n.endswith(".npy")]
    arrays = {n: load_npy(parts[n]) for n in names}
    weighted = [n for n in names if arrays[n].dtype.names or arrays[n].size > 1] or names
    name = weighted[rng.integers(len(weighted))]
    arr = arrays[name].copy()
    kind = rng.integers(5)
    if kind == 0 and arr.size:
        field = arr.dtype.names[rng.integers(len(arr.dtype.names))] if arr.dtype.names else None
        target = arr[field] if field else arr
        flat = target.reshape(-1)
        at = rng.integers(len(flat), size=rng.integers(1, 4))
        value = (FLOATS[rng.integers(len(FLOATS))] if flat.dtype.kind == "f" and rng.random()
                 < 0.5 else EXTREMES[rng.integers(len(EXTREMES))])
        try:
            flat[at] = np.array(value).astype(flat.dtype) if flat.dtype.kind != "U" else "x"
        except (OverflowError, ValueError):
            flat[at] = 0
        if field:
            arr[field] = target
        body, what = dump_npy(arr), f"{name}{'.' + field if field else ''}[{at}] = {value}"
    elif kind == 1:
        body = dump_npy(np.concatenate([arr.reshape(-1)] * 2) if arr.size else arr.reshape(1, 0))
        what = f"{name} doubled"
    elif kind == 2:
        body, what = dump_npy(arr.reshape(-1)[:-1] if arr.size else arr), f"{name} shortened"
    elif kind == 3:
        kinds = ["<i4", "<f4", "<u1", "<i8", "|b1", "<U3"]
        dtype = kinds[rng.integers(len(kinds))]
        try:
            body = dump_npy(arr.astype(dtype) if not arr.dtype.names else arr.view(np.uint8))
        except (ValueError, TypeError):
            body = dump_npy(np.zeros(3))
        what = f"{name} as {dtype}"
    else:
        data = bytearray(parts[name])
        start = len(dump_npy(arr[:0].reshape(0))) if arr.ndim else 128
        for at in rng.integers(min(start, len(data) - 1), len(data), rng.integers(1, 6)):
            data[at] ^= int(rng.integers(1, 256))
        body, what = bytes(data), f"{name} bytes flipped"
    return _sealed({**parts, name: body}), "array: " + what


def booster(rng, parts, raw):
    bins = [n for n in parts if n.endswith(".bin")]
    tree = json.loads(parts[SCHEMA])
    handles = [n for _, n in nodes(tree) if n["__loader__"] == "ObjectNode" and n[
        "__class__"] == "Booster" and "_handle" in n.get("content", {}).get("content", {})]
    if handles:
        node = handles[0]["content"]["content"]["_handle"]
        lines = json.loads(node["content"]).split("\n")
        at = int(rng.integers(len(lines)))
        numbers = list(re.finditer(r"-?\d+(\.\d+)?(e[-+]?\d+)?", lines[at]))
        if numbers and rng.random() < 0.8:
            hit = numbers[rng.integers(len(numbers))]
            value = str([*EXTREMES, "nan", "inf", ""][rng.integers(len(EXTREMES) + 3)])
            lines[at] = lines[at][:hit.start()] + value + lines[at][hit.end():]
        else:
            del lines[at]
        node["content"] = json.dumps("\n".join(lines))
        return _sealed({**parts, SCHEMA: json.dumps(tree).encode()}), f"lightgbm line {at}"
    if bins:
        data = bytearray(parts[bins[0]])
        starts = [m.end() + 8 for m in re.finditer(rb"\[\$l#L", bytes(data))]
        if starts and rng.random() < 0.7:
            at = starts[rng.integers(len(starts))]
            struct.pack_into(">i", data, at + 4 * int(rng.integers(0, 3)),
                             int(EXTREMES[rng.integers(3, 11)]))
            what = "xgboost int patched"
        else:
            for at in rng.integers(0, len(data), rng.integers(1, 6)):
                data[at] ^= int(rng.integers(1, 256))
            what = "xgboost bytes flipped"
        return _sealed({**parts, bins[0]: bytes(data)}), what
    return array(rng, parts, raw)


MUTATIONS = [(flip_bytes, 8), (truncate, 4), (zip_structure, 12), (manifest, 10),
             (schema, 30), (array, 26), (booster, 10)]


def mutate(seed: int, index: int, raw: bytes) -> tuple[bytes, str]:
    """The ``index``-th mutation of the file ``raw`` for ``seed``: its bytes and what it did."""
    rng = np.random.default_rng([seed, index])
    weights = np.array([w for _, w in MUTATIONS], dtype=float)
    fn = MUTATIONS[rng.choice(len(MUTATIONS), p=weights / weights.sum())][0]
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    data, what = fn(rng, parts, raw)
    return data, f"{fn.__name__}: {what}"
