"""The node arrays of scikit-learn's trees, checked before anything walks them.

A forest's ``Tree`` and a HistGradientBoosting ``TreePredictor`` are walked by Cython code
without bounds checks: a child index outside the node array, a feature index beyond the
input, a cycle or a ``node_count`` larger than the array reads outside memory or never
stops (skops refuses to trust both types by default for this reason). Building them is safe
(``Tree.__setstate__`` checks the arrays' dtype and shape and copies exactly that many
nodes; a ``TreePredictor`` only gets attributes), so the arrays are checked right after the
build, before the model is returned: every child inside the tree and after its parent (so
there is no cycle), every node but the root reached exactly once, features inside the
input, thresholds numbers (+inf splits off missing values) and values finite, the
recorded depth the real one.
"""

from __future__ import annotations

import numpy as np

TREE_LEAF, TREE_UNDEFINED = -1, -2


class TreeError(Exception):
    """A tree's arrays are not a tree scikit-learn wrote (the caller says where)."""


def check_children(left: np.ndarray, right: np.ndarray, leaf: np.ndarray) -> int:
    """Children inside the array and after their parent, each node but the root reached
    once: a tree, acyclic. Returns its depth."""
    n = len(left)
    inner = ~leaf
    idx = np.arange(n)
    kids = np.concatenate([left[inner], right[inner]])
    if not np.array_equal(np.sort(kids), idx[1:]) or not (
            (left[inner] > idx[inner]).all() and (right[inner] > idx[inner]).all()):
        raise TreeError("its children do not form one tree (an index outside it, or a cycle)")
    depth, level = 0, np.zeros(1, dtype=np.int64)
    while (level := level[inner[level]]).size:  # a tree: each level is visited once
        level = np.concatenate([left[level], right[level]])
        depth += 1
    return depth


def check_tree(tree, n_features: int) -> None:
    """A ``sklearn.tree._tree.Tree`` fit for an input of ``n_features`` columns."""
    if not 1 <= tree.node_count == tree.capacity:  # read before any array view is made
        raise TreeError(f"node_count {tree.node_count} is not its {tree.capacity} nodes")
    if tree.n_features != n_features or tree.n_outputs != 1:
        raise TreeError(f"it reads {tree.n_features} features of an input of {n_features}")
    state = tree.__getstate__()
    nodes, values = state["nodes"], state["values"]
    left, right = nodes["left_child"].astype(np.int64), nodes["right_child"].astype(np.int64)
    leaf = left == TREE_LEAF
    if ((right == TREE_LEAF) != leaf).any():
        raise TreeError("a node has one child")
    depth = check_children(left, right, leaf)
    feature = nodes["feature"]
    if (feature[leaf] != TREE_UNDEFINED).any() or (feature[~leaf] < 0).any() or (
            feature[~leaf] >= n_features).any():
        raise TreeError(f"a split on a feature outside 0..{n_features - 1}")
    # +inf is a real threshold: a split that sends every value left and missing ones right
    if np.isnan(nodes["threshold"][~leaf]).any() or not np.isfinite(values).all():
        raise TreeError("a threshold or value is not a number")
    if not np.isin(nodes["missing_go_to_left"], (0, 1)).all():
        raise TreeError("a split with an unknown direction for missing values")
    if state["max_depth"] != depth:
        raise TreeError(f"its recorded depth {state['max_depth']} is not its depth {depth}")


def check_predictor(predictor, n_features: int, categorical) -> None:
    """A HistGradientBoosting ``TreePredictor`` for ``n_features`` columns, ``categorical``
    the estimator's boolean mask of categorical features (or None)."""
    from sklearn.ensemble._hist_gradient_boosting.common import (
        PREDICTOR_RECORD_DTYPE,
        X_BITSET_INNER_DTYPE,
    )

    nodes = getattr(predictor, "nodes", None)
    if not isinstance(nodes, np.ndarray) or nodes.dtype != PREDICTOR_RECORD_DTYPE or (
            nodes.ndim != 1 or not len(nodes)):
        raise TreeError("its node array is not the one scikit-learn writes")
    bitsets = [getattr(predictor, a, None) for a in ("raw_left_cat_bitsets",
                                                     "binned_left_cat_bitsets")]
    if not all(isinstance(b, np.ndarray) and b.dtype == X_BITSET_INNER_DTYPE and b.ndim == 2
               and b.shape[1] == 8 and b.flags.c_contiguous for b in bitsets):
        raise TreeError("its category bitsets are not the ones scikit-learn writes")
    if not (np.isin(nodes["is_leaf"], (0, 1)).all() and np.isin(nodes["is_categorical"], (0, 1))
            .all() and np.isin(nodes["missing_go_to_left"], (0, 1)).all()):
        raise TreeError("a node with a flag that is neither 0 nor 1")
    leaf = nodes["is_leaf"] == 1
    check_children(nodes["left"].astype(np.int64), nodes["right"].astype(np.int64), leaf)
    inner = nodes[~leaf]
    if (inner["feature_idx"] < 0).any() or (inner["feature_idx"] >= n_features).any():
        raise TreeError(f"a split on a feature outside 0..{n_features - 1}")
    if not np.isfinite(nodes["value"]).all() or np.isnan(inner["num_threshold"][
            inner["is_categorical"] == 0]).any():
        raise TreeError("a threshold or value is not a number")
    cats = inner[inner["is_categorical"] == 1]
    if len(cats):
        mask = np.asarray(categorical if categorical is not None else [], dtype=object)
        ok = mask.shape == (n_features,) and all(isinstance(m, bool | np.bool_) for m in mask)
        if not ok or not mask[cats["feature_idx"]].astype(bool).all() or (
                cats["bitset_idx"] >= min(len(b) for b in bitsets)).any():
            raise TreeError("a categorical split on a feature that is not categorical, or "
                            "with a bitset it does not have")
