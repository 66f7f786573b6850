"""The loader under 1,200 seeded mutations of real model files (bytes, zip structure,
manifest and schema fields, array contents, booster payloads; see tests/bundle_mutations.py).

Each file is loaded and used to score rows in a child process: it may load, or fail with
one of the project's errors; a signal, a hang or any other exception fails the test, which
names the mutation. Reproduce one with ``mutate(SEED, index, base file bytes)``.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from automl.bundle import load_model
from automl.data.schema import ColumnInfo, Kind, Schema
from automl.ensemble import WeightedEnsemble
from automl.errors import ModelFileError, UnsafeModelError
from tests.bundle_files import edit_schema, find, fitted, make_data, save
from tests.bundle_mutations import mutate
from tests.bundle_worker import running

SEED = 20240609
N_FILES = 1200
PROJECT_ERRORS = {"ModelFileError", "UnsafeModelError", "SchemaMismatchError", "ConfigError",
                  "DataError"}


def _sparse_rows(n: int, seed: int = 0):
    """Eight categorical columns: one-hot output sparse enough that k-NN keeps a csr matrix."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({f"c{i}": rng.choice([f"v{j}" for j in range(12)], n) for i in range(8)})
    y = (X.c0.isin(["v1", "v2", "v3"]) ^ X.c1.isin(["v4"])).to_numpy().astype(int)
    schema = Schema(tuple(ColumnInfo(c, Kind.CATEGORICAL, "str", 0, 12) for c in X.columns))
    return X, y, schema


def base_files(folder):
    """Small real models of every family and task the fuzz starts from, and rows for all."""
    small = {"xgb": {"xgb__n_estimators": 3}, "lgbm": {"lgbm__n_estimators": 3},
             "hgb": {"hgb__max_iter": 3}, "rf": {"rf__n_estimators": 3},
             "et": {"et__n_estimators": 3}, "linear": {}, "knn": {}}
    plan = [("xgb", "binary"), ("lgbm", "binary"), ("hgb", "binary"), ("rf", "binary"),
            ("linear", "binary"), ("knn", "binary"), ("xgb", "multiclass"),
            ("hgb", "multiclass"), ("lgbm", "regression"), ("et", "regression")]
    files = []
    for family, task in plan:
        pipe, _, manifest = fitted(family, task, small[family])
        files.append(save(folder / f"{family}-{task}.skops", pipe, manifest))
    X, y, _ = make_data("binary")
    from automl.data import infer_schema

    numeric = X.iloc[:, :4]
    pipe, _, manifest = fitted("knn", X=numeric, y=y, schema=infer_schema(numeric))
    files.append(save(folder / "knn-kdtree.skops", pipe, manifest))
    Xs, ys, schema = _sparse_rows(300)
    pipe, _, manifest = fitted("knn", X=Xs, y=ys, schema=schema)
    files.append(save(folder / "knn-sparse.skops", pipe, manifest))
    members = [fitted("linear")[0], fitted("hgb", params=small["hgb"])[0]]
    files.append(save(folder / "ensemble.skops", WeightedEnsemble.from_fitted(
        members, [0.3, 0.7], "binary"), fitted("linear")[2]))
    rows = X.head(30)  # each model finds its columns by name; the datasets share some
    for task in ("multiclass", "regression"):
        other = make_data(task)[0].head(30)
        rows = rows.join(other[[c for c in other.columns if c not in rows.columns]])
    rows = rows.join(_sparse_rows(30, seed=1)[0])
    path = folder / "rows.parquet"
    rows.to_parquet(path)
    return files, path


@pytest.mark.slow
def test_mutated_model_files_give_only_the_projects_errors(tmp_path):
    files, rows = base_files(tmp_path)
    mutants, what = [], {}
    for i in range(N_FILES):
        src = files[i % len(files)]
        data, description = mutate(SEED, i, src.read_bytes())
        dst = tmp_path / f"mutant-{i:04d}.skops"
        dst.write_bytes(data)
        mutants.append(dst)
        what[str(dst)] = f"#{i} of {src.name}: {description}"
    with running(rows, n=2, timeout=60, log_dir=tmp_path) as pool:
        clean = pool.run(files)
        assert {a["outcome"] for a in clean.values()} == {"ok"}, clean
        answers = pool.run(mutants)
    outcomes = {}
    for a in answers.values():
        outcomes[a["outcome"]] = outcomes.get(a["outcome"], 0) + 1
    bad = [f"{what[p]} -> {a['outcome']}: {a.get('message', '')[:300]}"
           for p, a in answers.items() if a["outcome"] not in PROJECT_ERRORS | {"ok"}]
    assert not bad, f"{len(bad)} of {N_FILES} mutants escaped ({outcomes}):\n" + "\n".join(
        bad[:40])
    assert len(answers) == N_FILES and outcomes.get("ok", 0) < N_FILES


# What earlier runs of the fuzz found, kept as plain tests (seed 7: mutants 2489 and 2642;
# seed 11: a flipped byte in a zip entry's "version needed to extract").

@pytest.fixture(scope="module")
def linear_file(tmp_path_factory):
    pipe, _, manifest = fitted("linear")
    return save(tmp_path_factory.mktemp("found") / "linear.skops", pipe, manifest)


def test_a_deeply_nested_json_value_is_refused_before_it_is_decoded(linear_file, tmp_path):
    def nest(schema):
        node = next(n for n in find(schema, loader="JsonNode") if n["content"] == "false")
        node["content"], node["__id__"] = "[" * 2000 + "]" * 2000, 10**15  # ids of small
        # values are shared: a new one, or the repeat is refused as a different object

    with pytest.raises(UnsafeModelError, match="malformed JSON value"):
        load_model(edit_schema(linear_file, tmp_path / "deep.skops", nest))


def test_an_object_that_contains_itself_is_refused(linear_file, tmp_path):
    def loop(schema):
        scaler = next(n for n in find(schema, "StandardScaler") if "mean_" in n["content"][
            "content"])
        attrs = scaler["content"]["content"]
        attrs["with_std"] = copy.deepcopy(scaler)  # same ids: skops resolves it to itself

    with pytest.raises(ModelFileError, match="refer to themselves"):
        load_model(edit_schema(linear_file, tmp_path / "loop.skops", loop))


def test_a_zip_entry_needing_a_newer_zip_version_is_a_damaged_file(linear_file, tmp_path):
    data = bytearray(linear_file.read_bytes())
    at = data.index(b"PK\x01\x02")
    data[at + 6] = 80  # version needed to extract: 8.0
    (tmp_path / "v8.skops").write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="damaged zip: zip file version 8.0"):
        load_model(tmp_path / "v8.skops")
