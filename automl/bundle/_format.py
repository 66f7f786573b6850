"""The container: a zip capped in size before it is read, a manifest, and one digest over both.

Format 2 records ``sha256`` over the canonical JSON of the manifest (without its ``sha256``
and ``signature`` fields) followed by every other member, so editing the class labels is as
detectable as editing a tree. With ``AUTOML_MODEL_KEY`` set, the digest is also signed
(HMAC-SHA256) when saving, and loading then refuses files that are unsigned or signed with
another key: a deployment accepts only the models it trained.

This module is the one place that reads the manifest as JSON: it parses, checks and seals
the dict as the file holds it (the digest is over exactly those bytes' JSON), and converts
it from and to :class:`automl.contracts.ModelManifest` (:func:`as_manifest`,
:func:`manifest_json`) for everyone else.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import pickletools
import re
import zipfile
import zlib
from pathlib import Path

import numpy as np

from automl.contracts import ModelManifest
from automl.data.schema import Schema
from automl.errors import ConfigError, ModelFileError, UnsafeModelError

MANIFEST_NAME = "automl-manifest.json"
REFERENCE_NAME = "automl-reference.json"  # the reference profile (automl.monitor.reference)
SCHEMA_NAME = "schema.json"
FORMAT, FORMAT_VERSION = "automl-model", 2
TASKS = ("binary", "multiclass", "regression")
KEY_ENV, SIZE_ENV = "AUTOML_MODEL_KEY", "AUTOML_MAX_MODEL_BYTES"
# What a model file may be and unpack to (a forest of 100 trees on 20,000 rows is 7 MB, on two
# million rows several hundred MB; loading needs about three times this in memory).
# Overridden by AUTOML_MAX_MODEL_BYTES.
MAX_MODEL_BYTES = 2**30
MAX_MANIFEST_BYTES = 16 * 2**20
MAX_REFERENCE_BYTES = 16 * 2**20
MAX_MEMBERS = 200_000
MIN_KEY_CHARS = 16
REEXPORT = "Re-export the model with `automl train` (or automl.bundle.save_model)."

_SNIFF_BYTES = 2**20  # files shorter than this are also parsed as a pickle opcode stream
_MEMBER_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}")
# Magic bytes of the compressed files joblib writes around a pickle (zlib, gzip, bz2, xz, lz4).
_JOBLIB_MAGIC = (b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda", b"\x1f\x8b", b"BZh",
                 b"\xfd7zXZ", b"\x04\x22\x4d\x18")
_UNSIGNED_FIELDS = ("sha256", "signature")


def max_model_bytes() -> int:
    """The unpacked-size cap: :data:`MAX_MODEL_BYTES` unless AUTOML_MAX_MODEL_BYTES says."""
    raw = os.environ.get(SIZE_ENV, "").strip()
    if not raw:
        return MAX_MODEL_BYTES
    if not raw.isdigit() or int(raw) < 2**20:
        raise ConfigError(f"{SIZE_ENV}={raw!r} is not a size in bytes of at least 1048576; "
                          f"set it to a whole number of bytes (the default is {MAX_MODEL_BYTES}).")
    return int(raw)


def model_key() -> bytes | None:
    """The signing key from AUTOML_MODEL_KEY, or None when it is not set."""
    raw = os.environ.get(KEY_ENV)
    if not raw:
        return None
    if len(raw) < MIN_KEY_CHARS:
        raise ConfigError(f"{KEY_ENV} has {len(raw)} characters; use at least {MIN_KEY_CHARS} "
                          "random ones, e.g. the output of "
                          "`python -c 'import secrets; print(secrets.token_hex(32))'`.")
    return raw.encode()


def read_file(path: Path, head_only: bool = False) -> bytes:
    """The file's bytes (or its first MiB), after refusing pickles, joblib files and files
    larger than the cap by their look and size, before anything else."""
    if not path.is_file():
        raise ModelFileError(f"no model file at {path}; check the path (a model is saved by "
                             "`automl train` or automl.bundle.save_model).")
    cap, size = max_model_bytes(), path.stat().st_size
    if size > cap:
        raise ModelFileError(f"{path} is {size:,} bytes, more than the {cap:,} a model file may "
                             f"have here; if you trust it, raise {SIZE_ENV}.")
    with path.open("rb") as f:
        data = f.read(_SNIFF_BYTES if head_only else cap + 1)
    if data.startswith(b"PK\x03\x04"):
        return data
    if data.startswith((b"\x80", *_JOBLIB_MAGIC)) or _looks_like_pickle(data):
        raise UnsafeModelError(
            f"{path} is a pickle/joblib file. automl never loads pickle files, because loading "
            f"one can run any code it contains. {REEXPORT}")
    raise ModelFileError(f"{path} is not an automl model file (not a skops zip). {REEXPORT}")


def _looks_like_pickle(head: bytes) -> bool:
    """Protocol 0/1 pickles have no header; parse (never run) the opcodes of small files."""
    if len(head) >= _SNIFF_BYTES:  # big files are only ever zips here
        return False
    try:
        ops = list(pickletools.genops(head))
    except Exception:  # not a well-formed opcode stream: not a pickle
        return False
    return bool(ops) and ops[-1][0].name == "STOP"


def open_zip(data, path: Path) -> zipfile.ZipFile:
    """Open the zip and check its directory (names, count, methods, declared sizes) before
    any member is inflated."""
    try:
        zf = zipfile.ZipFile(data if hasattr(data, "read") else io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, RuntimeError) as e:
        # RuntimeError: NotImplementedError for a zip version this Python cannot read
        raise ModelFileError(f"{path} is not an automl model file (a damaged zip: {e}).") from e
    infos, cap = zf.infolist(), max_model_bytes()
    names = [i.filename for i in infos]
    if len(names) != len(set(names)):
        raise UnsafeModelError(f"{path} has duplicate zip members; it was modified after it "
                               f"was saved. {REEXPORT}")
    bad = [n for n in names if not _MEMBER_NAME.fullmatch(n)]
    if len(infos) > MAX_MEMBERS or bad:
        odd = f" (odd names: {bad[:3]})" if bad else ""
        raise ModelFileError(f"{path} has {len(infos)} members{odd}; an automl model file has "
                             f"at most {MAX_MEMBERS}, with plain names. {REEXPORT}")
    if any(i.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or i.flag_bits & 1
           for i in infos):
        raise ModelFileError(f"{path} uses zip compression or encryption that automl does not "
                             f"write. {REEXPORT}")
    total = sum(i.file_size for i in infos)
    if total > cap:
        raise ModelFileError(f"{path} unpacks to {total:,} bytes, more than the {cap:,} a model "
                             f"file may unpack to here; if you trust it, raise {SIZE_ENV}.")
    return zf


def read_member(zf: zipfile.ZipFile, name: str, path: Path, limit: int | None = None) -> bytes:
    """One member, inflated at most to its declared size (and ``limit``), CRC-checked."""
    info = zf.getinfo(name)
    if limit is not None and info.file_size > limit:
        raise ModelFileError(f"{path}: the member {name} is implausibly large "
                             f"({info.file_size:,} bytes). {REEXPORT}")
    try:
        with zf.open(info) as f:
            body = f.read(info.file_size + 1)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, ValueError, RuntimeError) as e:
        raise ModelFileError(f"{path} is damaged ({e}). {REEXPORT}") from e
    if len(body) != info.file_size:
        raise ModelFileError(f"{path} is damaged (the member {name} is not the size its zip "
                             f"entry declares). {REEXPORT}")
    return body


def read_manifest_member(zf: zipfile.ZipFile, path: Path) -> dict:
    """The manifest, parsed and checked field by field (its digest is checked separately)."""
    if MANIFEST_NAME not in zf.namelist():
        raise ModelFileError(f"{path} is not an automl model file (no {MANIFEST_NAME}). "
                             + REEXPORT)
    body = read_member(zf, MANIFEST_NAME, path, MAX_MANIFEST_BYTES)
    try:
        manifest = json.loads(body, object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError) as e:
        raise ModelFileError(f"{path}: the manifest is not valid JSON ({e}). {REEXPORT}") from e
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not an automl model file (manifest format is not "
                             f"{FORMAT!r}). {REEXPORT}")
    version = manifest.get("format_version")
    if type(version) is not int or version != FORMAT_VERSION:
        newer = type(version) is int and version > FORMAT_VERSION
        older = ("; files of version 1 cannot prove that their manifest was not edited"
                 if version == 1 else "")
        raise ModelFileError(f"{path} has model format version {version!r}; this automl reads "
                             f"version {FORMAT_VERSION}{older}. "
                             + ("Upgrade automl to load it." if newer else REEXPORT))
    check_fields(manifest, path)
    return manifest


def _unique_keys(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError(f"duplicate keys {sorted({k for k in keys if keys.count(k) > 1})}")
    return dict(pairs)


def check_fields(manifest: dict, path: Path | str) -> None:
    """Task, classes and schema must be usable as they are (the loader relies on them)."""
    task, classes = manifest.get("task"), manifest.get("classes")
    if task not in TASKS:
        raise ModelFileError(f"{path}: the manifest's task {task!r} is not one of {TASKS}. "
                             + REEXPORT)
    if task != "regression":
        plain = isinstance(classes, list) and len(classes) >= 2 and all(
            isinstance(c, str | int | float) for c in classes)
        if not plain or len({(type(c), c) for c in classes}) != len(classes):
            raise ModelFileError(f"{path}: a classification manifest needs a list of at least "
                                 f"two distinct labels as 'classes', got {classes!r:.200}. "
                                 + REEXPORT)
    try:
        Schema.from_dict(manifest["schema"])
    except Exception as e:  # any shape of junk: say what is wrong, not where it broke
        raise ModelFileError(f"{path}: the manifest's schema cannot be read "
                             f"({type(e).__name__}: {e}). {REEXPORT}") from None


def digest(manifest: dict, zf: zipfile.ZipFile, path: Path) -> str:
    """sha256 over the canonical manifest (unsigned fields left out) and every other member."""
    h = hashlib.sha256(b"automl-model/2\0")
    signed = {k: v for k, v in manifest.items() if k not in _UNSIGNED_FIELDS}
    text = json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    h.update(f"{len(text)}\0{text}".encode())
    for info in sorted(zf.infolist(), key=lambda i: i.filename):
        if info.filename != MANIFEST_NAME:
            body = read_member(zf, info.filename, path)
            h.update(f"{info.filename}\0{len(body)}\0".encode())
            h.update(body)
    return h.hexdigest()


def signature(key: bytes, sha256: str) -> str:
    return "hmac-sha256:" + hmac.new(key, sha256.encode(), hashlib.sha256).hexdigest()


def verify(manifest: dict, zf: zipfile.ZipFile, path: Path) -> None:
    """Refuse a file whose manifest or payload changed since it was saved, and, with
    AUTOML_MODEL_KEY set, one that is unsigned or signed with another key."""
    key, recorded = model_key(), manifest.get("sha256")
    actual = digest(manifest, zf, path)
    if not isinstance(recorded, str) or not hmac.compare_digest(actual, recorded):
        raise UnsafeModelError(f"{path}: the file was modified after it was saved (its manifest "
                               f"or payload does not match its recorded hash). {REEXPORT}")
    if key is None:
        return
    signed = manifest.get("signature")
    if not isinstance(signed, str):
        raise UnsafeModelError(f"{path} is not signed, and {KEY_ENV} is set, so only models "
                               f"signed with that key are loaded. Re-export it with {KEY_ENV} "
                               "set, or unset the variable to load unsigned models.")
    if not hmac.compare_digest(signature(key, actual).encode(), signed.encode()):
        raise UnsafeModelError(f"{path} is signed with another key than {KEY_ENV}, or was "
                               "modified; only models signed with this key are loaded. "
                               f"Re-export it with this {KEY_ENV}.")


def seal(manifest: dict, zf: zipfile.ZipFile, path: Path) -> dict:
    """The manifest with its digest (and, with a key set, its signature) filled in."""
    manifest = {k: v for k, v in manifest.items() if k not in _UNSIGNED_FIELDS}
    manifest["sha256"] = digest(manifest, zf, path)
    key = model_key()
    if key is not None:
        manifest["signature"] = signature(key, manifest["sha256"])
    return manifest


def as_manifest(manifest: ModelManifest | dict) -> ModelManifest:
    """``manifest`` as a :class:`ModelManifest`; a dict of its fields (tests and scripts
    build them; a Schema may stand for the schema rows) is read at this door."""
    if isinstance(manifest, ModelManifest):
        return manifest
    if not isinstance(manifest, dict) or not isinstance(manifest.get("task"), str) \
            or "schema" not in manifest:
        got = sorted(manifest) if isinstance(manifest, dict) else type(manifest).__name__
        raise ModelFileError(f"a model manifest needs 'task' (one of {TASKS}) and 'schema'; "
                             f"got {got}")
    data = dict(manifest)
    if isinstance(data["schema"], Schema):
        data["schema"] = data["schema"].to_dict()
    return ModelManifest.from_json(_json_data(data))


def manifest_json(manifest: ModelManifest) -> dict:
    """The manifest as a model file holds it before it is sealed: JSON data, tagged with the
    container's format, its task, classes and schema checked."""
    data = {**_json_data(manifest.to_json()), "format": FORMAT}
    check_fields(data, "cannot save")
    return data


def _json_data(data: dict) -> dict:
    try:
        return json.loads(json.dumps(data, default=_jsonable))
    except (TypeError, ValueError) as e:
        raise ModelFileError(f"cannot save: the manifest is not JSON data ({e})") from e


def _jsonable(obj):
    if isinstance(obj, np.generic | np.ndarray):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def read_reference_member(zf: zipfile.ZipFile, path: Path) -> dict | None:
    """The reference profile, checked as untrusted data; None when the file has none or it is
    unusable (monitoring is then off for this file; scoring is not affected)."""
    if REFERENCE_NAME not in zf.namelist():
        return None
    from automl.monitor.reference import checked

    body = read_member(zf, REFERENCE_NAME, path, MAX_REFERENCE_BYTES)
    try:
        return checked(json.loads(body, object_pairs_hook=_unique_keys))
    except (ValueError, RecursionError):
        return None
