"""The model file: round trips for every kind of family, schema enforcement at scoring time,
and refusal of pickles, foreign types and tampered files before anything in them runs."""

from __future__ import annotations

import io
import json
import os
import pickle
import zipfile
from pathlib import Path

import joblib
import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import skops.io as sio
import xgboost as xgb
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from automl import bundle, families
from automl.bundle import ALLOWED_TYPES, Model, _allowed, load_model, read_manifest, save_model
from automl.contracts import ModelManifest
from automl.data.schema import ColumnInfo, Kind, Schema
from automl.errors import ConfigError, ModelFileError, SchemaMismatchError, UnsafeModelError
from automl.families import REGISTRY
from automl.preprocess import PrepOptions, build_preprocessor
from tests.bundle_files import LABELS, forge, make_data, reseal


def fit(task: str, estimator, options: PrepOptions | None = None):
    """Fit ``Pipeline([prep, model])`` with the target encoded 0..k-1; return it, X and the
    manifest the engine would write."""
    X, y, schema = make_data(task)
    pipe = Pipeline([("prep", build_preprocessor(schema, task, options)), ("model", estimator)])
    pipe.fit(X, y)
    manifest = ModelManifest(task=task, target="target", schema=schema, classes=LABELS[task],
                             extra={"metrics": {"cv": 0.9}})
    return pipe, X, manifest


@pytest.fixture(scope="module")
def binary_model(tmp_path_factory):
    pipe, X, manifest = fit("binary", xgb.XGBClassifier(n_estimators=20, max_depth=3))
    path = tmp_path_factory.mktemp("m") / "binary.automl"
    save_model(path, pipe, manifest)
    return path, pipe, X


def rewrite(src: Path, dst: Path, edit) -> Path:
    """Copy a zip member by member, passing each (name, bytes) through ``edit``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, edit(info.filename, zin.read(info)))
    return dst


CASES = [
    ("binary", lambda: xgb.XGBClassifier(n_estimators=20, max_depth=3), None),
    ("binary", lambda: LogisticRegression(max_iter=2000), PrepOptions(scale=True, dense=True)),
    ("binary", lambda: KNeighborsClassifier(5), PrepOptions(scale=True)),
    ("multiclass", lambda: lgb.LGBMClassifier(n_estimators=20, verbose=-1), None),
    ("multiclass", lambda: RandomForestClassifier(20, random_state=0), None),
    ("regression", lambda: xgb.XGBRegressor(n_estimators=20), None),
    ("regression", lambda: lgb.LGBMRegressor(n_estimators=20, verbose=-1), None),
    ("regression", lambda: HistGradientBoostingRegressor(max_iter=20), None),
    ("regression", lambda: Ridge(), PrepOptions(scale=True)),
]


@pytest.mark.parametrize(("task", "make", "options"), CASES)
def test_round_trip_gives_identical_predictions(tmp_path, task, make, options):
    pipe, X, manifest = fit(task, make(), options)
    path = save_model(tmp_path / "model.skops", pipe, manifest)
    model = load_model(path)
    out = model.predict(X)
    assert model.task == task and model.target == "target"
    assert model.schema.names == manifest.input_schema().names
    if task == "regression":
        assert list(out.columns) == ["prediction"]
        np.testing.assert_array_equal(out["prediction"].to_numpy(), pipe.predict(X))
        with pytest.raises(ConfigError, match="regression"):
            model.predict_proba(X)
        return
    proba = pipe.predict_proba(X)
    labels = LABELS[task]
    assert model.classes == labels
    assert list(out.columns) == ["prediction", *(f"proba_{c}" for c in labels)]
    np.testing.assert_array_equal(model.predict_proba(X), proba)
    np.testing.assert_array_equal(out.iloc[:, 1:].to_numpy(), proba)
    assert out["prediction"].tolist() == [labels[i] for i in proba.argmax(axis=1)]


def test_labels_keep_their_type(tmp_path, binary_model):
    path, _, X = binary_model
    assert set(load_model(path).predict(X)["prediction"]) <= {"no", "yes"}
    pipe, X, manifest = fit("multiclass", LogisticRegression(max_iter=2000))
    out = load_model(save_model(tmp_path / "m", pipe, manifest)).predict(X)
    assert out["prediction"].dtype.kind == "i"  # integer labels stay integers
    assert set(out["prediction"]) <= {10, 20, 30}


def test_manifest_is_written_and_read_without_loading(binary_model, monkeypatch):
    path, _, _ = binary_model
    boom = pytest.fail  # reading a manifest must build nothing
    monkeypatch.setattr(sio, "load", lambda *a, **k: boom("loaded"))
    monkeypatch.setattr(sio, "loads", lambda *a, **k: boom("loaded"))
    m = read_manifest(path)
    assert isinstance(m, ModelManifest) and m.task == "binary" and m.target == "target"
    assert m.extra["format"] == "automl-model" and m.format_version == 2
    assert m.classes == ("no", "yes") and m.extra["metrics"] == {"cv": 0.9}
    assert set(m.library_versions) == {"python", "sklearn", "xgboost", "lightgbm", "skops",
                                       "numpy", "pandas"}
    assert len(m.sha256) == 64 and m.created_at.endswith("+00:00") and m.signature is None
    assert m.input_schema().names[-1] == "row_id"


def test_save_writes_exactly_the_path_atomically(tmp_path, binary_model):
    _, pipe, _ = binary_model
    path = save_model(tmp_path / "model", pipe, {"task": "binary", "classes": ["no", "yes"],
                                                 "schema": []})
    assert path == tmp_path / "model" and os.listdir(tmp_path) == ["model"]
    with pytest.raises(ModelFileError, match="classes"):
        save_model(tmp_path / "bad", pipe, {"task": "binary", "schema": []})
    assert os.listdir(tmp_path) == ["model"]


def test_order_and_index_are_preserved(binary_model):
    path, _, X = binary_model
    model = load_model(path)
    expected = model.predict(X)
    shuffled = X.sample(frac=1, random_state=1)
    shuffled.index = shuffled.index * 7 + 3
    out = model.predict(shuffled)
    assert out.index.equals(shuffled.index)
    np.testing.assert_array_equal(out.to_numpy(), expected.loc[(out.index - 3) // 7].to_numpy())


def test_extra_reordered_and_absent_id_columns(binary_model):
    path, _, X = binary_model
    model = load_model(path)
    expected = model.predict(X)
    messy = X.drop(columns="row_id").assign(extra=1, other="x")[[*X.columns[::-1][1:],
                                                                 "extra", "other"]]
    pd.testing.assert_frame_equal(model.predict(messy), expected)
    assert list(model.prepare(messy).columns) == list(X.columns)


def test_missing_columns_are_all_named_with_suggestions(binary_model):
    path, _, X = binary_model
    model = load_model(path)
    with pytest.raises(SchemaMismatchError) as err:
        model.predict(X.drop(columns=["mean radius", "note"]).rename(columns={"color": "colour"}))
    msg = str(err.value)
    assert "'mean radius'" in msg and "'note'" in msg and "'color'" in msg
    assert "'color' -> 'colour'?" in msg and "row_id" not in msg


def test_unseen_categories_and_text_numbers(binary_model):
    path, _, X = binary_model
    model = load_model(path)
    rows = X.head(20).copy()
    rows["color"], rows["city"], rows["note"] = "purple", "atlantis", "never seen words"
    rows["flag"] = None
    rows["mean radius"] = ["12.5", "n/a", "", *map(str, rows["mean radius"][3:])]
    out = model.predict(rows)
    assert len(out) == 20 and out.iloc[:, 1:].sum(axis=1).round(6).eq(1).all()
    assert model.last_warnings == ["column 'mean radius': 1 value(s) are not numbers and were "
                                   "treated as missing"]
    assert model.prepare(rows)["mean radius"].dtype == "float64"
    assert model.predict(X.head(0)).shape == (0, 3)


def test_float_coded_integer_categories_match_training(tmp_path):
    X, y, _ = make_data("binary")
    X = X[["mean radius"]].assign(grade=np.arange(len(X)) % 3)
    schema = Schema((ColumnInfo("mean radius", Kind.NUMERIC, "float64", 0, 10),
                     ColumnInfo("grade", Kind.CATEGORICAL, "int64", 0, 3)))
    pipe = Pipeline([("prep", build_preprocessor(schema, "binary")),
                     ("model", LogisticRegression())]).fit(X, y)
    model = load_model(save_model(tmp_path / "m", pipe, ModelManifest(
        task="binary", classes=(0, 1), schema=schema)))
    blanks = X.assign(grade=X["grade"].astype(float).where(X.index > 0))  # 2 -> 2.0, one NaN
    np.testing.assert_array_equal(model.predict_proba(blanks)[1:], pipe.predict_proba(X)[1:])


class Marker:
    """Its unpickling (and, for skops, its construction) would create a file."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))

    def __setstate__(self, state):
        Path(state["path"]).touch()


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_pickles_are_refused_without_running(tmp_path, protocol):
    marker = tmp_path / "ran"
    harmless, evil = tmp_path / "harmless.pkl", tmp_path / "model.skops"
    harmless.write_bytes(pickle.dumps({"a": [1, 2]}, protocol=protocol))
    evil.write_bytes(pickle.dumps(Marker(str(marker)), protocol=protocol))
    for path in (harmless, evil):
        for reader in (load_model, read_manifest):
            with pytest.raises(UnsafeModelError, match="never loads pickle files") as err:
                reader(path)
            assert "can run" in str(err.value) and "automl train" in str(err.value)
    assert not marker.exists()


@pytest.mark.parametrize("compress", [0, 3, "gzip", "bz2", "xz"])
def test_joblib_files_are_refused(tmp_path, binary_model, compress):
    path = tmp_path / "model.joblib"
    joblib.dump(binary_model[1], path, compress=compress)
    with pytest.raises(UnsafeModelError, match="pickle"):
        load_model(path)


def test_missing_junk_and_foreign_zips_are_refused(tmp_path, binary_model):
    with pytest.raises(ModelFileError, match="no model file"):
        load_model(tmp_path / "nope.skops")
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a model " * 400)  # random bytes may start like a pickle
    with pytest.raises(ModelFileError, match="not an automl model file"):
        load_model(junk)
    plain = tmp_path / "plain.skops"
    sio.dump(binary_model[1], plain)  # a real skops file, but not ours
    for reader in (load_model, read_manifest):
        with pytest.raises(ModelFileError, match="not an automl model file"):
            reader(plain)


def test_tampered_payload_is_refused(tmp_path, binary_model):
    src = binary_model[0]
    edited = rewrite(src, tmp_path / "t", lambda n, b: b.replace(b'"max_depth"', b'"max_dept"')
                     if n == "schema.json" else b)
    assert edited.read_bytes() != src.read_bytes()
    with pytest.raises(UnsafeModelError, match="modified after it was saved"):
        load_model(edited)
    with zipfile.ZipFile(edited := tmp_path / "dup", "w") as z:  # a second member, same name
        for info in zipfile.ZipFile(src).infolist():
            z.writestr(info.filename, zipfile.ZipFile(src).read(info))
        with pytest.warns(UserWarning):
            z.writestr("schema.json", b"{}")
    with pytest.raises(UnsafeModelError, match="duplicate"):
        load_model(edited)


def test_newer_format_version_asks_to_upgrade(tmp_path, binary_model):
    def bump(name, body):
        return json.dumps({**json.loads(body), "format_version": 3}).encode() \
            if name == bundle.MANIFEST_NAME else body

    with pytest.raises(ModelFileError, match="Upgrade automl"):
        load_model(rewrite(binary_model[0], tmp_path / "v2", bump))


class Evil(TransformerMixin, BaseEstimator):
    """A transformer whose construction on load would create a marker file."""

    def __init__(self, path: str = ""):
        self.path = path

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X

    def __setstate__(self, state):
        Path(state["path"]).touch()
        self.__dict__.update(state)


def test_types_outside_the_allow_list_are_refused(tmp_path, binary_model):
    marker = tmp_path / "ran"
    _, pipe, _ = binary_model
    manifest = {"task": "binary", "classes": ["no", "yes"], "schema": []}
    for step, named in [(FunctionTransformer(func=os.system), "system"),
                        (Evil(str(marker)), "test_bundle.Evil")]:
        bad = Pipeline([("evil", step), *pipe.steps])
        with pytest.raises(ModelFileError, match=f"cannot save.*{named}"):
            save_model(tmp_path / "bad.skops", bad, manifest)
        path = forge(tmp_path / "bad.skops", bad, manifest)  # a valid hash: only types
        with pytest.raises(UnsafeModelError, match=named) as err:  # stand in the way
            load_model(path)
        assert "does not write" in str(err.value)
    assert not marker.exists()


def test_allow_list_is_fixed_and_covers_our_transformers():
    assert isinstance(ALLOWED_TYPES, frozenset) and _allowed.trusted() == ALLOWED_TYPES
    assert {"automl.preprocess.DateFeatures", "automl.preprocess.TextTfidf",
            "automl.preprocess.CategoryCleaner", "xgboost.core.Booster"} <= ALLOWED_TYPES
    assert not any(t.startswith(("builtins.", "os.", "posix.", "subprocess")) for t in
                   ALLOWED_TYPES)
    assert set(bundle.__all__) == {"ALLOWED_TYPES", "MANIFEST_NAME", "REFERENCE_NAME", "Model",
                                   "load_model", "preload", "read_manifest", "read_reference",
                                   "save_model"}
    assert Model.__doc__


def test_the_allow_list_is_the_generic_types_and_what_the_registered_families_declare():
    declared = set().union(*(f.allowed_types for f in REGISTRY.values()))
    loaders = _allowed.loaders()
    objects = loaders["ObjectNode"][0]
    assert objects == _allowed.GENERIC_OBJECTS | (declared - set(_allowed.OWN_LOADER))
    for name, loader in _allowed.OWN_LOADER.items():  # e.g. a Tree: by its own loader only
        assert name not in objects
        assert (name in loaders[loader][0]) == (name in declared)
    assert declared <= ALLOWED_TYPES
    assert not any(t.startswith(("builtins.", "os.", "posix.", "subprocess", "importlib",
                                 "functools", "operator")) for t in declared)


def test_a_type_only_an_unregistered_family_declares_is_refused(tmp_path, binary_model,
                                                                monkeypatch):
    """The allow-list follows the registry: without XGBoost's family, an XGBoost model file
    is refused before anything in it is built."""
    path = binary_model[0]
    monkeypatch.setattr(families, "REGISTRY",
                        {n: f for n, f in REGISTRY.items() if n != "xgb"})
    with pytest.raises(UnsafeModelError, match="xgboost.sklearn.XGBClassifier"):
        load_model(path)
    monkeypatch.undo()
    assert load_model(path).task == "binary"


@pytest.mark.slow
def test_scores_100k_rows_in_one_call(tmp_path, binary_model):
    """Throughput is a benchmark's business (no timed assertion here): 100k rows score in one
    call, in order, with probabilities that sum to one."""
    X, _, _ = make_data("binary", n=100_000, seed=1)
    model = load_model(binary_model[0])
    out = model.predict(X)
    assert len(out) == 100_000 and out.index.equals(X.index)
    assert np.allclose(out.filter(like="proba_").sum(axis=1), 1.0)
    alone = model.predict(X.tail(5))  # a row scores the same alone as in the batch
    assert np.allclose(alone.filter(like="proba_"), out.tail(5).filter(like="proba_"))


def test_bytes_in_memory_are_the_bytes_loaded(binary_model):
    data = binary_model[0].read_bytes()
    assert data[:4] == b"PK\x03\x04" and bundle.MANIFEST_NAME.encode() in data
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None


def test_damaged_payload_with_a_matching_hash_is_refused(tmp_path, binary_model):
    """The hash stops accidents, not attackers (anyone can recompute it): a crafted payload
    must still fail as a ModelFileError, not a crash inside skops."""
    broken = rewrite(binary_model[0], tmp_path / "b", lambda n, b: b"{not json"
                     if n == "schema.json" else b)
    fixed = reseal(broken, tmp_path / "c")
    with pytest.raises(ModelFileError, match="damaged"):
        load_model(fixed)


def test_manifest_must_be_json(tmp_path, binary_model):
    with pytest.raises(ModelFileError, match="not JSON"):
        save_model(tmp_path / "m", binary_model[1], {"task": "binary", "classes": ["no", "yes"],
                                                     "schema": [], "when": object()})
    assert os.listdir(tmp_path) == []
