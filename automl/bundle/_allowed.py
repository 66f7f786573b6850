"""What a model file may contain: the allow-list, fixed in code (a file cannot widen it).

Found by dumping the pipeline of every family for every task, every preprocessing step and
an ensemble (tests/test_families.py saves and loads every family for every task, and
saving refuses what loading would, so a family that needs a new type fails there). A
skops schema is a tree of nodes; each names a loader (how skops builds it) and a class.
:data:`LOADERS` says which classes each loader may build and which fields its node has.
The loaders that call a constructor with arguments from the file are few, and their
arguments are checked where skops builds them (:mod:`automl.bundle._build`):

=================== ================================ ===========================================
loader              builds                           arguments allowed
=================== ================================ ===========================================
TreeNode            sklearn.tree._tree.Tree          (n_features < 2**31, n_classes: 1 int array,
                                                     n_outputs = 1)
LossNode            three Cy*Loss classes of HGB     none
RandomGeneratorNode numpy.random.Generator           a PCG64 state, SeedSequence(pool_size=4)
ObjectNode          :data:`OBJECT_CLASSES`           none (``__new__`` then the saved state)
=================== ================================ ===========================================

``ConstructorFromReduceNode`` (a call of any allowed type with arguments from the file),
function, method, partial and cached-reference nodes are never accepted.
"""

from __future__ import annotations

# Every class the project writes as an object (the fitted attributes of the estimators).
OBJECT_CLASSES = frozenset({
    "automl.ensemble.WeightedEnsemble",
    "automl.preprocess.CategoryCleaner",
    "automl.preprocess.DateFeatures",
    "automl.preprocess.TextTfidf",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "lightgbm.sklearn.LGBMRegressor",
    "sklearn._loss.link.IdentityLink",
    "sklearn._loss.link.Interval",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.link.MultinomialLogit",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss.loss.HalfMultinomialLoss",
    "sklearn._loss.loss.HalfSquaredError",
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.ensemble._forest.ExtraTreesClassifier",
    "sklearn.ensemble._forest.ExtraTreesRegressor",
    "sklearn.ensemble._forest.RandomForestClassifier",
    "sklearn.ensemble._forest.RandomForestRegressor",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.impute._base.MissingIndicator",
    "sklearn.impute._base.SimpleImputer",
    "sklearn.linear_model._coordinate_descent.ElasticNet",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.linear_model._ridge.Ridge",
    "sklearn.metrics._dist_metrics.EuclideanDistance64",
    "sklearn.metrics._dist_metrics.ManhattanDistance64",
    "sklearn.metrics._dist_metrics.MinkowskiDistance64",
    "sklearn.model_selection._split.KFold",
    "sklearn.neighbors._ball_tree.BallTree",
    "sklearn.neighbors._classification.KNeighborsClassifier",
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.neighbors._regression.KNeighborsRegressor",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.preprocessing._encoders.OneHotEncoder",
    "sklearn.preprocessing._function_transformer.FunctionTransformer",
    "sklearn.preprocessing._label.LabelEncoder",
    "sklearn.preprocessing._target_encoder.TargetEncoder",
    "sklearn.tree._classes.DecisionTreeClassifier",
    "sklearn.tree._classes.DecisionTreeRegressor",
    "sklearn.tree._classes.ExtraTreeClassifier",
    "sklearn.tree._classes.ExtraTreeRegressor",
    "xgboost.core.Booster",
    "xgboost.sklearn.XGBClassifier",
    "xgboost.sklearn.XGBRegressor",
})
ROOT_CLASSES = frozenset({"sklearn.pipeline.Pipeline", "automl.ensemble.WeightedEnsemble"})
# Types a file may name (dtype parameters, dict key types, a defaultdict's factory).
TYPE_NAMES = frozenset({"builtins.str", "builtins.int", "builtins.float", "builtins.bool",
                        "collections.OrderedDict", "numpy.float32", "numpy.float64",
                        "numpy.int32", "numpy.int64"})
KEY_TYPES = frozenset({"builtins.str", "builtins.int", "numpy.int64"})
_SCALARS = frozenset({"numpy.ndarray", "numpy.float32", "numpy.float64", "numpy.int32",
                      "numpy.int64", "numpy.uint32", "numpy.uint64", "numpy.bool_"})
# loader -> (classes it may build, keys besides the four every node has)
LOADERS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "ObjectNode": (OBJECT_CLASSES, frozenset({"content"})),
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
    "LossNode": (frozenset({f"sklearn._loss._loss.{c}" for c in (
        "CyHalfBinomialLoss", "CyHalfMultinomialLoss", "CyHalfSquaredError")}),
        frozenset({"__reduce__", "content"})),
    "TreeNode": (frozenset({"sklearn.tree._tree.Tree"}), frozenset({"__reduce__", "content"})),
    "SparseMatrixNode": (frozenset({"scipy.sparse._csr.csr_matrix",
                                    "scipy.sparse._csc.csc_matrix"}),
                         frozenset({"type", "file"})),
}

# The types skops does not trust by default that automl pipelines contain, passed to skops as
# its `trusted`; the schema walk has already refused every class outside OBJECT_CLASSES.
ALLOWED_TYPES = frozenset({
    "automl.ensemble.WeightedEnsemble",
    "automl.preprocess.CategoryCleaner",
    "automl.preprocess.DateFeatures",
    "automl.preprocess.TextTfidf",
    "collections.OrderedDict",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "lightgbm.sklearn.LGBMRegressor",
    "numpy.dtype",
    "scipy.sparse._csc.csc_matrix",
    "scipy.sparse._csr.csr_matrix",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.metrics._dist_metrics.EuclideanDistance64",
    "sklearn.metrics._dist_metrics.ManhattanDistance64",
    "sklearn.metrics._dist_metrics.MinkowskiDistance64",
    "sklearn.model_selection._split.KFold",
    "sklearn.neighbors._ball_tree.BallTree",
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.tree._tree.Tree",
    "xgboost.core.Booster",
    "xgboost.sklearn.XGBClassifier",
    "xgboost.sklearn.XGBRegressor",
})
