"""A run shared through its database storage, so that a worker on another machine can join.

A worker elsewhere shares nothing with the run's machine but the database URL. So when a
run keeps its study in a database, the supervisor puts into the study itself what such a
worker needs (:meth:`SharedRun.publish`): the run's spec (a study attribute; its storage URL
is masked, no secret travels), the data snapshot (an artifact, with its SHA-256) and the
search's stop time, which it keeps current as the control file's. A joining worker
(:func:`join`, ``automl worker --storage URL --run ID``) builds a private run folder from
them, checks the data's hash, and sends each finished trial's out-of-fold predictions back
as a trial artifact; before choosing the final model the supervisor fetches the ones it
lacks (checked by hash, shape and type), and it publishes the saved model file the same way.

Artifacts go through Optuna's artifact API into a table of the same database
(:class:`DatabaseArtifactStore`), or into a directory every machine mounts when
``AUTOML_ARTIFACT_DIR`` names one (Optuna's ``FileSystemArtifactStore``).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import socket
import tempfile
import time
from pathlib import Path

import numpy as np
import optuna

from automl.config import SQLITE_REFUSED
from automl.contracts import RunSpec
from automl.data.urls import driver_url, mask_url
from automl.errors import ConfigError, RunNotFoundError
from automl.runs import Run, check_run_id

__all__ = ["ARTIFACT_DIR_ENV", "DatabaseArtifactStore", "SharedRun", "join", "worker_name"]

ARTIFACT_DIR_ENV = "AUTOML_ARTIFACT_DIR"
SPEC_KEY, DATA_KEY, STOP_KEY, MODEL_KEY, STORE_KEY = (
    "automl:spec", "automl:data", "automl:stop_at", "automl:model", "automl:artifacts")
OOF_KEY = "automl:oof"  # trial attribute: the out-of-fold predictions a remote worker sent
MAX_ARTIFACT_BYTES = 2 * 1024**3  # a data snapshot the loaders accepted is far below this
_TABLE = "automl_artifacts"
_STOP_EVERY_S = 0.5  # how often a moving stop time is written to the study
_ARTIFACT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # Optuna's are UUIDs: never a path


def worker_name() -> str:
    """Which worker ran a trial, as the leaderboard shows it: host and process id."""
    return f"{socket.gethostname()}/{os.getpid()}"


class DatabaseArtifactStore:
    """Optuna's artifact store protocol over one table of the study's own database, so that
    artifacts need no location beyond the URL the workers already share."""

    def __init__(self, url: str):
        self.url = url
        self._engine = None
        self._tbl = None

    def __getstate__(self):  # travels to worker processes without its connections
        return {"url": self.url, "_engine": None, "_tbl": None}

    def _table(self):
        """The artifacts table, created on first use (once per store, not per artifact)."""
        import sqlalchemy as sa

        if self._tbl is None:
            self._engine = sa.create_engine(driver_url(self.url), pool_pre_ping=True)
            meta = sa.MetaData()
            table = sa.Table(_TABLE, meta,
                             sa.Column("artifact_id", sa.String(64), primary_key=True),
                             sa.Column("body", sa.LargeBinary(length=2**32 - 1), nullable=False),
                             sa.Column("created_at", sa.Float, nullable=False))
            meta.create_all(self._engine, checkfirst=True)
            self._tbl = table
        return self._tbl

    def open_reader(self, artifact_id: str):
        import sqlalchemy as sa
        from optuna.artifacts.exceptions import ArtifactNotFound

        table = self._table()
        with self._engine.connect() as conn:
            size = conn.execute(sa.select(sa.func.length(table.c.body))
                                .where(table.c.artifact_id == artifact_id)).scalar()
            if size is None:
                raise ArtifactNotFound(f"no artifact {artifact_id!r} in {mask_url(self.url)}")
            if size > MAX_ARTIFACT_BYTES:
                raise ConfigError(f"Artifact {artifact_id} holds {size:,} bytes, above the "
                                  f"{MAX_ARTIFACT_BYTES:,} a shared run may carry.")
            body = conn.execute(sa.select(table.c.body)
                                .where(table.c.artifact_id == artifact_id)).scalar()
        return io.BytesIO(bytes(body))

    def write(self, artifact_id: str, content_body) -> None:
        table = self._table()
        data = content_body.read(MAX_ARTIFACT_BYTES + 1)
        if len(data) > MAX_ARTIFACT_BYTES:
            raise ConfigError(f"A shared run's artifact may hold at most "
                              f"{MAX_ARTIFACT_BYTES:,} bytes.")
        with self._engine.begin() as conn:
            conn.execute(table.delete().where(table.c.artifact_id == artifact_id))
            conn.execute(table.insert().values(artifact_id=artifact_id, body=data,
                                               created_at=time.time()))

    def remove(self, artifact_id: str) -> None:
        table = self._table()
        with self._engine.begin() as conn:
            conn.execute(table.delete().where(table.c.artifact_id == artifact_id))


class SharedRun:
    """One run's study in a database, as the supervisor and remote workers use it."""

    def __init__(self, url: str, study_name: str, store=None):
        self.url = url
        self.study_name = study_name
        self.store = store
        self._study = None
        self._stop_written = (None, 0.0)  # value, when

    def __getstate__(self):
        return {**self.__dict__, "_study": None}

    @property
    def study(self) -> optuna.Study:
        if self._study is None:
            self._study = optuna.load_study(study_name=self.study_name,
                                            storage=driver_url(self.url))
        return self._study

    def _store(self):
        """The artifact store: a folder only where this machine's own environment names one
        (a path read from the database could point anywhere on this machine), else the
        database's table."""
        if self.store is None:
            directory = os.environ.get(ARTIFACT_DIR_ENV)
            where = self.study.user_attrs.get(STORE_KEY)
            if not directory and isinstance(where, dict) and where.get("directory"):
                raise ConfigError(f"Run {self.study_name.removeprefix('automl-')} keeps its "
                                  "artifacts in a folder its machines share: set "
                                  f"{ARTIFACT_DIR_ENV} to that folder as mounted here.")
            self.store = (_directory_store(directory) if directory
                          else DatabaseArtifactStore(self.url))
        return self.store

    # the supervisor's side
    def publish(self, run: Run) -> None:
        """Put the run's spec and data snapshot into the study (once per data hash)."""
        study, spec = self.study, run.spec
        data = run.data_file.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        known = study.user_attrs.get(DATA_KEY)
        directory = os.environ.get(ARTIFACT_DIR_ENV)
        if directory:
            study.set_user_attr(STORE_KEY, {"directory": str(Path(directory).resolve())})
        study.set_user_attr(SPEC_KEY, spec.to_json())
        if isinstance(known, dict) and known.get("sha256") == digest:
            return
        artifact_id = _upload(self._store(), study, data, "data.parquet")
        study.set_user_attr(DATA_KEY, {"artifact_id": artifact_id, "sha256": digest,
                                       "bytes": len(data)})

    def publish_stop_at(self, when: float, *, now: bool = False) -> None:
        """Keep the study's stop time with the control file's (moves are rate-limited)."""
        value, at = self._stop_written
        if value is not None and abs(value - when) < 0.05:
            return
        if not now and value is not None and time.time() - at < _STOP_EVERY_S and when > value:
            return  # an earlier stop is written at once; a later one can wait
        self.study.set_user_attr(STOP_KEY, float(when))
        self._stop_written = (float(when), time.time())

    def fetch_oofs(self, run: Run, trials, n_rows: int) -> int:
        """Download the out-of-fold predictions remote workers sent for finished trials this
        run folder lacks (``n_rows``: the search's rows); return how many arrived. A damaged
        one is skipped (that trial then takes no part in the ensemble)."""
        got = 0
        for t in trials:
            meta = t.user_attrs.get(OOF_KEY)
            if not isinstance(meta, dict) or (run.path / "oof" / f"{t.number}.npy").exists():
                continue
            try:
                pred = _oof_array(self._download(meta), n_rows)
            except (ConfigError, ValueError, OSError, KeyError):
                continue
            run.save_oof(t.number, pred)
            got += 1
        return got

    def publish_model(self, model_file: Path) -> None:
        data = Path(model_file).read_bytes()
        artifact_id = _upload(self._store(), self.study, data, "model.skops")
        self.study.set_user_attr(MODEL_KEY, {"artifact_id": artifact_id,
                                             "sha256": hashlib.sha256(data).hexdigest()})

    # a remote worker's side
    def stop_at(self) -> float:
        """The search's stop time as the supervisor last wrote it; now if it never did."""
        try:
            value = self.study.user_attrs.get(STOP_KEY)
        except Exception:  # the database is unreachable: stop, as for a missing control file
            return 0.0
        return float(value) if isinstance(value, int | float) else 0.0

    def send_oof(self, trial: optuna.Trial, pred: np.ndarray) -> None:
        buf = io.BytesIO()
        np.save(buf, np.asarray(pred, dtype=np.float32), allow_pickle=False)
        data = buf.getvalue()
        artifact_id = _upload(self._store(), trial, data, f"oof-{trial.number}.npy")
        trial.set_user_attr(OOF_KEY, {"artifact_id": artifact_id,
                                      "sha256": hashlib.sha256(data).hexdigest()})

    def download_model(self, path: Path) -> Path:
        meta = self.study.user_attrs.get(MODEL_KEY)
        if not isinstance(meta, dict):
            raise ConfigError("The run has no model file in its storage yet: it has not "
                              "finished. Wait for the run, then try again.")
        Path(path).write_bytes(self._download(meta))
        return Path(path)

    def _download(self, meta: dict) -> bytes:
        artifact_id = meta.get("artifact_id")
        if not isinstance(artifact_id, str) or not _ARTIFACT_ID.fullmatch(artifact_id):
            raise ConfigError(f"The storage names an artifact {str(artifact_id)[:80]!r}, "
                              "which is not an artifact id (letters, digits, '-' and '_').")
        with self._store().open_reader(artifact_id) as f:
            data = f.read(MAX_ARTIFACT_BYTES + 1)
        if len(data) > MAX_ARTIFACT_BYTES or hashlib.sha256(data).hexdigest() != meta.get(
                "sha256"):
            raise ConfigError("An artifact of the run arrived damaged (its SHA-256 differs "
                              "from the one recorded): it was changed or cut short in the "
                              "storage.")
        return data


def join(url: str, run_id: str, workdir: str | os.PathLike | None = None):
    """A search context for a worker on this machine joining run ``run_id`` whose study is
    in the database at ``url``: a private run folder under ``workdir`` (default: a new
    temporary directory) holding the run's spec and its data, checked by hash."""
    from automl.search.context import SearchContext

    run_id = check_run_id(run_id)
    if url.startswith("sqlite"):
        raise ConfigError(SQLITE_REFUSED)
    shared = SharedRun(url, f"automl-{run_id}")
    try:
        study = shared.study
    except KeyError:
        raise RunNotFoundError(f"The storage at {mask_url(url)} holds no run {run_id}. Check "
                               "the run id (the Runs page or `automl runs` on the machine "
                               "that started it) and the URL.") from None
    spec_json, data_meta = study.user_attrs.get(SPEC_KEY), study.user_attrs.get(DATA_KEY)
    if not isinstance(spec_json, dict) or not isinstance(data_meta, dict):
        raise ConfigError(f"Run {run_id} has not shared its data in the storage yet (its "
                          "search has not started, or it was started by a version that does "
                          "not share runs). Start or resume the run first, then the worker.")
    spec = RunSpec.from_json(spec_json)
    base = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="automl-worker-"))
    run = Run(base / run_id)
    run.path.mkdir(mode=0o700, parents=True, exist_ok=True)
    (run.path / "oof").mkdir(mode=0o700, exist_ok=True)
    run.write_spec(spec)
    data = shared._download(data_meta)
    with tempfile.NamedTemporaryFile(dir=run.path, delete=False) as f:
        f.write(data)
    os.replace(f.name, run.data_file)
    ctx = SearchContext.from_run(run, url)
    ctx.remote = shared
    return ctx


def _upload(store, study_or_trial, data: bytes, name: str) -> str:
    from optuna.artifacts import upload_artifact

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        return upload_artifact(study_or_trial=study_or_trial, file_path=str(path),
                               artifact_store=store)


def _oof_array(data: bytes, n_rows: int) -> np.ndarray:
    """Out-of-fold predictions from a remote worker: an .npy of floats (never pickles), one
    row per training row."""
    pred = np.load(io.BytesIO(data), allow_pickle=False)
    if pred.dtype.kind != "f" or pred.ndim not in (1, 2) or len(pred) != n_rows:
        raise ConfigError(f"out-of-fold predictions of shape {pred.shape} ({pred.dtype}) do "
                          f"not fit a run of {n_rows} rows")
    return pred


def _directory_store(directory: str):
    from optuna.artifacts import FileSystemArtifactStore

    return FileSystemArtifactStore(directory)
