"""Model files that make the loader call something with arguments from the file (a path to
open, a size to allocate, a type to call): refused before the call, in a child process."""

from __future__ import annotations

import os

import pytest

from tests.bundle_files import (
    attr,
    edit_schema,
    find,
    fitted,
    json_node,
    make_data,
    replace,
    save,
    tuple_node,
)
from tests.bundle_worker import running

pytestmark = pytest.mark.slow  # starts two Python processes with the model libraries


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    folder = tmp_path_factory.mktemp("calls")
    files = {}
    for family, params in {"lgbm": {"lgbm__n_estimators": 3}, "rf": {"rf__n_estimators": 3},
                           "hgb": {"hgb__max_iter": 3}, "linear": {}}.items():
        pipe, _, manifest = fitted(family, "regression" if family == "hgb" else "binary",
                                   params=params)
        files[family] = save(folder / f"{family}.skops", pipe, manifest)
    rows = folder / "rows.parquet"
    X = make_data("regression")[0].head(40)  # the rows carry the columns of both tasks
    X.join(make_data("binary")[0].head(40), suffixes=("", "_b")).to_parquet(rows)
    fifo = folder / "fifo"
    os.mkfifo(fifo)
    return files, rows, fifo


@pytest.fixture(scope="module")
def workers(base):
    with running(base[1], timeout=60) as pool:
        yield pool


def _booster_from_path(fifo):
    """``lightgbm.basic.Booster(None, None, fifo)``: opening the FIFO would block forever."""
    def edit(schema):
        def call(node):
            args = [json_node(None, 1), json_node(None, 2), json_node(str(fifo), 3)]
            return {"__class__": "Booster", "__module__": "lightgbm.basic", "__id__": 4,
                    "__loader__": "ConstructorFromReduceNode", "content": tuple_node(args, 5)}
        assert replace(schema, lambda n: n.get("__class__") == "Booster", call) == 1
    return edit


def _ordered_dict_call(schema):
    def call(node):
        return {"__class__": "OrderedDict", "__module__": "collections", "__id__": 6,
                "__loader__": "ConstructorFromReduceNode",
                "content": tuple_node([json_node([["a", 1]], 7)], 8)}
    assert replace(schema, lambda n: n.get("__class__") == "KFold", call) >= 1


def _tree_outputs(schema):
    """``Tree(n_features, n_classes, 10**9)`` allocates 8 GB before any check."""
    args = find(schema, "Tree", "TreeNode")[0]["__reduce__"]["args"]["content"]
    args[2] = json_node(10**9, 14)  # a new id: small numbers share theirs (see _loss_args)


def _seed_pool(schema):
    """``SeedSequence(pool_size=10**10)`` allocates 40 GB."""
    gen = find(schema, "Generator", "RandomGeneratorNode")[0]
    gen["content"]["seed_seq"]["content"]["pool_size"] = json_node(10**10, 15)


def _loss_args(schema):
    loss = find(schema, loader="LossNode")[0]
    loss["__reduce__"]["args"] = tuple_node([json_node(0.5, 9)], 13)  # a new id: the empty
    # tuple's id is shared, and skops would build its first occurrence instead


def _called_type(schema):
    """An attribute that shadows a method with a type: predict_proba would call ``str``."""
    model = find(schema, "LogisticRegression")[0]
    attrs = model["content"]
    attrs["content"]["predict_proba"] = {"__class__": "str", "__module__": "builtins",
                                         "__loader__": "TypeNode", "__id__": 10}
    attrs["key_types"]["content"].append(dict(attrs["key_types"]["content"][0]))


def _file_input(schema):
    """A TF-IDF that reads the file named by each text value."""
    vec = next(n for n in find(schema, "TfidfVectorizer") if "vocabulary_" in n["content"][
        "content"])
    attr(vec, "input")["content"] = '"filename"'


def _ufunc(schema):
    """A function reference (numpy.exp, which skops trusts by default) in a step."""
    def step(node):
        return {"__class__": "FunctionTransformer", "__id__": 11, "__loader__": "ObjectNode",
                "__module__": "sklearn.preprocessing._function_transformer",
                "content": {**node["content"], "content": {
                    **node["content"]["content"], "func": {
                        "__class__": "exp", "__module__": "numpy", "__id__": 12,
                        "__loader__": "FunctionNode"}}}}
    assert replace(schema, lambda n: n.get("__class__") == "StandardScaler"
                   and "mean_" in n["content"]["content"], step) >= 1


CASES = {
    "booster from a path": ("lgbm", None),
    "OrderedDict with arguments": ("linear", _ordered_dict_call),
    "tree of 10**9 outputs": ("rf", _tree_outputs),
    "seed pool of 10**10": ("hgb", _seed_pool),
    "loss with arguments": ("hgb", _loss_args),
    "a type where a method is": ("linear", _called_type),
    "text read from files": ("linear", _file_input),
    "a function reference": ("linear", _ufunc),
}


@pytest.mark.parametrize("case", list(CASES))
def test_calls_with_arguments_from_the_file_are_refused(base, workers, tmp_path, case):
    family, edit = CASES[case]
    files, _, fifo = base
    dst = edit_schema(files[family], tmp_path / "edited.skops", edit or _booster_from_path(fifo))
    answer = workers.run([dst])[str(dst)]
    assert answer["outcome"] == "UnsafeModelError", answer
    assert "automl does not write" in answer["message"], answer


def test_the_unedited_files_load(base, workers):
    answers = workers.run(list(base[0].values()))
    assert {a["outcome"] for a in answers.values()} == {"ok"}, answers
