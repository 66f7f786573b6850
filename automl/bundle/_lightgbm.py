"""LightGBM's model text, checked line by line before LightGBM's own parser sees it.

LightGBM rebuilds a booster from this text in C++ without bounds checks: a tree line with
fewer numbers than ``num_leaves`` implies, a child index outside the tree, a feature index
above ``max_feature_idx`` or a wrong ``tree_sizes`` offset reads or writes outside its
buffers (found by editing real files: aborts, heap corruption, silent out-of-range reads),
and a cycle in the children loops forever. So the text must follow exactly the grammar
LightGBM 4 writes for the models this project trains (numeric splits only, no linear trees),
and every index must point inside its tree.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from automl.bundle._format import REEXPORT
from automl.errors import UnsafeModelError

MAX_LEAVES = 131_072  # LightGBM's own limit on num_leaves
MAX_FEATURES = 10_000_000
_INT = re.compile(r"-?\d{1,10}")
_FLOAT = re.compile(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d{1,3})?")
_INFO = re.compile(r"none|\[" + _FLOAT.pattern + ":" + _FLOAT.pattern + r"\]")
_PARAM = re.compile(r"\[[a-z0-9_]{1,64}: [^\n]{0,4096}\]")
_HEADER = {"version", "num_class", "num_tree_per_iteration", "label_index", "max_feature_idx",
           "objective", "feature_names", "feature_infos"}
_TREE_KEYS = {"num_leaves", "num_cat", "split_feature", "split_gain", "threshold",
              "decision_type", "left_child", "right_child", "leaf_value", "leaf_weight",
              "leaf_count", "internal_value", "internal_weight", "internal_count", "is_linear",
              "shrinkage"}
_PER_SPLIT = {"split_feature": int, "split_gain": float, "threshold": float,
              "decision_type": int, "left_child": int, "right_child": int,
              "internal_value": float, "internal_weight": float, "internal_count": int}
_PER_LEAF = {"leaf_value": float, "leaf_weight": float, "leaf_count": int}
# default_left (2) and the missing-value type (0 none, 4 zero, 8 NaN); bit 1 (categorical)
# never: the project gives LightGBM numbers only.
_DECISIONS = frozenset({0, 2, 4, 6, 8, 10})


class _Bad(Exception):
    """Where the text departs from the grammar (turned into an UnsafeModelError)."""


def check_model_text(text, path: Path) -> None:
    """Refuse LightGBM model text that LightGBM could not parse and predict with safely."""
    try:
        _check(text)
    except _Bad as e:
        raise UnsafeModelError(f"{path}: its LightGBM model is not one LightGBM wrote ({e}); "
                               f"loading it could crash the process. {REEXPORT}") from None


def _check(text) -> None:
    if not isinstance(text, str) or "\x00" in text or "\r" in text:
        raise _Bad("not plain text")
    lines = text.split("\n")
    header, at = _header(lines)
    n_features, per_iteration = header["max_feature_idx"] + 1, header["num_tree_per_iteration"]
    starts, sizes = [], []
    while at < len(lines) and lines[at].startswith("Tree="):
        if lines[at] != f"Tree={len(starts)}":
            raise _Bad(f"line {at + 1}: expected Tree={len(starts)}")
        start = at
        at = _tree(lines, at + 1, n_features)
        while at < len(lines) and lines[at] == "":
            at += 1
        starts.append(start)
        sizes.append(sum(len(line.encode()) + 1 for line in lines[start:at]))
    if not starts or len(starts) % per_iteration or lines[at:at + 1] != ["end of trees"]:
        raise _Bad(f"{len(starts)} trees for {per_iteration} per iteration, then "
                   f"{lines[at:at + 1]}")
    recorded = header.get("tree_sizes")
    if recorded is not None and recorded != sizes:
        raise _Bad("tree_sizes does not match the trees")
    _tail(lines[at + 1:])


def _header(lines: list[str]) -> tuple[dict, int]:
    if lines[:1] != ["tree"]:
        raise _Bad("no 'tree' line first")
    fields: dict[str, str] = {}
    at = 1
    while at < len(lines) and not lines[at].startswith("Tree="):
        if lines[at]:
            key, eq, value = lines[at].partition("=")
            if not eq or key in fields or key not in _HEADER | {"tree_sizes"} or (
                    "=" in value and key != "feature_names"):
                raise _Bad(f"header line {at + 1}: {lines[at][:60]!r}")
            fields[key] = value
        at += 1
    if _HEADER - fields.keys() or fields["version"] != "v4":
        raise _Bad(f"header lacks {sorted(_HEADER - fields.keys())} or is not version v4")
    out: dict = {k: _int(fields[k]) for k in ("num_class", "num_tree_per_iteration",
                                              "label_index", "max_feature_idx")}
    classes, n_features = out["num_class"], out["max_feature_idx"] + 1
    if not 1 <= classes <= 10_000 or out["num_tree_per_iteration"] != classes or out[
            "label_index"] != 0 or not 1 <= n_features <= MAX_FEATURES:
        raise _Bad(f"header counts {out}")
    objective = fields["objective"]
    allowed = (f"multiclass num_class:{classes}" == objective if classes > 1 else
               objective == "regression" or re.fullmatch(r"binary sigmoid:" + _FLOAT.pattern,
                                                         objective))
    if not allowed:
        raise _Bad(f"objective {objective[:60]!r}")
    names, infos = fields["feature_names"].split(" "), fields["feature_infos"].split(" ")
    if len(names) != n_features or len(infos) != n_features or not all(names) or not all(
            _INFO.fullmatch(i) for i in infos):
        raise _Bad("feature_names or feature_infos do not list every feature")
    if "tree_sizes" in fields:
        out["tree_sizes"] = [_int(s) for s in fields["tree_sizes"].split(" ")]
    return out, at


def _tree(lines: list[str], at: int, n_features: int) -> int:
    fields: dict[str, str] = {}
    while at < len(lines) and lines[at]:
        key, eq, value = lines[at].partition("=")
        if not eq or key in fields or key not in _TREE_KEYS:
            raise _Bad(f"tree line {at + 1}: {lines[at][:60]!r}")
        fields[key] = value
        at += 1
    if at >= len(lines) or not {"num_leaves", "num_cat", "leaf_value"} <= fields.keys():
        raise _Bad(f"a tree ending at line {at} lacks num_leaves, num_cat or leaf_value")
    leaves = _int(fields["num_leaves"])
    if not 1 <= leaves <= MAX_LEAVES or _int(fields["num_cat"]) != 0 or _int(
            fields.get("is_linear", "0")) != 0 or not _finite(fields.get("shrinkage", "1")):
        raise _Bad(f"tree at line {at}: num_leaves, num_cat, is_linear or shrinkage")
    arrays = {}
    for key, kind in (_PER_SPLIT | _PER_LEAF).items():
        if key in fields:
            arrays[key] = _numbers(fields[key], kind, key)
    for key, count in [(k, leaves - 1) for k in _PER_SPLIT] + [(k, leaves) for k in _PER_LEAF]:
        got = len(arrays.get(key, []))
        if key in arrays and got != count and not (leaves == 1 and got == 0):
            raise _Bad(f"{key} has {got} values for {leaves} leaves")
    if len(arrays["leaf_value"]) != leaves:
        raise _Bad("leaf_value does not have a value per leaf")
    if leaves > 1:
        if {"split_feature", "threshold", "decision_type", "left_child", "right_child"} - \
                arrays.keys():
            raise _Bad("a tree with splits lacks its split arrays")
        _structure(arrays, leaves, n_features)
    return at


def _structure(arrays: dict, leaves: int, n_features: int) -> None:
    left, right = np.asarray(arrays["left_child"]), np.asarray(arrays["right_child"])
    children = np.concatenate([left, right])
    inner, leaf = children[children >= 0], ~children[children < 0]
    parent = np.concatenate([np.arange(leaves - 1)] * 2)[children >= 0]
    if not (np.array_equal(np.sort(inner), np.arange(1, leaves - 1))
            and np.array_equal(np.sort(leaf), np.arange(leaves)) and (inner > parent).all()):
        raise _Bad("the children do not form one tree (an index outside it, or a cycle)")
    features = np.asarray(arrays["split_feature"])
    if features.min() < 0 or features.max() >= n_features:
        raise _Bad(f"a split on feature {features.max()} of {n_features}")
    if not set(arrays["decision_type"]) <= _DECISIONS:
        raise _Bad("a categorical or unknown decision type")


def _tail(lines: list[str]) -> None:
    """Feature importances, parameters and pandas categories, as LightGBM writes them."""
    rest = [line for line in lines if line]
    at = 0
    if rest[:1] == ["feature_importances:"]:
        at = 1
        while at < len(rest) and re.fullmatch(r"[^=\s]+=\d{1,10}", rest[at]):
            at += 1
    if rest[at:at + 1] != ["parameters:"]:
        raise _Bad("no parameters section after the trees")
    end = rest.index("end of parameters", at) if "end of parameters" in rest else -1
    params = rest[at + 1:end]
    if end < 0 or not all(_PARAM.fullmatch(p) for p in params) or "[linear_tree: 1]" in params:
        raise _Bad("a malformed parameters section")
    if rest[end + 1:] != ["pandas_categorical:null"]:
        raise _Bad(f"unexpected lines after the parameters: {rest[end + 1:end + 2]}")


def _int(text: str) -> int:
    if not _INT.fullmatch(text):
        raise _Bad(f"{text[:30]!r} is not an integer")
    return int(text)


def _finite(text: str) -> bool:
    return bool(_FLOAT.fullmatch(text)) and math.isfinite(float(text))


def _numbers(text: str, kind, key: str) -> list:
    if text == "":
        return []
    parts = text.split(" ")
    if kind is int:
        return [_int(p) for p in parts]
    # A split that sends only the missing values one way has threshold inf, as LightGBM
    # writes it; a comparison with it is defined. NaN or -inf are never written.
    allowed = {"inf"} if key == "threshold" else set()
    if not all(p in allowed or _finite(p) for p in parts):
        raise _Bad(f"{key} has a value that is not a finite number")
    return parts
