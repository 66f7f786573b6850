"""The model file: one skops zip plus a JSON manifest, loaded as data, never as code.

A pickle runs code when it is loaded, so automl never reads one. A model file is the skops
archive of the fitted ``Pipeline([("prep", ...), ("model", ...)])`` (or an ensemble of
them) with an extra member, ``automl-manifest.json`` (task, classes, schema, metrics,
library versions and one digest over manifest and payload, optionally signed). Loading
checks, in order, before the model is returned:

1. the file's size and zip directory (:mod:`._format`: caps on what it unpacks to),
2. the digest over manifest and payload, and the signature when ``AUTOML_MODEL_KEY`` is set,
3. the skops schema: only the node shapes and classes the project writes (generic ones and
   those the registered families declare, :mod:`._allowed`), each member read once
   (:mod:`._audit`),
4. the constructor arguments and booster payloads on the nodes skops builds (:mod:`._build`,
   :mod:`._lightgbm`, :mod:`._xgboost`),
5. every array that compiled code indexes in the built pipeline (:mod:`._checks`,
   :mod:`._trees`), then one scored row of blanks.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import platform
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from automl.bundle import _allowed
from automl.bundle._audit import audit
from automl.bundle._build import build
from automl.bundle._checks import check_built
from automl.bundle._format import (
    FORMAT_VERSION,
    MANIFEST_NAME,
    REEXPORT,
    REFERENCE_NAME,
    as_manifest,
    manifest_json,
    model_key,
    open_zip,
    read_file,
    read_manifest_member,
    read_reference_member,
    seal,
    verify,
)
from automl.bundle._model import Model
from automl.bundle._model import _quiet_unknown_categories as _quiet_unknown_categories
from automl.contracts import ModelManifest
from automl.errors import AutoMLError, ModelFileError

__all__ = ["ALLOWED_TYPES", "MANIFEST_NAME", "REFERENCE_NAME", "Model", "load_model", "preload",
           "read_manifest", "read_reference", "save_model"]


def __getattr__(name: str):
    if name == "ALLOWED_TYPES":  # built from the family registry, which is read on first use
        return _allowed.trusted()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_MANIFESTS: dict[tuple, bool] = {}  # the files read_manifest verified, by identity
_CACHE_SIZE = 256


def save_model(path: str | Path, pipeline, manifest: ModelManifest | dict,
               reference: dict | None = None) -> Path:
    """Write ``pipeline`` and ``manifest`` (and the reference profile, when given: see
    :mod:`automl.monitor.reference`) to exactly ``path``, atomically (a reader never sees half
    a file), sealed with a digest over all of them (and signed when AUTOML_MODEL_KEY is set).
    Returns the path. The container fields (format version, time, library versions, digest)
    are filled in here. Refuses a pipeline holding types or node shapes that
    :func:`load_model` refuses."""
    path = Path(path)
    manifest = as_manifest(manifest).replaced(
        format_version=FORMAT_VERSION, created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        library_versions=_library_versions(), sha256=None, signature=None)
    record = manifest_json(manifest)  # the JSON the file holds, sealed below
    model_key()  # a key too short to sign with is refused before any work
    data = _skops().dumps(pipeline, compression=zipfile.ZIP_DEFLATED)
    if reference is not None:
        data = _with_reference(data, reference)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        try:
            audit(zf, path)
        except ModelFileError as e:
            raise ModelFileError(f"cannot save: the pipeline holds {getattr(e, 'what', e)}, "
                                 "which automl model files never hold; build it from automl's "
                                 "families and preprocessing (automl.search.context."
                                 "make_pipeline).") from None
        text = json.dumps(seal(record, zf, path), indent=2)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        with zipfile.ZipFile(tmp, "a", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(MANIFEST_NAME, text)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def _with_reference(data: bytes, reference: dict) -> bytes:
    try:
        text = json.dumps(reference, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ModelFileError(f"cannot save: the reference profile is not JSON data ({e})") from e
    buf = io.BytesIO(data)
    with zipfile.ZipFile(buf, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(REFERENCE_NAME, text)
    return buf.getvalue()


def read_reference(path: str | Path) -> dict | None:
    """The model file's reference profile (None if it has none), after the digest check."""
    path = Path(path)
    data = read_file(path)
    with open_zip(data, path) as zf:
        raw = read_manifest_member(zf, path)
        verify(raw, zf, path)
        return read_reference_member(zf, path)


def read_manifest(path: str | Path) -> ModelManifest:
    """The manifest alone (for run lists and model cards), after checking the digest (and
    the signature, with AUTOML_MODEL_KEY set); builds nothing. Repeated checks of an
    unchanged file are answered from memory."""
    path = Path(path)
    read_file(path, head_only=True)  # pickles and oversized files are refused first
    with path.open("rb") as f, open_zip(f, path) as zf:
        raw = read_manifest_member(zf, path)
        # The file's identity: the manifest as parsed and every member's size and CRC (an
        # edit of a member's data that keeps its CRC fails the CRC check when it is read).
        key = (str(path.resolve()), model_key(), json.dumps(raw, sort_keys=True),
               tuple((i.filename, i.CRC, i.file_size) for i in zf.infolist()))
        if key not in _MANIFESTS:  # app sessions are threads: the dict is shared
            verify(raw, zf, path)
            if len(_MANIFESTS) >= _CACHE_SIZE:
                _MANIFESTS.clear()
            _MANIFESTS[key] = True
    return ModelManifest.from_json(raw)


def load_model(path: str | Path) -> Model:
    """Check the file, then build the pipeline from allowed types and checked values only."""
    path = Path(path)
    data = read_file(path)  # read once: the bytes checked are the bytes loaded
    with open_zip(data, path) as zf:
        raw = read_manifest_member(zf, path)
        verify(raw, zf, path)
        audit(zf, path)
        reference = read_reference_member(zf, path)
    manifest = ModelManifest.from_json(raw)
    pipeline = build(data, path)
    try:
        check_built(pipeline, manifest.task, len(manifest.classes or ()), path)
        model = Model(pipeline, manifest, reference)
        got = list(getattr(pipeline, "classes_", []))
        if model.task != "regression" and got != list(range(len(model.classes))):
            raise ModelFileError(f"{path}: the model's classes {got} do not match the "
                                 f"manifest's {len(model.classes)} classes. {REEXPORT}")
        try:
            model.probe()
        except ModelFileError as e:
            raise ModelFileError(f"{path}: scoring a row of blanks failed: {e}") from e.__cause__
    except AutoMLError:
        raise
    except Exception as e:  # the checks read attributes of objects built from the file
        raise ModelFileError(f"{path} holds a model that cannot be used "
                             f"({type(e).__name__}: {str(e)[:300]}). {REEXPORT}") from e
    return model


def _skops():
    """skops.io, imported on first use: importing it walks all of scikit-learn (~1-2 s), which
    a search should not wait for before its first trial."""
    import skops.io

    return skops.io


def preload() -> None:
    """Import what saving and loading need (the search calls it in a thread while waiting)."""
    _skops()


def _library_versions() -> dict[str, str | None]:
    """Recorded so a load that fails on a version change can say which versions to use."""
    def version(module: str) -> str | None:
        try:
            return importlib.import_module(module).__version__
        except ImportError:
            return None

    mods = ("sklearn", "xgboost", "lightgbm", "skops", "numpy", "pandas")
    return {"python": platform.python_version(), **{m: version(m) for m in mods}}

