"""XGBoost boosters, rebuilt from a checked model instead of the bytes in the file.

skops restores an XGBoost booster by handing the file's bytes (UBJSON: the booster's
training configuration plus its model) to XGBoost's C++ parser, which trusts lengths and
indices: a crafted string length, child index, parent index or feature index crashes the
process (found by editing real files). So the bytes are decoded here by a strict Python
reader, the model part is checked (every tree inside itself, every split on a feature the
booster has), and the booster that skops restores is serialised by XGBoost itself from that
checked model, written as plain JSON. The training configuration is dropped: prediction
does not need it, and nothing of it reaches XGBoost.
"""

from __future__ import annotations

import json
import math
import re
import struct
from pathlib import Path

import numpy as np

from automl.bundle._format import REEXPORT
from automl.errors import UnsafeModelError

MAX_FEATURES = 10_000_000
_ROOT_PARENT = 2**31 - 1
_MAX_DEPTH = 16
_SCALARS = {b"i": ">b", b"U": ">B", b"I": ">h", b"l": ">i", b"L": ">q", b"d": ">f", b"D": ">d"}
_TYPED = {b"i": ">i1", b"U": ">u1", b"I": ">i2", b"l": ">i4", b"L": ">i8", b"d": ">f4",
          b"D": ">f8"}
_OBJECTIVES = {"binary:logistic": "reg_loss_param", "reg:squarederror": "reg_loss_param",
               "multi:softprob": "softmax_multiclass_param"}
_TREE_ARRAYS = {"left_children": "i", "right_children": "i", "parents": "i",
                "split_indices": "i", "split_type": "iu", "default_left": "iu",
                "split_conditions": "f", "base_weights": "f", "loss_changes": "f",
                "sum_hessian": "f"}
_CATEGORY_ARRAYS = ("categories", "categories_nodes", "categories_segments", "categories_sizes")
_NUMBER = r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d{1,3})?"


class _Bad(Exception):
    """Where the booster departs from what XGBoost writes (an UnsafeModelError)."""


def rebuild(raw: bytes | bytearray, path: Path) -> bytes:
    """The booster bytes XGBoost writes for the checked model inside ``raw``."""
    try:
        state = _Reader(bytes(raw)).document()
        if not isinstance(state, dict) or state.keys() != {"Config", "Model"}:
            raise _Bad("not a serialised booster")
        model = _check_model(state["Model"])
    except _Bad as e:
        raise UnsafeModelError(f"{path}: its XGBoost model is not one XGBoost wrote ({e}); "
                               f"loading it could crash the process. {REEXPORT}") from None
    import xgboost

    booster = xgboost.Booster()
    booster.load_model(bytearray(json.dumps(model, default=_plain).encode()))
    return bytes(booster.__getstate__()["handle"])


def _plain(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(type(value).__name__)


class _Reader:
    """Universal Binary JSON as XGBoost writes it, refusing anything else."""

    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def document(self):
        value = self.value(0)
        if self.at != len(self.data):
            raise _Bad("bytes after the model")
        return value

    def take(self, n: int) -> bytes:
        if n < 0 or self.at + n > len(self.data):
            raise _Bad("a length beyond the end of the data")
        chunk = self.data[self.at:self.at + n]
        self.at += n
        return chunk

    def length(self) -> int:
        if self.take(1) != b"L":
            raise _Bad("a length that is not an int64")
        return struct.unpack(">q", self.take(8))[0]

    def string(self) -> str:
        try:
            return self.take(self.length()).decode()
        except UnicodeDecodeError:
            raise _Bad("a string that is not UTF-8") from None

    def value(self, depth: int):
        if depth > _MAX_DEPTH:
            raise _Bad("nesting too deep")
        marker = self.take(1)
        if marker in _SCALARS:
            fmt = _SCALARS[marker]
            return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]
        simple = {b"Z": None, b"T": True, b"F": False}
        if marker in simple:
            return simple[marker]
        if marker == b"S":
            return self.string()
        if marker == b"{":
            out: dict = {}
            while self.data[self.at:self.at + 1] != b"}":
                key = self.string()
                if key in out:
                    raise _Bad(f"the key {key!r} twice")
                out[key] = self.value(depth + 1)
            self.at += 1
            return out
        if marker == b"[":
            return self.array(depth)
        raise _Bad(f"an unknown marker {marker!r}")

    def array(self, depth: int):
        if self.data[self.at:self.at + 1] == b"$":
            self.at += 1
            kind = self.take(1)
            if kind not in _TYPED or self.take(1) != b"#":
                raise _Bad("a typed array of an unknown type")
            n, dtype = self.length(), np.dtype(_TYPED[kind])
            if not 0 <= n <= (len(self.data) - self.at) // dtype.itemsize:
                raise _Bad("an array longer than the data")
            return np.frombuffer(self.take(n * dtype.itemsize), dtype=dtype).astype(
                dtype.newbyteorder("="))
        if self.take(1) != b"#":
            raise _Bad("an array without a count")
        n = self.length()
        if not 0 <= n <= len(self.data) - self.at:
            raise _Bad("an array longer than the data")
        return [self.value(depth + 1) for _ in range(n)]


def _keys(obj, keys: set[str], where: str) -> dict:
    if not isinstance(obj, dict) or obj.keys() != keys:
        raise _Bad(f"{where} has fields {sorted(obj) if isinstance(obj, dict) else obj!r:.80}")
    return obj


def _count(text, where: str, low: int, high: int) -> int:
    if not isinstance(text, str) or not re.fullmatch(r"\d{1,10}", text) or not (
            low <= int(text) <= high):
        raise _Bad(f"{where} is {text!r:.30}")
    return int(text)


def _check_model(model) -> dict:
    _keys(model, {"learner", "version"}, "the model")
    learner = _keys(model["learner"], {"attributes", "feature_names", "feature_types",
                                       "gradient_booster", "learner_model_param", "objective"},
                    "the learner")
    params = _keys(learner["learner_model_param"], {"base_score", "boost_from_average",
                                                    "num_class", "num_feature", "num_target"},
                   "learner_model_param")
    n_features = _count(params["num_feature"], "num_feature", 1, MAX_FEATURES)
    classes = _count(params["num_class"], "num_class", 0, 10_000)
    groups = max(classes, 1)
    _count(params["num_target"], "num_target", 1, 1)
    _count(params["boost_from_average"], "boost_from_average", 0, 1)
    scores = params["base_score"]
    if not isinstance(scores, str) or not re.fullmatch(
            rf"\[{_NUMBER}(,{_NUMBER}){{{groups - 1}}}\]", scores) or not all(
            math.isfinite(float(s)) for s in scores[1:-1].split(",")):
        raise _Bad(f"base_score {scores!r:.40}")
    version = model["version"]
    if not (isinstance(version, list) and len(version) == 3 and all(
            type(v) is int for v in version)):
        raise _Bad("version")
    _check_objective(learner["objective"], classes)
    for key in ("feature_names", "feature_types"):
        names = learner[key]
        if not isinstance(names, list) or len(names) not in (0, n_features) or not all(
                isinstance(n, str) and len(n) < 1000 for n in names):
            raise _Bad(key)
    attributes = learner["attributes"]
    if not isinstance(attributes, dict) or len(attributes) > 100 or not all(
            isinstance(v, str) and len(v) < 10_000 for v in attributes.values()):
        raise _Bad("attributes")
    booster = _keys(learner["gradient_booster"], {"model", "name"}, "gradient_booster")
    if booster["name"] != "gbtree":
        raise _Bad(f"booster {booster['name']!r:.20}")
    _check_trees(booster["model"], n_features, groups)
    return model


def _check_objective(objective, classes: int) -> None:
    name = objective.get("name") if isinstance(objective, dict) else None
    if name not in _OBJECTIVES or (name == "multi:softprob") != (classes > 1):
        raise _Bad(f"objective {name!r:.40} for {classes} classes")
    part = _keys(objective, {"name", _OBJECTIVES[name]}, "objective")[_OBJECTIVES[name]]
    if name == "multi:softprob":
        _keys(part, {"num_class"}, "objective")
        if part["num_class"] != str(classes):
            raise _Bad("the objective's num_class")
    elif not (_keys(part, {"scale_pos_weight"}, "objective") and isinstance(
            part["scale_pos_weight"], str) and re.fullmatch(_NUMBER, part["scale_pos_weight"])):
        raise _Bad("scale_pos_weight")


def _check_trees(model, n_features: int, groups: int) -> None:
    _keys(model, {"cats", "gbtree_model_param", "iteration_indptr", "tree_info", "trees"},
          "the trees' model")
    cats = _keys(model["cats"], {"enc", "feature_segments", "sorted_idx"}, "cats")
    if any(len(v) for v in cats.values()):
        raise _Bad("categorical features")
    trees = model["trees"]
    if not isinstance(trees, list) or not trees:
        raise _Bad("no trees")
    param = _keys(model["gbtree_model_param"], {"num_parallel_tree", "num_trees"},
                  "gbtree_model_param")
    _count(param["num_parallel_tree"], "num_parallel_tree", 1, 1)
    if _count(param["num_trees"], "num_trees", 1, 10**7) != len(trees):
        raise _Bad("num_trees does not match the trees")
    info, indptr = _ints(model["tree_info"], "tree_info"), _ints(model["iteration_indptr"],
                                                                 "iteration_indptr")
    if len(info) != len(trees) or info.min() < 0 or info.max() >= groups:
        raise _Bad("tree_info")
    if len(indptr) < 2 or indptr[0] != 0 or indptr[-1] != len(trees) or (np.diff(indptr) < 0
                                                                          ).any():
        raise _Bad("iteration_indptr")
    for i, tree in enumerate(trees):
        _check_tree(tree, i, n_features)


def _ints(values, where: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise _Bad(f"{where} is not a list of integers")
    return arr.astype(np.int64)


def _check_tree(tree, index: int, n_features: int) -> None:
    tree = _keys(tree, {"id", "tree_param", *_TREE_ARRAYS, *_CATEGORY_ARRAYS}, f"tree {index}")
    if tree["id"] != index or any(len(tree[k]) for k in _CATEGORY_ARRAYS):
        raise _Bad(f"tree {index}: its id or categorical splits")
    param = _keys(tree["tree_param"], {"num_deleted", "num_feature", "num_nodes",
                                       "size_leaf_vector"}, f"tree {index}")
    n = _count(param["num_nodes"], "num_nodes", 1, 2**31 - 2)
    if (_count(param["num_feature"], "num_feature", 1, MAX_FEATURES) != n_features
            or param["num_deleted"] != "0" or param["size_leaf_vector"] != "1"):
        raise _Bad(f"tree {index}: tree_param {param}")
    arrays = {}
    for key, kinds in _TREE_ARRAYS.items():
        arr = np.asarray(tree[key])
        if arr.shape != (n,) or arr.dtype.kind not in kinds + ("i" if kinds == "f" else ""):
            raise _Bad(f"tree {index}: {key} is not {n} numbers")
        if kinds == "f" and not np.isfinite(arr).all():
            raise _Bad(f"tree {index}: {key} is not finite")
        arrays[key] = arr.astype(np.float64 if kinds == "f" else np.int64)
    left, right, parents = arrays["left_children"], arrays["right_children"], arrays["parents"]
    leaf, idx = left == -1, np.arange(n)
    inner = ~leaf
    kids = np.concatenate([left[inner], right[inner]])
    if ((right == -1) != leaf).any() or not np.array_equal(np.sort(kids), idx[1:]) or not (
            (left[inner] > idx[inner]).all() and (right[inner] > idx[inner]).all()):
        raise _Bad(f"tree {index}: the children do not form one tree")
    if parents[0] != _ROOT_PARENT or not (parents[kids] == np.concatenate(
            [idx[inner], idx[inner]])).all():
        raise _Bad(f"tree {index}: the parents do not match the children")
    features = arrays["split_indices"]
    if features.min() < 0 or features.max() >= n_features:
        raise _Bad(f"tree {index}: a split on feature {features.max()} of {n_features}")
    if (arrays["split_type"] != 0).any() or not np.isin(arrays["default_left"], (0, 1)).all():
        raise _Bad(f"tree {index}: a categorical split or a bad default direction")
