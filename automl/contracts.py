"""What a run folder and a model file hold, as frozen, versioned records.

Every module reads and writes ``settings.json`` (:class:`RunSpec`), ``status.json``
(:class:`RunStatus`) and a model file's manifest (:class:`ModelManifest`) through these
types; nobody indexes their JSON by key. Each record has ``to_json()`` (a dict ready for
``json.dumps``) and ``from_json(data)``, which also reads the files written before the format
had a version (version 0: the same keys, no ``format`` field) and keeps fields it does not
know (a newer writer's) so that they survive a read-modify-write.

A run's state is an enum with its allowed transitions in one place (:data:`TRANSITIONS`), as
Optuna's ``TrialState``: :meth:`RunStatus.moved_to` refuses a transition the table does not
allow and :meth:`RunStatus.updated` refuses to change an ended run. Secrets never enter these
records: a storage URL is kept with its password masked.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from automl.config import TrainConfig
from automl.errors import ConfigError, RunStateError

__all__ = ["FORMAT_VERSION", "TRANSITIONS", "BestModel", "ModelManifest", "Progress",
           "RunSpec", "RunState", "RunStatus"]

FORMAT_VERSION = 1  # of settings.json and status.json; a model file's has its own (bundle)


class RunState(StrEnum):
    """Where a run is. ``queued`` is never written: readers see it while a launched search
    process has not yet said it runs (see ``automl.runs.Run.status``)."""

    CREATED = "created"
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"

    @property
    def is_active(self) -> bool:
        return self in (RunState.QUEUED, RunState.RUNNING)

    @property
    def is_ended(self) -> bool:
        return self in (RunState.FINISHED, RunState.STOPPED, RunState.FAILED)


_S = RunState
# What the supervisor may write after each state (resume: an ended run runs again; a run
# whose process died reads as failed, so a resume of it is failed -> running).
TRANSITIONS: dict[RunState, frozenset[RunState]] = {
    _S.CREATED: frozenset({_S.RUNNING, _S.FAILED}),
    _S.QUEUED: frozenset({_S.RUNNING, _S.FAILED}),
    _S.RUNNING: frozenset({_S.FINISHED, _S.STOPPED, _S.FAILED}),
    _S.FINISHED: frozenset({_S.RUNNING}),
    _S.STOPPED: frozenset({_S.RUNNING}),
    _S.FAILED: frozenset({_S.RUNNING}),
}


def _known(cls, data: dict) -> tuple[dict, dict]:
    """``data`` split into the fields of ``cls`` and the rest (kept, not interpreted)."""
    names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
    return ({k: v for k, v in data.items() if k in names},
            {k: v for k, v in data.items() if k not in names and k != "format"})


def _record_json(record, head: dict, skip_none: bool = False) -> dict:
    """A record's fields as JSON data, after the fields it kept from the file (``extra``)."""
    out = {**record.extra, **head}
    for f in dataclasses.fields(record):
        value = getattr(record, f.name)
        if f.name == "extra" or (skip_none and value is None):
            continue
        if isinstance(value, TrainConfig):
            value = value.to_dict()
        elif isinstance(value, Progress | BestModel):
            value = value.to_json()
        elif isinstance(value, RunState):
            value = str(value)
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return out


def _number(value, default=None):
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return value if ok else default


def _check_object(data, what: str) -> dict:
    if not isinstance(data, dict):
        raise ConfigError(f"{what} is not a JSON object (got {type(data).__name__}); the run "
                          "folder is damaged: start a new run.")
    return data


@dataclass(frozen=True)
class Progress:
    """The search's progress as the supervisor last wrote it (every half second)."""

    elapsed: float = 0.0
    budget: float = 0.0
    complete: int = 0
    pruned: int = 0
    failed: int = 0
    best: float | None = None
    best_family: str | None = None

    @classmethod
    def from_json(cls, data) -> Progress | None:
        if not isinstance(data, dict):
            return None
        known, _ = _known(cls, data)
        return cls(**known)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class BestModel:
    """What the final model is: a family (or ``ensemble``), its CV score, the best trial."""

    family: str | None = None
    score: float | None = None
    trial: int | None = None
    holdout_score: float | None = None
    params: dict = field(default_factory=dict)
    members: list = field(default_factory=list)

    @classmethod
    def from_json(cls, data) -> BestModel | None:
        if not isinstance(data, dict):
            return None
        known, _ = _known(cls, data)
        known["params"] = dict(known.get("params") or {})
        known["members"] = list(known.get("members") or [])
        return cls(**known)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class RunStatus:
    """``status.json``: the run's state and what its supervisor reports. Written by the
    supervisor only (``automl.runs.StatusWriter``); everyone else reads."""

    state: RunState = RunState.CREATED
    message: str | None = None
    pid: int | None = None
    pid_start: float | None = None
    workers: list = field(default_factory=list)  # [[pid, start time], ...]
    n_workers: int | None = None
    n_trials: int = 0
    progress: Progress | None = None
    best: BestModel | None = None
    model: str | None = None
    queued_at: float | None = None
    started_at: float | None = None
    deadline: float | None = None
    search_started_at: float | None = None
    search_ended_at: float | None = None
    ended_at: float | None = None
    final_s: float | None = None
    updated_at: float | None = None
    extra: dict = field(default_factory=dict, compare=False)

    @classmethod
    def from_json(cls, data) -> RunStatus:
        known, extra = _known(cls, _check_object(data, "status.json"))
        try:
            known["state"] = RunState(known.get("state", "created"))
        except ValueError:
            known["state"] = RunState.FAILED
            known["message"] = (f"status.json holds an unknown state {data.get('state')!r}; "
                                "resume the run to continue its study.")
        known["progress"] = Progress.from_json(known.get("progress"))
        known["best"] = BestModel.from_json(known.get("best"))
        known["workers"] = list(known.get("workers") or [])
        known["n_trials"] = int(_number(known.get("n_trials"), 0))
        for name in ("pid", "n_workers"):
            value = known.get(name)
            known[name] = value if isinstance(value, int) and not isinstance(value, bool) \
                else None
        for name in ("pid_start", "queued_at", "started_at", "deadline", "search_started_at",
                     "search_ended_at", "ended_at", "final_s", "updated_at"):
            known[name] = _number(known.get(name))
        return cls(**known, extra=extra)

    def to_json(self) -> dict:
        return _record_json(self, {"format": FORMAT_VERSION})

    def moved_to(self, state: RunState, **fields) -> RunStatus:
        """This status in ``state`` with ``fields`` changed; RunStateError if the table of
        transitions does not allow it."""
        state = RunState(state)
        if state not in TRANSITIONS[self.state]:
            allowed = ", ".join(sorted(TRANSITIONS[self.state])) or "none"
            raise RunStateError(f"A {self.state} run cannot become {state} (from {self.state}: "
                                f"{allowed}).")
        return dataclasses.replace(self, state=state, **fields)

    def updated(self, **fields) -> RunStatus:
        """This status with ``fields`` changed and the state kept; refused once it ended."""
        if "state" in fields:
            raise RunStateError("Change the state with moved_to(), which checks the transition.")
        if self.state.is_ended:
            raise RunStateError(f"The run is {self.state}: its status no longer changes until "
                                "it is resumed.")
        return dataclasses.replace(self, **fields)

    def seen_as(self, state: RunState, **fields) -> RunStatus:
        """What a reader shows without writing (queued launch, dead process)."""
        return dataclasses.replace(self, state=RunState(state), **fields)


@dataclass(frozen=True)
class RunSpec:
    """``settings.json``: what the run searches, written once when the run is created."""

    config: TrainConfig
    task: str
    metric: str
    direction: str = "maximize"
    families: tuple[str, ...] = ()
    cv_folds: int = 5
    classes: tuple | None = None
    schema: tuple = ()  # automl.data.schema.Schema.to_dict() rows
    source: str = ""
    data_hash: str | None = None
    n_rows: int | None = None
    created_at: float | None = None
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def target(self) -> str:
        return self.config.target

    def input_schema(self):
        """The input columns as an :class:`automl.data.schema.Schema`."""
        from automl.data.schema import Schema

        return Schema.from_dict(list(self.schema))

    @classmethod
    def from_json(cls, data) -> RunSpec:
        known, extra = _known(cls, _check_object(data, "settings.json"))
        config = _check_object(known.get("config"), "settings.json's config")
        names = {f.name for f in dataclasses.fields(TrainConfig)}
        known["config"] = TrainConfig(**{k: v for k, v in config.items() if k in names})
        for name in ("task", "metric"):
            if not isinstance(known.get(name), str):
                raise ConfigError(f"settings.json has no {name}; the run folder is damaged: "
                                  "start a new run.")
        known["families"] = tuple(known.get("families") or ())
        known["classes"] = tuple(known["classes"]) if known.get("classes") else None
        known["schema"] = tuple(known.get("schema") or ())
        return cls(**known, extra=extra)

    def to_json(self) -> dict:
        return _record_json(self, {"format": FORMAT_VERSION})


@dataclass(frozen=True)
class ModelManifest:
    """A model file's manifest: what the model predicts, from which columns, how well, and
    which run made it. ``automl.bundle`` fills in its container fields (format version, time,
    library versions, digest and signature) when it saves, and reads the JSON, checks it and
    its digest, then makes this record; everyone else reads its attributes.

    ``schema`` holds :meth:`automl.data.schema.Schema.to_dict` rows (a Schema given is turned
    into them), ``classes`` the original labels in code order (None for regression),
    ``members`` an ensemble's ``{"trial", "family", "weight", ...}`` entries.
    """

    task: str
    schema: tuple  # automl.data.schema.Schema.to_dict() rows
    classes: tuple | None = None
    target: str | None = None
    metric: str | None = None
    metric_direction: str | None = None
    cv_score: float | None = None
    cv_folds: int | None = None
    family: str | None = None
    family_title: str | None = None
    explainer: str | None = None
    params: dict = field(default_factory=dict)
    members: list = field(default_factory=list)
    best_trial: int | None = None
    n_trials: int | None = None
    n_rows: int | None = None
    source: str | None = None
    data_hash: str | None = None
    run_id: str | None = None
    holdout_score: float | None = None
    holdout_rows: int | None = None
    format_version: int | None = None
    created_at: str | None = None
    library_versions: dict = field(default_factory=dict)
    sha256: str | None = None  # over the manifest and payload (automl.bundle._format.digest)
    signature: str | None = None  # HMAC of sha256, when saved with AUTOML_MODEL_KEY
    extra: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        schema = self.schema.to_dict() if hasattr(self.schema, "to_dict") else self.schema
        object.__setattr__(self, "schema", tuple(schema or ()))
        if self.classes is not None:
            object.__setattr__(self, "classes", tuple(self.classes) or None)

    def input_schema(self):
        """The input columns as an :class:`automl.data.schema.Schema`."""
        from automl.data.schema import Schema

        return Schema.from_dict(list(self.schema))

    @classmethod
    def from_json(cls, data) -> ModelManifest:
        """The record of a manifest's JSON; numbers that are not numbers read as None (the
        container, ``automl.bundle``, has checked task, classes and schema already)."""
        if not isinstance(data, dict):
            raise ConfigError("A model manifest must be a JSON object.")
        known, extra = _known(cls, data)
        if "format" in data:  # the container's tag ("automl-model"), kept as read
            extra["format"] = data["format"]
        if not isinstance(known.get("task"), str):
            raise ConfigError(f"A model manifest needs a task; got {known.get('task')!r}.")
        classes = known.get("classes")
        known["classes"] = tuple(classes) if isinstance(classes, list | tuple) and classes \
            else None
        known.setdefault("schema", ())
        for name in ("params", "library_versions"):
            value = known.get(name)
            known[name] = dict(value) if isinstance(value, dict) else {}
        members = known.get("members")
        known["members"] = [dict(m) for m in members if isinstance(m, dict)] \
            if isinstance(members, list) else []
        for name in ("cv_score", "holdout_score"):
            known[name] = _number(known.get(name))
        for name in ("cv_folds", "best_trial", "n_trials", "n_rows", "holdout_rows",
                     "format_version"):
            value = known.get(name)
            known[name] = value if type(value) is int else None
        return cls(**known, extra=extra)

    def to_json(self) -> dict:
        """The manifest as written; fields left at None are left out (as before the type)."""
        return _record_json(self, {}, skip_none=True)

    def replaced(self, **fields: Any) -> ModelManifest:
        """This manifest with ``fields`` changed."""
        return dataclasses.replace(self, **fields)
