"""Building the pipeline with skops, with the constructor calls checked in between.

skops turns ``schema.json`` into a tree of nodes, then constructs them. Between the two, the
nodes that call a constructor with arguments from the file are checked on the very nodes
skops will use (so a repeated ``__id__`` cannot swap in other content): a scikit-learn
``Tree`` gets sizes it can allocate, a loss and a random generator only what the project
writes, a LightGBM booster only model text LightGBM can parse safely, and an XGBoost booster
is replaced by one XGBoost serialises from its checked model. This uses skops' node classes
(``skops.io._audit`` and friends), pinned with skops in pyproject.toml.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

from automl.bundle._allowed import trusted as allowed_types
from automl.bundle._format import REEXPORT
from automl.bundle._lightgbm import check_model_text
from automl.bundle._xgboost import rebuild
from automl.errors import ModelFileError, UnsafeModelError

MAX_OUTPUTS, MAX_CLASSES = 1, 100_000


def build(data: bytes, path: Path):
    """The object the file holds, built from the (already audited) payload."""
    from skops.io._audit import audit_tree, get_tree
    from skops.io._utils import read_schema

    trusted = sorted(allowed_types())
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            schema, context = read_schema(zf)
            tree = get_tree(schema, context, trusted=trusted)
            audit_tree(tree, trusted=trusted)
            _Calls(path).walk(tree)
            return tree.construct()
    except ModelFileError:
        raise
    except RecursionError:  # ids that make an object contain itself (skops builds in Python)
        raise ModelFileError(f"{path} could not be rebuilt: its objects refer to themselves or "
                             f"nest too deeply. {REEXPORT}") from None
    except Exception as e:  # typically a library version that cannot read the saved state
        raise ModelFileError(f"{path} could not be rebuilt ({type(e).__name__}: {str(e)[:300]})."
                             f" {REEXPORT}") from e


class _Calls:
    def __init__(self, path: Path):
        self.path = path

    def refuse(self, what: str) -> UnsafeModelError:
        return UnsafeModelError(f"{self.path}: {what}; automl does not write that. {REEXPORT}")

    def walk(self, root) -> None:
        from skops.io._audit import Node
        from skops.io._general import BytearrayNode, ObjectNode
        from skops.io._numpy import RandomGeneratorNode
        from skops.io._sklearn import LossNode, TreeNode

        seen, stack, boosters = set(), [root], set()
        handles = []
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            name = f"{node.module_name}.{node.class_name}"
            if isinstance(node, TreeNode):
                self.tree_args(node)
            elif isinstance(node, LossNode):
                if self.plain(node.args) != () or self.plain(node.attrs) != {}:
                    raise self.refuse(f"the loss {name} is built with arguments")
            elif isinstance(node, RandomGeneratorNode):
                self.generator(node)
            elif isinstance(node, ObjectNode) and name == "xgboost.core.Booster":
                handles.append(self.xgboost(node))
            elif isinstance(node, ObjectNode) and name == "lightgbm.basic.Booster":
                self.lightgbm(node)
            elif isinstance(node, BytearrayNode):
                boosters.add(id(node))
            for child in node.children.values():
                items = child.values() if isinstance(child, dict) else (
                    child if isinstance(child, list) else [child])
                stack.extend(c for c in items if isinstance(c, Node))
        if boosters - set(handles):
            raise self.refuse("it holds raw bytes outside an XGBoost booster")

    def plain(self, node):
        """Construct a node that holds only plain data (the cached value is what skops uses)."""
        from skops.io._general import DictNode, JsonNode, ListNode, TupleNode
        from skops.io._numpy import NdArrayNode

        stack = [node]
        while stack:
            part = stack.pop()
            if not isinstance(part, DictNode | JsonNode | ListNode | TupleNode | NdArrayNode):
                raise self.refuse(f"a constructor argument is a {type(part).__name__}")
            if isinstance(part, DictNode):
                stack.extend(part.content.values())
            elif isinstance(part, ListNode | TupleNode):
                stack.extend(part.content)
        return node.construct()

    def tree_args(self, node) -> None:
        """``Tree(n_features, n_classes, n_outputs)`` allocates from these numbers."""
        args = self.plain(node.args)
        ok = isinstance(args, tuple) and len(args) == 3
        if ok:
            n_features, n_classes, n_outputs = args
            ok = (type(n_features) is int and 1 <= n_features < 2**31 and
                  type(n_outputs) is int and 1 <= n_outputs <= MAX_OUTPUTS and
                  isinstance(n_classes, np.ndarray) and n_classes.shape == (n_outputs,) and
                  n_classes.dtype.kind == "i" and n_classes.min() >= 1 and
                  n_classes.max() <= MAX_CLASSES)
        if not ok:
            raise self.refuse("a decision tree is built with arguments outside what sklearn "
                              "writes")

    def generator(self, node) -> None:
        """``SeedSequence(**state)`` allocates its pool from the file's numbers."""
        seed, state = self.plain(node.seed_seq_state), self.plain(node.bit_generator_state)
        entropy = seed.get("entropy") if isinstance(seed, dict) else None
        ok = (isinstance(seed, dict) and seed.keys() == {"entropy", "spawn_key", "pool_size",
                                                         "n_children_spawned"}
              and seed["pool_size"] == 4 and type(seed["n_children_spawned"]) is int
              and 0 <= seed["n_children_spawned"] < 2**32
              and isinstance(seed["spawn_key"], tuple) and len(seed["spawn_key"]) <= 64
              and all(type(k) is int and 0 <= k < 2**32 for k in seed["spawn_key"])
              and ((type(entropy) is int and 0 <= entropy < 2**256)
                   or (isinstance(entropy, np.ndarray | np.integer) and np.size(entropy) <= 16))
              and isinstance(state, dict) and state.get("bit_generator") == "PCG64")
        if not ok:
            raise self.refuse("a random generator is built with an unusual state")

    def xgboost(self, node) -> int:
        from skops.io._general import BytearrayNode, DictNode

        attrs = node.attrs
        handle = attrs.content.get("handle") if isinstance(attrs, DictNode) else None
        if not isinstance(handle, BytearrayNode) or attrs.content.keys() != {"handle"}:
            raise self.refuse("an XGBoost booster without exactly its model bytes")
        raw = handle.construct()
        raw[:] = rebuild(raw, self.path)  # the cached bytearray is what the booster gets
        return id(handle)

    def lightgbm(self, node) -> None:
        from skops.io._general import DictNode, JsonNode

        attrs = node.attrs
        text = attrs.content.get("_handle") if isinstance(attrs, DictNode) else None
        if not isinstance(text, JsonNode) or "handle" in attrs.content:
            raise self.refuse("a LightGBM booster without its model text")
        check_model_text(text.construct(), self.path)
        pandas = attrs.content.get("pandas_categorical")
        if pandas is not None and (not isinstance(pandas, JsonNode) or pandas.construct()
                                   is not None):
            raise self.refuse("a LightGBM booster with pandas categories")
