"""What a model file may contain: the allow-list, fixed in code (a file cannot widen it).

The allow-list is the generic types below (pipeline, preprocessing, ensemble, numpy and
container types) plus the ``allowed_types`` every registered family declares for its fitted
estimators (:mod:`automl.families`, a registry fixed in code). Found by dumping the pipeline
of every family for every task, every preprocessing step and an ensemble;
tests/test_families.py saves and loads every family for every task with nothing but the
generic types and that family's own, and saving refuses what loading would, so a family
that needs a type it does not declare fails there. A skops schema is a tree of nodes; each
names a loader (how skops builds it) and a class. :func:`loaders` says which classes each
loader may build and which fields its node has.
The loaders that call a constructor with arguments from the file are few, and their
arguments are checked where skops builds them (:mod:`automl.bundle._build`):

=================== ================================ ===========================================
loader              builds                           arguments allowed
=================== ================================ ===========================================
TreeNode            sklearn.tree._tree.Tree          (n_features < 2**31, n_classes: 1 int array,
                                                     n_outputs = 1)
LossNode            three Cy*Loss classes of HGB     none
RandomGeneratorNode numpy.random.Generator           a PCG64 state, SeedSequence(pool_size=4)
ObjectNode          :func:`object_classes`           none (``__new__`` then the saved state)
=================== ================================ ===========================================

``ConstructorFromReduceNode`` (a call of any allowed type with arguments from the file),
function, method, partial and cached-reference nodes are never accepted.
"""

from __future__ import annotations

from collections.abc import Iterable

# Every generic class the project writes as an object; the families add their estimators'.
GENERIC_OBJECTS = frozenset({
    "automl.ensemble.WeightedEnsemble",
    "automl.preprocess.CategoryCleaner",
    "automl.preprocess.DateFeatures",
    "automl.preprocess.TextTfidf",
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.impute._base.MissingIndicator",
    "sklearn.impute._base.SimpleImputer",
    "sklearn.model_selection._split.KFold",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.preprocessing._encoders.OneHotEncoder",
    "sklearn.preprocessing._function_transformer.FunctionTransformer",
    "sklearn.preprocessing._target_encoder.TargetEncoder",
})
ROOT_CLASSES = frozenset({"sklearn.pipeline.Pipeline", "automl.ensemble.WeightedEnsemble"})
# Types a file may name (dtype parameters, dict key types, a defaultdict's factory).
TYPE_NAMES = frozenset({"builtins.str", "builtins.int", "builtins.float", "builtins.bool",
                        "collections.OrderedDict", "numpy.float32", "numpy.float64",
                        "numpy.int32", "numpy.int64"})
KEY_TYPES = frozenset({"builtins.str", "builtins.int", "numpy.int64"})
_SCALARS = frozenset({"numpy.ndarray", "numpy.float32", "numpy.float64", "numpy.int32",
                      "numpy.int64", "numpy.uint32", "numpy.uint64", "numpy.bool_"})
# Classes skops builds with a loader of their own, whose arguments automl.bundle._build
# checks: accepted by that loader only, and only where a family declares them. Every other
# class a family declares is built as an object (ObjectNode).
OWN_LOADER = {
    "sklearn.tree._tree.Tree": "TreeNode",
    **{f"sklearn._loss._loss.{c}": "LossNode" for c in (
        "CyHalfBinomialLoss", "CyHalfMultinomialLoss", "CyHalfSquaredError")},
}
# loader -> (classes it may build, keys besides the four every node has); ObjectNode,
# LossNode and TreeNode get their classes from the families.
_FIELDS = {"ObjectNode": frozenset({"content"}),
           "LossNode": frozenset({"__reduce__", "content"}),
           "TreeNode": frozenset({"__reduce__", "content"})}
_GENERIC_LOADERS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "DictNode": (frozenset({"builtins.dict"}), frozenset({"content", "key_types"})),
    "ListNode": (frozenset({"builtins.list"}), frozenset({"content"})),
    "TupleNode": (frozenset({"builtins.tuple"}), frozenset({"content"})),
    "JsonNode": (frozenset({"builtins.str"}), frozenset({"content", "is_json"})),
    "TypeNode": (TYPE_NAMES, frozenset()),
    "NdArrayNode": (_SCALARS, frozenset({"type", "file", "content", "shape"})),
    "DTypeNode": (frozenset({"numpy.dtype"}), frozenset({"content"})),
    "SliceNode": (frozenset({"builtins.slice"}), frozenset({"content"})),
    "BytearrayNode": (frozenset({"builtins.bytearray"}), frozenset({"file"})),
    "DefaultDictNode": (frozenset({"collections.defaultdict"}), frozenset({"content"})),
    "RandomGeneratorNode": (frozenset({"numpy.random._generator.Generator"}),
                            frozenset({"content"})),
    "SparseMatrixNode": (frozenset({"scipy.sparse._csr.csr_matrix",
                                    "scipy.sparse._csc.csc_matrix"}),
                         frozenset({"type", "file"})),
}
# The generic types skops does not trust by default that automl pipelines contain; passed to
# skops as its `trusted` with the families' types. The schema walk has already refused every
# class outside the allow-list.
_GENERIC_TRUSTED = frozenset({
    "automl.ensemble.WeightedEnsemble",
    "automl.preprocess.CategoryCleaner",
    "automl.preprocess.DateFeatures",
    "automl.preprocess.TextTfidf",
    "collections.OrderedDict",
    "numpy.dtype",
    "scipy.sparse._csc.csc_matrix",
    "scipy.sparse._csr.csr_matrix",
    "sklearn.model_selection._split.KFold",
})


def declared(families: Iterable | None = None) -> frozenset[str]:
    """The types ``families`` (default: every registered family) declare."""
    if families is None:
        from automl.families import REGISTRY  # read when a file is checked, not imported

        families = REGISTRY.values()
    return frozenset().union(*(f.allowed_types for f in families))


def object_classes(families: Iterable | None = None) -> frozenset[str]:
    """The classes skops may build as objects: generic ones and the families'."""
    return GENERIC_OBJECTS | {t for t in declared(families) if t not in OWN_LOADER}


def loaders(families: Iterable | None = None
            ) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """loader -> (classes it may build, keys besides the four every node has)."""
    types = declared(families)
    own = {loader: frozenset(t for t in types if OWN_LOADER.get(t) == loader)
           for loader in ("LossNode", "TreeNode")}
    return {"ObjectNode": (object_classes(families), _FIELDS["ObjectNode"]),
            **_GENERIC_LOADERS,
            **{loader: (classes, _FIELDS[loader]) for loader, classes in own.items()}}


def trusted(families: Iterable | None = None) -> frozenset[str]:
    """The types passed to skops as trusted (those it trusts by default change nothing)."""
    return _GENERIC_TRUSTED | declared(families)
