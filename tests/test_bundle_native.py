"""Model files whose tree, booster or index arrays were edited (digest recomputed, as an
attacker can): each is refused with UnsafeModelError, never a crash, in a child process."""

from __future__ import annotations

import json
import re
import struct

import numpy as np
import pytest

from automl.ensemble import WeightedEnsemble
from tests.bundle_files import (
    edit_array,
    edit_schema,
    find,
    fitted,
    make_data,
    members,
    save,
    write,
)
from tests.bundle_worker import running

pytestmark = pytest.mark.slow  # starts two Python processes with the model libraries

SMALL = {"rf": {"rf__n_estimators": 4}, "hgb": {"hgb__max_iter": 4},
         "xgb": {"xgb__n_estimators": 4}, "lgbm": {"lgbm__n_estimators": 4}}


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """One small real model file per family that has native arrays, and the rows."""
    folder = tmp_path_factory.mktemp("native")
    files = {}
    for family, params in SMALL.items():
        files[family] = save(folder / f"{family}.skops", *_two(fitted(family, params=params)))
    X, y, _ = make_data("binary")
    small = X.iloc[:, :5]
    from automl.data import infer_schema

    files["knn"] = save(folder / "knn.skops", *_two(fitted(
        "knn", X=small, y=y, schema=infer_schema(small))))
    files["linear"] = save(folder / "linear.skops", *_two(fitted("linear")))
    rf, _, manifest = fitted("rf", params=SMALL["rf"])
    linear = fitted("linear")[0]
    files["ensemble"] = save(folder / "ensemble.skops",
                             WeightedEnsemble.from_fitted([linear, rf], [0.5, 0.5], "binary"),
                             manifest)
    rows = folder / "rows.parquet"
    X.head(60).to_parquet(rows)
    return folder, files, rows


def _two(triple):
    pipe, _, manifest = triple
    return pipe, manifest


@pytest.fixture(scope="module")
def workers(base):
    with running(base[2], timeout=90) as pool:
        yield pool


def _tree_member(field):
    return lambda s: find(s, "Tree", "TreeNode")[0]["content"]["content"][field]["file"]


def _predictor_member(s):
    return find(s, "TreePredictor")[1]["content"]["content"]["nodes"]["file"]


def _set(field, value, at=0):
    def edit(arr):
        arr[field][at] = value
    return edit


def _forest(arr):
    """The first inner node's left child points back at the root: a cycle."""
    inner = np.flatnonzero(arr["left_child"] > 0)
    arr["left_child"][inner[1]] = 0


def _node_count(schema):
    tree = find(schema, "Tree", "TreeNode")[0]["content"]["content"]
    tree["node_count"]["content"] = str(int(tree["node_count"]["content"]) + 1000)


def _max_depth(schema):
    find(schema, "Tree", "TreeNode")[0]["content"]["content"]["max_depth"]["content"] = "1"


def _lightgbm(pattern, repl):
    def edit(schema):
        handle = find(schema, "Booster", "ObjectNode")[0]["content"]["content"]["_handle"]
        text = json.loads(handle["content"])
        new = re.sub(pattern, repl, text, count=1, flags=re.M)
        assert new != text
        handle["content"] = json.dumps(new)
    return edit


def _xgboost(key: bytes, value: int, skip: int = 0):
    """Patch the ``skip``-th integer of the typed array stored under ``key``."""
    def edit(parts):
        name = next(n for n in parts if n.endswith(".bin"))
        raw = bytearray(parts[name])
        at = raw.index(b"L" + struct.pack(">q", len(key)) + key) + 9 + len(key)
        assert raw[at:at + 3] == b"[$l"
        struct.pack_into(">i", raw, at + 13 + 4 * skip, value)
        parts[name] = bytes(raw)
    return edit


def _xgboost_string(parts):
    """A key whose length runs far beyond the data (XGBoost copies that many bytes)."""
    name = next(n for n in parts if n.endswith(".bin"))
    raw = bytearray(parts[name])
    struct.pack_into(">q", raw, 2, 2**40)
    parts[name] = bytes(raw)


ARRAY_EDITS = {  # family -> edits of one array member: (name, pick member, edit)
    "rf": [("child 10**12", _tree_member("nodes"), _set("left_child", 10**12)),
           ("feature 2**31", _tree_member("nodes"), _set("feature", 2**31)),
           ("negative child", _tree_member("nodes"), _set("right_child", -7)),
           ("NaN threshold", _tree_member("nodes"), _set("threshold", np.nan)),
           ("cycle", _tree_member("nodes"), _forest),
           ("NaN value", _tree_member("values"), lambda a: a.__setitem__((0, 0, 0), np.nan))],
    "hgb": [("feature 2**31", _predictor_member, _set("feature_idx", 2**31)),
            # found by the fuzz (seed 13, mutant 1793): feature_idx is signed
            ("negative feature", _predictor_member, _set("feature_idx", -(2**62))),
            ("child 10**6", _predictor_member, _set("left", 10**6)),
            ("categorical", _predictor_member, _set("is_categorical", 1)),
            ("NaN value", _predictor_member, _set("value", np.nan, at=-1))],
}
SCHEMA_EDITS = {
    "rf": [("node_count beyond the array", _node_count), ("depth", _max_depth)],
    "lgbm": [("feature 2**31", _lightgbm(r"^split_feature=\d+", "split_feature=2147483000")),
             ("feature beyond the input", _lightgbm(r"^split_feature=\d+", "split_feature=99")),
             ("child 100000", _lightgbm(r"^left_child=\d+", "left_child=100000")),
             ("leaf -100000", _lightgbm(r"^left_child=\d+", "left_child=-100000")),
             ("cycle", _lightgbm(r"^left_child=(\S+) (\S+)", r"left_child=\1 0")),
             ("tree size", _lightgbm(r"^tree_sizes=\d+", "tree_sizes=5")),
             ("fewer thresholds", _lightgbm(r"^threshold=\S+ ", "threshold=")),
             ("NaN threshold", _lightgbm(r"^threshold=\S+ ", "threshold=nan ")),
             ("-inf threshold", _lightgbm(r"^threshold=\S+ ", "threshold=-inf ")),
             ("num_leaves", _lightgbm(r"^num_leaves=\d+", "num_leaves=400")),
             ("trees per iteration", _lightgbm(r"^num_tree_per_iteration=1",
                                               "num_tree_per_iteration=3"))],
}
PART_EDITS = {
    "xgb": [("feature 2**31", _xgboost(b"split_indices", 2**31 - 5)),
            ("child 10**6", _xgboost(b"left_children", 10**6)),
            ("negative child", _xgboost(b"left_children", -7)),
            ("parent 100000", _xgboost(b"parents", 100000, skip=2)),
            ("cycle", _xgboost(b"left_children", 0, skip=1)),
            ("string length", _xgboost_string)],
}


def _cases():
    for family, edits in ARRAY_EDITS.items():
        for name, pick, edit in edits:
            yield pytest.param(family, "array", (pick, edit), id=f"{family}-{name}")
    for family, edits in SCHEMA_EDITS.items():
        for name, edit in edits:
            yield pytest.param(family, "schema", edit, id=f"{family}-{name}")
    for family, edits in PART_EDITS.items():
        for name, edit in edits:
            yield pytest.param(family, "parts", edit, id=f"{family}-{name}")


@pytest.mark.parametrize(("family", "kind", "edit"), list(_cases()))
def test_edited_native_arrays_are_refused_not_run(base, workers, tmp_path, family, kind, edit):
    src, dst = base[1][family], tmp_path / "edited.skops"
    if kind == "array":
        edit_array(src, dst, *edit)
    elif kind == "schema":
        edit_schema(src, dst, edit)
    else:
        parts = members(src)
        edit(parts)
        write(dst, parts)
    answer = workers.run([dst])[str(dst)]
    assert answer["outcome"] == "UnsafeModelError", answer
    assert "could crash" in answer["message"] or "does not write" in answer["message"]


def test_the_unedited_files_load_and_score(base, workers):
    answers = workers.run(list(base[1].values()))
    assert {a["outcome"] for a in answers.values()} == {"ok"}, answers


def test_knn_search_trees_are_rebuilt_from_the_kept_rows(base, workers, tmp_path):
    """The ball/kd tree's index arrays are never trusted: wild values change nothing."""
    dst = edit_array(base[1]["knn"], tmp_path / "knn.skops",
                     lambda s: find(s, "KDTree")[0]["content"]["content"][1]["file"],
                     lambda a: a.__setitem__(slice(None), 10**9))
    labels = edit_array(base[1]["knn"], tmp_path / "labels.skops",
                        lambda s: find(s, "KNeighborsClassifier")[0]["content"]["content"][
                            "_y"]["file"], lambda a: a.__setitem__(0, 10**6))
    answers = workers.run([dst, labels])
    assert answers[str(dst)]["outcome"] == "ok", answers
    assert answers[str(labels)]["outcome"] == "UnsafeModelError", answers


def test_encoders_that_would_emit_columns_out_of_range_are_refused(base, workers, tmp_path):
    def vocabulary(schema):
        vocab = next(n for n in find(schema, "TfidfVectorizer") if "vocabulary_" in n[
            "content"]["content"])["content"]["content"]["vocabulary_"]
        return next(iter(vocab["content"].values()))["file"]

    def outputs(schema):
        """The last column's block of output columns shrunk to nothing: its codes would
        point past the matrix."""
        enc = next(n for n in find(schema, "OneHotEncoder") if "categories_" in n["content"][
            "content"])
        enc["content"]["content"]["_n_features_outs"]["content"][-1]["content"] = "0"

    tfidf = edit_array(base[1]["linear"], tmp_path / "tfidf.skops", vocabulary,
                       lambda a: np.int64(10**6))
    onehot = edit_schema(base[1]["linear"], tmp_path / "onehot.skops", outputs)
    answers = workers.run([tfidf, onehot])
    assert {a["outcome"] for a in answers.values()} == {"UnsafeModelError"}, answers


def test_every_ensemble_member_is_checked(base, workers, tmp_path):
    dst = edit_array(base[1]["ensemble"], tmp_path / "e.skops", _tree_member("nodes"),
                     _set("feature", 2**31))
    assert workers.run([dst])[str(dst)]["outcome"] == "UnsafeModelError"


@pytest.mark.parametrize("family", ["hgb", "rf", "lgbm", "xgb"])
def test_a_split_that_sends_missing_values_apart_loads(family, tmp_path):
    """A split on missingness has threshold +inf (every number left, missing right): a real
    model, not a crafted one, so it loads and scores."""
    import pandas as pd

    from automl.bundle import load_model, save_model
    from automl.contracts import ModelManifest
    from automl.data.schema import ColumnInfo, Kind, Schema
    from automl.families import REGISTRY, FamilyContext
    from automl.search.context import make_pipeline

    rng = np.random.default_rng(0)
    x = rng.normal(size=600)
    y = (np.arange(600) % 3 == 0).astype(int)
    x[y == 1] = np.nan  # the class is exactly "x is missing"
    X = pd.DataFrame({"x": x, "z": rng.normal(size=600)})
    schema = Schema((ColumnInfo("x", Kind.NUMERIC, "float64", int(np.isnan(x).sum()), 400),
                     ColumnInfo("z", Kind.NUMERIC, "float64", 0, 600)))
    fam = REGISTRY[family]
    ctx = FamilyContext(task="binary", n_rows=600, n_columns=2, n_classes=2)
    pipe = make_pipeline(schema, fam, fam.defaults(ctx)[0], ctx).fit(X, y)
    if family == "hgb":
        nodes = [p.nodes for p in pipe.named_steps["model"]._predictors[0]]
        assert any(np.isinf(n["num_threshold"][n["is_leaf"] == 0]).any() for n in nodes)
    if family == "lgbm":
        text = pipe.named_steps["model"].booster_.model_to_string()
        assert any(" inf" in line or "=inf" in line for line in text.split("\n")
                   if line.startswith("threshold="))
    path = save_model(tmp_path / "m.skops", pipe, ModelManifest(task="binary", classes=(0, 1),
                                                                 schema=schema))
    scores = load_model(path).predict(X.head(30))
    assert (scores["prediction"].to_numpy() == y[:30]).all()
