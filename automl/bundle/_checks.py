"""The built pipeline, checked before the Model is returned: the values native code indexes.

Type checks cannot tell a forest whose trees read feature 2**31 from a real one, so this walk
visits every object of the built pipeline (ensemble members included) and checks what
scikit-learn's compiled code will index without bounds checks: tree arrays (see
:mod:`automl.bundle._trees`), one-hot encoder and TF-IDF vocabularies (their outputs become
sparse column indices), sparse matrices, k-NN data. k-NN search trees are not checked but
rebuilt from the training rows the estimator keeps (``_fit_X``): it is cheap, and validating
a ball tree's bounds and index permutation would be far more code to get exactly right.
It also refuses types stored where the code would call them (only ``dtype`` parameters may
hold a type), readers that would open files named by the data (``input='filename'``), and
thread counts no machine has.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from pathlib import Path

import numpy as np

from automl.bundle._format import REEXPORT
from automl.bundle._trees import TreeError, check_predictor, check_tree
from automl.errors import UnsafeModelError

_PACKAGES = ("sklearn.", "automl.", "xgboost.", "lightgbm.")
_THREADS = frozenset({"n_jobs", "num_threads", "nthread"})
_METRICS = frozenset({"euclidean", "manhattan", "minkowski", "l1", "l2", "cityblock"})
_TOKENS = r"(?u)\b\w\w+\b"
_PLAIN = (np.ndarray, np.generic, np.dtype, np.random.Generator, str, bytes, int, float, slice)
_BOOSTERS = ("xgboost.core.", "lightgbm.basic.")


def check_built(obj, task: str, n_classes: int, path: Path) -> None:
    """Refuse a built pipeline whose arrays native code could not index safely, or that is
    not a model for ``task`` with ``n_classes`` classes (0 for regression)."""
    _Checks(path, n_classes).run(obj, task)


class _Checks:
    def __init__(self, path: Path, n_classes: int):
        self.path, self.n_classes = path, n_classes

    def refuse(self, where: str, what: str) -> UnsafeModelError:
        return UnsafeModelError(f"{self.path}: {where} {what}; automl does not write such a "
                                f"model, and using it could crash the process. {REEXPORT}")

    def run(self, root, task: str) -> None:
        from sklearn.base import is_regressor
        from sklearn.pipeline import Pipeline

        from automl.ensemble import WeightedEnsemble

        members = root.estimators if isinstance(root, WeightedEnsemble) else [root]
        if not isinstance(members, list) or not members or not all(
                isinstance(m, Pipeline) and [n for n, _ in m.steps] == ["prep", "model"]
                for m in members):
            raise self.refuse("the model", "is not a prep+model pipeline or an ensemble of them")
        if any(is_regressor(m) != (task == "regression") for m in members) or getattr(
                root, "task", task) != task:
            raise self.refuse("the model", f"is not a {task} model, as its manifest says")
        if isinstance(root, WeightedEnsemble):
            w = np.asarray(root.weights, dtype=float) if isinstance(root.weights, list) else None
            if w is None or w.shape != (len(members),) or not np.isfinite(w).all() or (
                    w < 0).any() or w.sum() <= 0:
                raise self.refuse("the ensemble", "has weights that are not one per member")
        seen: set[int] = set()
        stack = [("model", root)]
        while stack:
            name, obj = stack.pop()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            stack.extend(self.visit(name, obj))

    def visit(self, name: str, obj):
        """Check one object; return the (name, value) pairs inside it to visit next. Fitted
        estimators are checked (an unfitted one, such as a ColumnTransformer's template of
        its steps, only refuses to predict)."""
        import scipy.sparse as sp

        if isinstance(obj, type):
            if name != "dtype":
                raise self.refuse(f"the attribute {name!r}", f"holds the type {obj.__name__}")
            return []
        if name in _THREADS and obj is not None and not (
                type(obj) is int and -1 <= obj <= 1024):
            raise self.refuse(f"the setting {name}", f"is {obj!r:.20}")
        if isinstance(obj, dict):
            if isinstance(obj, defaultdict) and obj.default_factory not in (None, OrderedDict):
                raise self.refuse("a dictionary", "builds its values with a function")
            return [(str(k), v) for k, v in obj.items()]
        if isinstance(obj, list | tuple):
            return [(name, v) for v in obj]
        if sp.issparse(obj):
            self.sparse(name, obj)
            return []
        if obj is None or isinstance(obj, _PLAIN):
            return []
        cls = type(obj)
        module = f"{cls.__module__}."
        if not module.startswith(_PACKAGES):
            raise self.refuse(f"the attribute {name!r}", f"holds a {cls.__module__}."
                              f"{cls.__qualname__}")
        if module.startswith(_BOOSTERS):  # checked as they were built (automl.bundle._build)
            return []
        self.specific(obj)
        inside = getattr(obj, "__dict__", None)
        return list(inside.items()) if isinstance(inside, dict) else []

    def specific(self, obj) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.neighbors._base import NeighborsBase
        from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

        where = type(obj).__name__
        try:
            self.sizes(obj)
            if hasattr(obj, "tree_") and type(obj).__module__ == "sklearn.tree._classes":
                check_tree(obj.tree_, _width(obj))
            elif hasattr(obj, "estimators_") and type(obj).__module__.startswith(
                    "sklearn.ensemble._forest"):
                if any(_width(e) != _width(obj) for e in obj.estimators_):
                    raise TreeError("its trees read another number of features than it has")
            elif hasattr(obj, "_predictors"):
                self.hist_boosting(obj)
            elif isinstance(obj, NeighborsBase) and hasattr(obj, "_fit_X"):
                self.neighbors(obj)
            elif isinstance(obj, OneHotEncoder) and hasattr(obj, "categories_"):
                self.one_hot(obj)
            elif isinstance(obj, TfidfVectorizer) and hasattr(obj, "vocabulary_"):
                self.tfidf(obj)
            elif isinstance(obj, FunctionTransformer) and (
                    obj.func is not None or obj.inverse_func is not None):
                raise TreeError("calls a function")
        except TreeError as e:
            raise self.refuse(f"a {where}", f"is not as it was fitted: {e}") from None
        except (AttributeError, TypeError, ValueError, IndexError, KeyError) as e:
            raise self.refuse(f"a {where}", f"has unusable fitted attributes ({e})") from None

    def sizes(self, est) -> None:
        """Output counts the estimators allocate from: those of the manifest (a forest with
        10**12 classes would ask for that many columns of zeros per row)."""
        expected = {"n_outputs_": {1}, "n_trees_per_iteration_": {1, self.n_classes}}
        if self.n_classes:
            expected["n_classes_"] = {self.n_classes}
        for name, allowed in expected.items():
            value = getattr(est, name, None)
            if value is not None and not (isinstance(value, int | np.integer) and value in
                                          allowed):
                raise TreeError(f"has {name} = {value!r:.30}, for a model of "
                                f"{self.n_classes or 'no'} classes")

    def hist_boosting(self, est) -> None:
        per_iteration, width = est.n_trees_per_iteration_, _width(est)
        categorical = getattr(est._bin_mapper, "is_categorical_", None)
        for row in est._predictors:
            if not isinstance(row, list) or len(row) != per_iteration:
                raise TreeError("an iteration without one tree per output")
            for predictor in row:
                check_predictor(predictor, width, categorical)

    def neighbors(self, est) -> None:
        """Check the kept rows and labels; rebuild the search tree from the rows."""
        import scipy.sparse as sp
        from sklearn.neighbors import BallTree, KDTree

        X, width, method = est._fit_X, _width(est), est._fit_method
        dense = isinstance(X, np.ndarray) and X.dtype == np.float64 and X.ndim == 2 and (
            np.isfinite(X).all())
        if not (dense or (sp.issparse(X) and method == "brute")) or X.shape[1] != width or (
                X.shape[0] != est.n_samples_fit_ or X.shape[0] < 1):
            raise TreeError("keeps training rows that do not match its input")
        params = est.effective_metric_params_
        if est.effective_metric_ not in _METRICS or not isinstance(params, dict) or not (
                params.keys() <= {"p"}) or not all(isinstance(v, int | float) and 1 <= v <= 100
                                                   for v in params.values()):
            raise TreeError(f"uses the distance {est.effective_metric_!r:.30}")
        y = np.asarray(est._y)
        if y.shape != (X.shape[0],):
            raise TreeError("keeps labels that are not one per training row")
        if hasattr(est, "classes_") and not (y.dtype.kind in "iu" and y.min() >= 0 and
                                             y.max() < len(est.classes_)):
            raise TreeError("keeps labels outside its classes")
        if not isinstance(est.n_neighbors, int) or not 1 <= est.n_neighbors <= X.shape[0]:
            raise TreeError(f"asks for {est.n_neighbors!r:.20} neighbours")
        trees = {"kd_tree": KDTree, "ball_tree": BallTree, "brute": None}
        if method not in trees or not (type(est.leaf_size) is int and 1 <= est.leaf_size
                                       <= 10**6):
            raise TreeError(f"uses the search method {method!r:.20}")
        est._tree = None if trees[method] is None else trees[method](
            X, est.leaf_size, metric=est.effective_metric_, **params)

    def one_hot(self, enc) -> None:
        """Each column's codes (after infrequent grouping and drop) stay inside the block of
        output columns that ``_n_features_outs`` gives it."""
        cats, n = enc.categories_, _width(enc)
        grouped = enc._infrequent_enabled
        if not (isinstance(cats, list) and len(cats) == n and type(grouped) is bool):
            raise TreeError("has categories that are not one list per column")
        mappings = enc._default_to_infrequent_mappings if grouped else [None] * n
        infrequent = enc._infrequent_indices if grouped else [None] * n
        drop, outs = enc._drop_idx_after_grouping, enc._n_features_outs
        if drop is None:
            drop = [None] * n
        if not (len(mappings) == len(infrequent) == len(drop) == len(outs) == n):
            raise TreeError("has per-column settings that are not one per column")
        for i, c in enumerate(cats):
            if not (isinstance(c, np.ndarray) and c.ndim == 1 and len(c)) or (
                    c.dtype.kind in "biuf" and not _sorted(c)):
                raise TreeError(f"has categories for column {i} that are not sorted values")
            top = len(c) - 1
            if mappings[i] is not None:
                m = np.asarray(mappings[i])
                if m.shape != c.shape or m.dtype.kind not in "iu" or m.min() < 0:
                    raise TreeError(f"groups column {i}'s categories out of range")
                top = int(m.max())
            if infrequent[i] is not None:
                k = np.asarray(infrequent[i])
                if k.ndim != 1 or not len(k) or k.dtype.kind not in "iu" or k.min() < 0 or (
                        k.max() >= len(c)):
                    raise TreeError(f"marks infrequent categories of column {i} out of range")
            if drop[i] is not None:
                if not isinstance(drop[i], int | np.integer) or not 0 <= drop[i] <= top:
                    raise TreeError(f"drops a category of column {i} it does not have")
                top -= 1
            if type(outs[i]) is not int or outs[i] <= top:
                raise TreeError(f"gives column {i} fewer output columns than categories")

    def tfidf(self, vec) -> None:
        vocab = vec.vocabulary_
        idx = np.fromiter(vocab.values(), dtype=np.int64, count=len(vocab)) if isinstance(
            vocab, dict) and all(isinstance(v, int | np.integer) for v in vocab.values()) else None
        if idx is None or not all(isinstance(k, str) for k in vocab) or not np.array_equal(
                np.sort(idx), np.arange(len(vocab))):
            raise TreeError("has a vocabulary whose columns are not 0..n-1")
        settings = (vec.input, vec.analyzer, vec.token_pattern, vec.tokenizer,
                    vec.preprocessor, vec.stop_words, vec.strip_accents, vec.ngram_range)
        if settings != ("content", "word", _TOKENS, None, None, None, None, (1, 1)):
            raise TreeError("reads its text other than the project does (files, callables, "
                            "another token pattern)")
        idf = getattr(vec._tfidf, "idf_", None)
        if vec.use_idf and not (isinstance(idf, np.ndarray) and idf.shape == (len(vocab),)
                                and np.isfinite(idf).all()):
            raise TreeError("has IDF weights that are not one per word")

    def sparse(self, name: str, matrix) -> None:
        import scipy.sparse as sp

        if not isinstance(matrix, sp.csr_matrix | sp.csc_matrix):
            raise self.refuse(f"the matrix {name!r}", f"is a {type(matrix).__name__}")
        try:
            matrix.check_format(full_check=True)
        except ValueError as e:
            raise self.refuse(f"the sparse matrix {name!r}", f"is inconsistent ({e})") from None
        if not np.isfinite(matrix.data).all():
            raise self.refuse(f"the sparse matrix {name!r}", "holds values that are not finite")


def _width(est) -> int:
    n = getattr(est, "n_features_in_", None)
    if type(n) is not int or not 1 <= n < 2**31:
        raise TreeError(f"has {n!r:.20} input features")
    return n


def _sorted(values: np.ndarray) -> bool:
    """Strictly increasing, with at most one NaN, last (as numpy's unique leaves them)."""
    nan = np.isnan(values) if values.dtype.kind == "f" else np.zeros(len(values), bool)
    body = values[~nan]
    return int(nan.sum()) <= 1 and (not nan.any() or nan[-1]) and bool(
        (body[1:] > body[:-1]).all())
