"""New rows checked against a model before they are scored, and the scored table.

:func:`schema_report` says, before any scoring, what :meth:`automl.bundle.Model.prepare`
would refuse or quietly change: columns the model needs that the rows lack (with the
column they were probably renamed to), columns it ignores, values of the wrong type
(words in a number column: scored as missing) and categories it never saw in training
(scored as unknown). A person can then fix the table instead of trusting odd predictions.

The manifest's schema records each column's kind, not its categories, so the categories
seen in training are read from the fitted encoders inside the pipeline (every member of an
ensemble): :func:`training_categories`.
"""

from __future__ import annotations

import difflib
import io
import re
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from automl.bundle import Model
from automl.data.schema import Kind
from automl.preprocess import CategoryCleaner

__all__ = ["EXAMPLES", "MissingColumn", "SchemaReport", "TypeProblem", "UnseenCategories",
           "parquet_bytes", "schema_report", "scored_rows", "training_categories"]

EXAMPLES = 3  # values quoted per problem
_SHORT = 40  # characters of a value quoted


@dataclass(frozen=True)
class MissingColumn:
    """A column the model needs that the rows lack; ``hint``: the rows' column most like it."""

    name: str
    hint: str | None = None


@dataclass(frozen=True)
class TypeProblem:
    """Values the model cannot read as the column's kind (``expected``: "numbers" or
    "dates"); they are scored as missing."""

    column: str
    expected: str
    count: int
    examples: tuple[str, ...]


@dataclass(frozen=True)
class UnseenCategories:
    """Rows whose value in a category column the model never saw in training."""

    column: str
    rows: int  # rows with such a value
    distinct: int  # how many different such values
    examples: tuple[str, ...]  # the most frequent first


@dataclass(frozen=True)
class SchemaReport:
    """What scoring ``rows`` rows with a model would meet; :attr:`can_score` says whether it
    can go ahead (no required column missing, no duplicate names, some rows)."""

    rows: int
    needed: tuple[str, ...]  # the model's input columns, ID-like ones left out
    missing: tuple[MissingColumn, ...] = ()
    extra: tuple[str, ...] = ()  # in the rows, not used by the model (ignored)
    duplicates: tuple[str, ...] = ()
    type_problems: tuple[TypeProblem, ...] = ()
    unseen: tuple[UnseenCategories, ...] = ()
    target: str | None = None  # the model's target, when the rows hold it (ignored too)
    categories_known: bool = True  # False: the pipeline's encoders could not be read

    @property
    def can_score(self) -> bool:
        return self.rows > 0 and not self.missing and not self.duplicates

    def messages(self) -> list[tuple[str, str]]:
        """(level, sentence) pairs, the blocking ones first; level is "error", "warning" or
        "info". Sentences quote names and values as written: escape them where Markdown
        renders."""
        out: list[tuple[str, str]] = []
        if self.duplicates:
            out.append(("error", f"Columns with the same name: {_names(self.duplicates)}. "
                                 "Rename them so that each name is used once."))
        if self.missing:
            named = [f"{_q(m.name)} (did you mean {_q(m.hint)}?)" if m.hint else _q(m.name)
                     for m in self.missing]
            rename = ("Rename the columns that are only named differently, or add"
                      if any(m.hint for m in self.missing) else "Add")
            out.append(("error", f"The rows lack {len(self.missing)} of the {len(self.needed)} "
                                 f"columns the model needs: {', '.join(named)}. {rename} the "
                                 "missing columns (their values may be blank), then load the "
                                 "table again."))
        if not self.rows:
            out.append(("error", "The table has no rows to score."))
        for p in self.type_problems:
            out.append(("warning", f"{_q(p.column)} should hold {p.expected}, but "
                                   f"{p.count:,} value(s) are not {p.expected} (e.g. "
                                   f"{_names(p.examples)}): they are scored as missing. Fix "
                                   "them in the table for better predictions."))
        for u in self.unseen:
            out.append(("warning", f"{_q(u.column)}: {u.rows:,} row(s) hold {u.distinct:,} "
                                   f"value(s) the model never saw in training (e.g. "
                                   f"{_names(u.examples)}); the model scores them as an "
                                   "unknown category. Check for typos or new codes."))
        if not self.categories_known:
            out.append(("info", "This model's categories could not be read from its "
                                "pipeline, so unseen categories are not counted."))
        ignored = [c for c in self.extra if c != self.target]
        if self.target is not None and self.target in self.extra:
            out.append(("info", f"The table holds the target {_q(self.target)}: it is kept "
                                "beside the predictions and not used to make them."))
        if ignored:
            shown = _names(ignored[:20]) + (f" and {len(ignored) - 20:,} more"
                                            if len(ignored) > 20 else "")
            out.append(("info", f"{len(ignored):,} column(s) the model does not use are "
                                f"ignored: {shown}."))
        return out


def schema_report(model: Model, frame: pd.DataFrame) -> SchemaReport:
    """Check ``frame`` against ``model``'s training schema; nothing is scored."""
    schema, names = model.schema, [str(c) for c in frame.columns]
    known_names, counts = set(schema.names), Counter(names)
    needed = tuple(c.name for c in schema.columns if c.kind != Kind.ID)
    duplicates = tuple(sorted(n for n, k in counts.items() if k > 1))
    extra = tuple(n for n in counts if n not in known_names)
    missing = tuple(MissingColumn(n, _close(n, extra)) for n in needed if n not in counts)
    target = model.target if model.target in extra else None
    report = SchemaReport(rows=len(frame), needed=needed, missing=missing, extra=extra,
                          duplicates=duplicates, target=target)
    if duplicates:
        return report
    frame = frame.set_axis(names, axis=1)
    problems = tuple(p for c in schema.columns if c.name in frame.columns
                     for p in _type_problem(c.name, c.kind, frame[c.name]))
    known = training_categories(model)
    unseen = () if known is None else tuple(_unseen(model, frame, known))
    return SchemaReport(rows=len(frame), needed=needed, missing=missing, extra=extra,
                        type_problems=problems, unseen=unseen, target=target,
                        categories_known=known is not None)


def training_categories(model: Model) -> dict[str, frozenset[str]] | None:
    """The categories each category column had in training, as the fitted encoders hold
    them (text, as :class:`~automl.preprocess.CategoryCleaner` writes them); an ensemble's
    members together. None when no fitted preprocessing step is found in the pipeline
    (not a pipeline automl built)."""
    found: dict[str, set[str]] = {}
    preps = list(_preprocessors(model.pipeline))
    for prep in preps:
        for _, step, columns in getattr(prep, "transformers_", ()):
            encoder = next((s for _, s in getattr(step, "steps", ())
                            if hasattr(s, "categories_")), None)
            if encoder is None or isinstance(columns, str):
                continue
            for column, cats in zip(columns, encoder.categories_, strict=False):
                found.setdefault(str(column), set()).update(map(str, cats))
    if not preps:
        return None
    return {c: frozenset(v) for c, v in found.items()}


def scored_rows(model: Model, frame: pd.DataFrame, *, limit: int | None = None
                ) -> pd.DataFrame:
    """The first ``limit`` rows (all with None) scored: ``prediction`` and ``proba_<class>``
    first, then the rows as given. An input column named like an output column is kept as
    ``"<name> (input)"``."""
    rows = frame if limit is None else frame.iloc[:limit]
    scores = model.predict(rows)
    inputs = rows.rename(columns={c: f"{c} (input)" for c in rows.columns
                                  if str(c) in set(scores.columns)})
    return pd.concat([scores.set_axis(inputs.index), inputs], axis=1)


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as a Parquet file (no index). A column of mixed values (text and numbers,
    which Parquet's typed columns refuse) is written as text."""
    out = frame.reset_index(drop=True)
    out.columns = [str(c) for c in out.columns]
    buf = io.BytesIO()
    try:
        out.to_parquet(buf, index=False)
    except (TypeError, ValueError):  # pyarrow's ArrowTypeError and ArrowInvalid
        mixed = [i for i in range(out.shape[1]) if pd.api.types.is_object_dtype(out.iloc[:, i])]
        if not mixed:
            raise
        for i in mixed:
            out.isetitem(i, out.iloc[:, i].map(str, na_action="ignore").astype("string"))
        buf = io.BytesIO()
        out.to_parquet(buf, index=False)
    return buf.getvalue()


# --- the checks -------------------------------------------------------------------------------

def _close(name: str, candidates: tuple[str, ...]) -> str | None:
    """The candidate a person most likely meant: the same name but for case, spaces and
    punctuation, else the closest spelling."""
    def norm(s: str) -> str:
        return re.sub(r"[\W_]+", "", s).lower()

    for c in candidates:
        if norm(c) == norm(name) and norm(c):
            return c
    lowered = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None


def _type_problem(column: str, kind: Kind, s: pd.Series) -> Iterator[TypeProblem]:
    """Values that the pipeline will read as missing: words in a number column
    (``Model.prepare``), and what ``DateFeatures`` cannot parse as a date."""
    if kind not in (Kind.NUMERIC, Kind.DATETIME):
        return
    dates = pd.api.types.is_datetime64_any_dtype(s)
    numbers = pd.api.types.is_numeric_dtype(s)  # booleans too; dates not
    if (kind == Kind.NUMERIC and numbers) or (kind == Kind.DATETIME and dates):
        return
    present = s.notna() & ~s.astype(str).str.strip().eq("")
    if kind == Kind.NUMERIC:
        bad = present if dates else present & pd.to_numeric(s, errors="coerce").isna()
    elif numbers:
        bad = present
    else:
        with warnings.catch_warnings():  # "could not infer format": as in training
            warnings.simplefilter("ignore", UserWarning)
            bad = present & pd.to_datetime(s.where(present), errors="coerce").isna()
    if bad.any():
        values = pd.unique(s[bad.to_numpy()].to_numpy())[:EXAMPLES]
        yield TypeProblem(column, "numbers" if kind == Kind.NUMERIC else "dates",
                          int(bad.sum()), tuple(_short(v) for v in values))


def _unseen(model: Model, frame: pd.DataFrame, known: dict[str, frozenset[str]]
            ) -> Iterator[UnseenCategories]:
    """Per category column: rows whose value, read as the pipeline reads it, is not one of
    the training categories (blank cells are missing values, not categories)."""
    columns = [c for c in known if c in frame.columns]
    if not columns:
        return
    filled = frame.assign(**{c: np.nan for c in model.schema.names if c not in frame.columns})
    prepared = model.prepare(filled)[columns]  # ints that arrived as 3.0 read as "3", as scored
    text = pd.DataFrame(CategoryCleaner().fit(prepared).transform(prepared), columns=columns,
                        index=prepared.index)
    for c in columns:
        new = prepared[c].notna() & ~text[c].isin(known[c])
        if new.any():
            counts = text[c][new].value_counts()
            yield UnseenCategories(c, int(new.sum()), len(counts),
                                   tuple(_short(v) for v in counts.index[:EXAMPLES]))


def _preprocessors(estimator) -> Iterator:
    """The fitted ``prep`` step of every pipeline in ``estimator`` (an ensemble's members,
    at any depth)."""
    steps = getattr(estimator, "named_steps", None)
    if steps is not None and "prep" in steps:
        yield steps["prep"]
    for member in getattr(estimator, "estimators", None) or ():
        yield from _preprocessors(member)


def _short(value) -> str:
    text = str(value)
    return text if len(text) <= _SHORT else text[:_SHORT - 1] + "…"


def _q(name: str) -> str:
    return repr(str(name))


def _names(values) -> str:
    return ", ".join(_q(v) for v in values)
