"""Real model files and edits of them, as an attacker could make them.

The digest stops accidents and edits by hand, not someone who recomputes it, so most edits
here re-seal the file (:func:`write` recomputes the digest): the edit then reaches the
loader's deeper checks, which are what the tests are about.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import skops.io as sio
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris

from automl.bundle import MANIFEST_NAME, save_model
from automl.bundle._format import digest
from automl.contracts import ModelManifest
from automl.data.schema import ColumnInfo, Kind, Schema
from automl.families import REGISTRY, FamilyContext
from automl.search.context import make_pipeline

SCHEMA = "schema.json"
LOADERS = {"binary": load_breast_cancer, "multiclass": load_iris, "regression": load_diabetes}
LABELS = {"binary": ["no", "yes"], "multiclass": [10, 20, 30], "regression": None}


def make_data(task: str, n: int | None = None, seed: int = 0):
    """A bundled sklearn dataset plus categorical, boolean, date, text and ID columns."""
    data = LOADERS[task](as_frame=True)
    X, y = data.data.copy(), data.target.to_numpy()
    if n is not None:  # resample to n rows (the 100k-row scoring test)
        idx = np.random.default_rng(seed).integers(0, len(X), n)
        X, y = X.iloc[idx].reset_index(drop=True), y[idx]
    rng = np.random.default_rng(seed)
    k = len(X)
    X["color"] = pd.Series(rng.choice(["red", "green", "blue", None], k), dtype="str")
    X["city"] = pd.Series([f"c{i}" for i in rng.integers(0, 40, k)], dtype="str")
    X["flag"] = rng.choice([True, False], k)
    X["when"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, k), "D")
    X["note"] = pd.Series(rng.choice(["good day", "bad day", "so so", "great"], k), dtype="str")
    X["row_id"] = np.arange(k)
    cols = [ColumnInfo(c, Kind.NUMERIC, "float64", 0, 10) for c in data.data.columns]
    cols += [
        ColumnInfo("color", Kind.CATEGORICAL, "str", 0, 3),
        ColumnInfo("city", Kind.CATEGORICAL, "str", 0, 40),
        ColumnInfo("flag", Kind.BOOLEAN, "bool", 0, 2),
        ColumnInfo("when", Kind.DATETIME, "datetime64[ns]", 0, 900),
        ColumnInfo("note", Kind.TEXT, "str", 0, 4),
        ColumnInfo("row_id", Kind.ID, "int64", 0, k),
    ]
    return X, y, Schema(tuple(cols))


def fitted(family: str, task: str = "binary", params: dict | None = None, X=None, y=None,
           schema=None):
    """A small fitted pipeline of ``family`` (the family's defaults, fewer rounds), the rows
    and the manifest the engine writes."""
    labels = LABELS[task] if X is None else None
    if X is None:
        X, y, schema = make_data(task)
    fam = REGISTRY[family]
    n_classes = 0 if task == "regression" else int(np.max(y)) + 1
    ctx = FamilyContext(task, len(X), X.shape[1], n_classes, time_budget=1)
    chosen = {**fam.defaults(ctx)[0], **(params or {})}
    pipe = make_pipeline(schema, family, chosen, ctx).fit(X, y)
    classes = None if task == "regression" else labels or list(range(n_classes))
    manifest = ModelManifest(task=task, target="target", schema=schema, family=family,
                             classes=classes)
    return pipe, X, manifest


def save(path: Path, pipe, manifest: ModelManifest) -> Path:
    return save_model(path, pipe, manifest)


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def write(path: Path, parts: dict[str, bytes], seal: bool = True) -> Path:
    """A zip of ``parts``; with ``seal``, the manifest's digest made to match them."""
    parts = dict(parts)
    if seal and MANIFEST_NAME in parts:
        manifest = json.loads(parts[MANIFEST_NAME])
        manifest.pop("signature", None)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            for name, body in parts.items():
                if name != MANIFEST_NAME:
                    z.writestr(name, body)
        with zipfile.ZipFile(buf) as z:
            manifest["sha256"] = digest(manifest, z, path)
        parts[MANIFEST_NAME] = json.dumps(manifest).encode()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, body in parts.items():
            z.writestr(name, body)
    return path


def forge(path: Path, obj, manifest: dict) -> Path:
    """A model file as someone else could write it: any skops payload, a valid digest."""
    parts = members_of_bytes(sio.dumps(obj, compression=zipfile.ZIP_DEFLATED))
    schema = manifest["schema"]
    manifest = {"format": "automl-model", "format_version": 2, **manifest,
                "schema": (schema if isinstance(schema, Schema) else Schema.from_dict(schema)
                           ).to_dict()}
    return write(path, {**parts, MANIFEST_NAME: json.dumps(manifest).encode()})


def members_of_bytes(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def edit_schema(src: Path, dst: Path, edit: Callable[[dict], None]) -> Path:
    """Re-sealed copy of ``src`` after ``edit`` changed its parsed schema.json in place."""
    parts = members(src)
    schema = json.loads(parts[SCHEMA])
    edit(schema)
    parts[SCHEMA] = json.dumps(schema).encode()
    return write(dst, parts)


def reseal(src: Path, dst: Path, edit=None) -> Path:
    """Copy ``src`` with its manifest passed through ``edit`` and the digest made to match."""
    return edit_manifest(src, dst, edit or (lambda m: None))


def edit_manifest(src: Path, dst: Path, edit: Callable[[dict], None], seal=True) -> Path:
    parts = members(src)
    manifest = json.loads(parts[MANIFEST_NAME])
    edit(manifest)
    parts[MANIFEST_NAME] = json.dumps(manifest).encode()
    return write(dst, parts, seal=seal)


def nodes(tree, where: str = "$") -> Iterator[tuple[str, dict]]:
    """Every node of a schema with its path, parents first."""
    if isinstance(tree, dict):
        if "__loader__" in tree:
            yield where, tree
        for key, value in tree.items():
            yield from nodes(value, f"{where}.{key}")
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            yield from nodes(value, f"{where}[{i}]")


def find(schema: dict, cls: str | None = None, loader: str | None = None) -> list[dict]:
    return [n for _, n in nodes(schema) if (cls is None or n.get("__class__") == cls)
            and (loader is None or n["__loader__"] == loader)]


def attr(node: dict, name: str) -> dict:
    """The node of attribute ``name`` of an object node (its content is a dict node)."""
    return node["content"]["content"][name]


def load_npy(body: bytes) -> np.ndarray:
    return np.load(io.BytesIO(body), allow_pickle=False)


def dump_npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def edit_array(src: Path, dst: Path, pick: Callable[[dict], str],
               edit: Callable[[np.ndarray], np.ndarray | None]) -> Path:
    """Re-sealed copy of ``src`` with one array member changed: ``pick(schema)`` names the
    member, ``edit`` changes the array in place (or returns a new one)."""
    parts = members(src)
    name = pick(json.loads(parts[SCHEMA]))
    arr = load_npy(parts[name]).copy()
    out = edit(arr)
    parts[name] = dump_npy(arr if out is None else out)
    return write(dst, parts)


def first_file(schema: dict, cls: str, *names: str) -> str:
    """The member of attribute path ``names`` of the first object of class ``cls``."""
    node = find(schema, cls)[0]
    for name in names:
        node = node["content"]["content"][name] if isinstance(name, str) else (
            node["content"][name])
    return node["file"]


def replace(tree, match: Callable[[dict], bool], new: Callable[[dict], dict]) -> int:
    """Replace, in place, every node for which ``match`` is true by ``new(node)``."""
    count = 0
    items = tree.items() if isinstance(tree, dict) else enumerate(tree) if isinstance(
        tree, list) else []
    for key, value in list(items):
        if isinstance(value, dict) and "__loader__" in value and match(value):
            tree[key] = new(value)
            count += 1
        elif isinstance(value, dict | list):
            count += replace(value, match, new)
    return count


def json_node(value, id_: int) -> dict:
    return {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode",
            "content": json.dumps(value), "is_json": True, "__id__": id_}


def tuple_node(items: list[dict], id_: int) -> dict:
    return {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode",
            "content": items, "__id__": id_}
