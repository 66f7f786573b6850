"""The model file: one skops zip plus a JSON manifest, loaded as data, never as code.

A pickle runs code when it is loaded, so automl never reads one. A model file is the skops
archive of the fitted ``Pipeline([("prep", ...), ("model", ...)])`` with an extra member,
``automl-manifest.json`` (task, classes, schema, metrics, library versions and a hash of the
payload). Loading checks the file before anything in it is built, and builds only the types
in the fixed :data:`ALLOWED_TYPES`.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib
import io
import json
import os
import pickletools
import platform
import tempfile
import warnings
import zipfile
import zlib
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from automl.data.schema import Kind, Schema
from automl.errors import ConfigError, ModelFileError, SchemaMismatchError, UnsafeModelError

__all__ = ["ALLOWED_TYPES", "MANIFEST_NAME", "Model", "load_model", "read_manifest", "save_model"]

MANIFEST_NAME = "automl-manifest.json"
FORMAT, FORMAT_VERSION = "automl-model", 1
TASKS = ("binary", "multiclass", "regression")
MAX_MANIFEST_BYTES = 16 * 2**20
_SNIFF_BYTES = 2**20  # files shorter than this are also parsed as a pickle opcode stream

# Types skops does not trust by default that real automl pipelines contain (found by dumping
# every family's pipeline). Fixed on purpose: a file may not widen it.
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
    "sklearn.metrics._dist_metrics.EuclideanDistance64",
    "sklearn.model_selection._split.KFold",
    "sklearn.metrics._dist_metrics.ManhattanDistance64",
    "sklearn.metrics._dist_metrics.MinkowskiDistance64",
    "sklearn.neighbors._ball_tree.BallTree",
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
    "sklearn.tree._tree.Tree",
    "xgboost.core.Booster",
    "xgboost.sklearn.XGBClassifier",
    "xgboost.sklearn.XGBRegressor",
})

_REEXPORT = "Re-export the model with `automl train` or automl.bundle.save_model."
# Magic bytes of the compressed files joblib writes around a pickle (zlib, gzip, bz2, xz, lz4).
_JOBLIB_MAGIC = (b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda", b"\x1f\x8b", b"BZh",
                 b"\xfd7zXZ", b"\x04\x22\x4d\x18")


def save_model(path: str | Path, pipeline, manifest: dict) -> Path:
    """Write ``pipeline`` and ``manifest`` to exactly ``path``, atomically (a reader never
    sees half a file). Returns the path."""
    path = Path(path)
    manifest = dict(manifest)
    if isinstance(manifest.get("schema"), Schema):
        manifest["schema"] = manifest["schema"].to_dict()
    missing = [k for k in ("task", "schema") if k not in manifest]
    if missing or manifest["task"] not in TASKS:
        raise ModelFileError(f"cannot save: the manifest needs 'task' (one of {TASKS}) and "
                             f"'schema'; missing {missing}, task={manifest.get('task')!r}")
    if manifest["task"] != "regression" and not manifest.get("classes"):
        raise ModelFileError("cannot save: a classification manifest needs 'classes'")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        _skops().dump(pipeline, tmp, compression=zipfile.ZIP_DEFLATED)
        with zipfile.ZipFile(tmp) as zf:
            digest = _payload_sha256(zf)
        manifest.update(format=FORMAT, format_version=FORMAT_VERSION,
                        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                        library_versions=_library_versions(), payload_sha256=digest)
        try:
            text = json.dumps(manifest, indent=2, default=_jsonable)
        except (TypeError, ValueError) as e:
            raise ModelFileError(f"cannot save: the manifest is not JSON data ({e})") from e
        with zipfile.ZipFile(tmp, "a", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(MANIFEST_NAME, text)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def read_manifest(path: str | Path) -> dict:
    """Read the manifest alone (for run lists and model cards); builds nothing."""
    path = Path(path)
    _sniff(path, _SNIFF_BYTES)
    with _zip(path, path) as zf:
        return _manifest(zf, path)


def load_model(path: str | Path) -> Model:
    """Check the file, then build the pipeline from allowed types only."""
    path = Path(path)
    data = _sniff(path)  # read once: the bytes checked are the bytes loaded
    zf = _zip(io.BytesIO(data), path)
    manifest = _manifest(zf, path)
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION or version < 1:
        newer = isinstance(version, int) and version > FORMAT_VERSION
        raise ModelFileError(f"{path} has model format version {version!r}; this automl reads "
                             f"version {FORMAT_VERSION}. "
                             + ("Upgrade automl to load it." if newer else _REEXPORT))
    try:
        digest = _payload_sha256(zf)
    except (zipfile.BadZipFile, OSError, zlib.error) as e:
        raise ModelFileError(f"{path} is damaged ({e}). {_REEXPORT}") from e
    if digest != manifest.get("payload_sha256"):
        raise UnsafeModelError(f"{path}: the file was modified after it was saved (the model "
                               f"payload does not match its recorded hash). {_REEXPORT}")
    try:
        untrusted = set(_skops().get_untrusted_types(data=data))
    except Exception as e:  # a malformed skops schema: nothing has been built yet
        raise ModelFileError(f"{path} has a damaged model payload ({e}). {_REEXPORT}") from e
    if untrusted - ALLOWED_TYPES:
        raise UnsafeModelError(f"{path} contains types automl does not load: "
                               f"{sorted(untrusted - ALLOWED_TYPES)}. {_REEXPORT}")
    try:
        model = Model(_skops().loads(data, trusted=sorted(untrusted & ALLOWED_TYPES)), manifest)
    except Exception as e:  # typically a library version that cannot read the saved state
        raise ModelFileError(
            f"{path} could not be rebuilt ({type(e).__name__}: {e}). It was saved with "
            f"{manifest.get('library_versions')}; install those versions or re-export.") from e
    got = list(getattr(model.pipeline, "classes_", []))
    if model.task != "regression" and got != list(range(len(model.classes))):
        raise ModelFileError(f"{path}: the model's classes {got} do not match the manifest's "
                             f"{len(model.classes)} classes. {_REEXPORT}")
    return model


class Model:
    """A loaded model: scores raw rows after enforcing the schema it was trained on."""

    def __init__(self, pipeline, manifest: dict):
        self.pipeline = pipeline
        self.manifest = manifest
        self.last_warnings: list[str] = []

    task = property(lambda self: self.manifest["task"])
    target = property(lambda self: self.manifest.get("target"))
    classes = property(lambda self: list(self.manifest.get("classes") or []))
    schema = property(lambda self: Schema.from_dict(self.manifest["schema"]))

    def prepare(self, df: pd.DataFrame) -> pd.DataFrame:
        """Return ``df`` as the pipeline saw it in training: the schema's columns in its
        order, extra columns dropped, numbers that arrived as text made numbers."""
        df = df if isinstance(df, pd.DataFrame) else pd.DataFrame(df)
        schema, self.last_warnings, cols = self.schema, [], set(df.columns)
        if df.columns.duplicated().any():
            dup = sorted(map(str, df.columns[df.columns.duplicated()].unique()))
            raise SchemaMismatchError(f"the rows have duplicate columns {dup}; rename them.")
        missing = [c.name for c in schema.columns if c.name not in cols and c.kind != Kind.ID]
        if missing:
            extra = [str(c) for c in df.columns if c not in set(schema.names)]
            hints = {m: difflib.get_close_matches(m, extra, n=1) for m in missing}
            hint = "; ".join(f"{m!r} -> {h[0]!r}?" for m, h in hints.items() if h)
            raise SchemaMismatchError(
                f"the rows lack {len(missing)} column(s) the model was trained on: {missing}. "
                "Add them (values may be blank)" + (f"; did you mean: {hint}" if hint else "."))
        out = {}
        for c in schema.columns:
            if c.name not in cols:  # only ID columns, which the model does not use
                out[c.name] = pd.Series(np.nan, index=df.index)
                continue
            s = out[c.name] = df[c.name]
            if c.kind == Kind.NUMERIC:
                out[c.name] = self._numbers(c.name, s)
            elif (c.kind in (Kind.CATEGORICAL, Kind.BOOLEAN) and c.dtype.lower().startswith("int")
                  and pd.api.types.is_float_dtype(s) and (s.dropna() % 1 == 0).all()):
                out[c.name] = s.astype("Int64")  # 3.0 (an int column with a blank) is "3"
        return pd.DataFrame(out, index=df.index)

    def predict_proba(self, df: pd.DataFrame) -> np.ndarray:
        """Class probabilities, one column per class in :attr:`classes` order."""
        if self.task == "regression":
            raise ConfigError("predict_proba needs a classification model; this one is "
                              "regression. Use predict.")
        X = self.prepare(df)
        with _quiet_unknown_categories():
            proba = (self.pipeline.predict_proba(X) if len(X)
                     else np.empty((0, len(self.classes))))
        return np.asarray(proba, dtype=float)

    def predict(self, df: pd.DataFrame) -> pd.DataFrame:
        """``prediction`` (original label, or number) and ``proba_<class>`` columns, one row
        per input row, same index."""
        index = df.index if isinstance(df, pd.DataFrame) else None
        if self.task == "regression":
            X = self.prepare(df)
            with _quiet_unknown_categories():
                pred = self.pipeline.predict(X) if len(X) else np.empty(0)
            return pd.DataFrame({"prediction": np.asarray(pred, dtype=float)}, index=X.index)
        proba = self.predict_proba(df)
        labels = np.asarray(self.classes)
        cols = {"prediction": labels[proba.argmax(axis=1)] if len(proba) else labels[:0]}
        cols.update({f"proba_{c}": proba[:, i] for i, c in enumerate(self.classes)})
        return pd.DataFrame(cols, index=index if index is not None else range(len(proba)))

    def _numbers(self, name: str, s: pd.Series) -> pd.Series:
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_extension_array_dtype(s):
            return s
        num = pd.to_numeric(s, errors="coerce")
        if not pd.api.types.is_numeric_dtype(s):
            blank = s.isna() | s.astype(str).str.strip().eq("")
            bad = int((~blank & num.isna()).sum())
            if bad:
                self.last_warnings.append(f"column {name!r}: {bad} value(s) are not numbers "
                                          "and were treated as missing")
        return num.astype("float64")


def _skops():
    """skops.io, imported on first use: importing it walks all of scikit-learn (~1-2 s), which
    a search should not wait for before its first trial."""
    import skops.io

    return skops.io


def preload() -> None:
    """Import what saving and loading need (the search calls it in a thread while waiting)."""
    _skops()


@contextmanager
def _quiet_unknown_categories():
    """Unseen categories are expected when scoring new rows (they are encoded as rare), so
    scikit-learn's warning about them is noise here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Found unknown categories",
                                category=UserWarning)
        yield


def _sniff(path: Path, size: int = -1) -> bytes:
    """Read the file (or its first bytes) and refuse pickles and joblib files by their look,
    before anything else."""
    if not path.is_file():
        raise ModelFileError(f"no model file at {path}; check the path (a model is saved by "
                             "`automl train` or automl.bundle.save_model).")
    with path.open("rb") as f:
        head = f.read(size)
    if head.startswith(b"PK\x03\x04"):
        return head
    if head.startswith((b"\x80", *_JOBLIB_MAGIC)) or _looks_like_pickle(head):
        raise UnsafeModelError(
            f"{path} is a pickle/joblib file. automl never loads pickle files, because loading "
            f"one can run any code it contains. {_REEXPORT}")
    raise ModelFileError(f"{path} is not an automl model file (not a skops zip). {_REEXPORT}")


def _looks_like_pickle(head: bytes) -> bool:
    """Protocol 0/1 pickles have no header; parse (never run) the opcodes of small files."""
    if len(head) >= _SNIFF_BYTES:  # big files are only ever zips here
        return False
    try:
        ops = list(pickletools.genops(head))
    except Exception:  # not a well-formed opcode stream: not a pickle
        return False
    return bool(ops) and ops[-1][0].name == "STOP"


def _zip(f, path: Path) -> zipfile.ZipFile:
    try:
        zf = zipfile.ZipFile(f)
    except zipfile.BadZipFile as e:
        raise ModelFileError(f"{path} is not an automl model file (a damaged zip: {e}).") from e
    names = zf.namelist()
    if len(names) != len(set(names)):
        raise UnsafeModelError(f"{path} has duplicate zip members; it was modified after it "
                               f"was saved. {_REEXPORT}")
    return zf


def _manifest(zf: zipfile.ZipFile, path: Path) -> dict:
    if MANIFEST_NAME not in zf.namelist():
        raise ModelFileError(f"{path} is not an automl model file (no {MANIFEST_NAME}). "
                             + _REEXPORT)
    if zf.getinfo(MANIFEST_NAME).file_size > MAX_MANIFEST_BYTES:
        raise ModelFileError(f"{path}: the manifest is implausibly large. {_REEXPORT}")
    try:
        manifest = json.loads(zf.read(MANIFEST_NAME))
    except (ValueError, zipfile.BadZipFile) as e:
        raise ModelFileError(f"{path}: the manifest is not valid JSON ({e}). {_REEXPORT}") from e
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not an automl model file (manifest format is not "
                             f"{FORMAT!r}). {_REEXPORT}")
    return manifest


def _payload_sha256(zf: zipfile.ZipFile) -> str:
    h = hashlib.sha256()
    for info in sorted(zf.infolist(), key=lambda i: i.filename):
        if info.filename != MANIFEST_NAME:
            body = zf.read(info)
            h.update(f"{info.filename}\0{len(body)}\0".encode())
            h.update(body)
    return h.hexdigest()


def _library_versions() -> dict[str, str | None]:
    """Recorded so a load that fails on a version change can say which versions to use."""
    def version(module: str) -> str | None:
        try:
            return importlib.import_module(module).__version__
        except ImportError:
            return None

    mods = ("sklearn", "xgboost", "lightgbm", "skops", "numpy", "pandas")
    return {"python": platform.python_version(), **{m: version(m) for m in mods}}


def _jsonable(obj):
    if isinstance(obj, np.generic | np.ndarray):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")
