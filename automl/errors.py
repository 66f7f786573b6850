"""Errors the engine raises. Every message says what was wrong and what to do about it.

The tree (catch ``AutoMLError`` to handle them all)::

    AutoMLError
    ├── DataError                the input table cannot be used as it is
    │   ├── EmptyDataError       no rows, or a header with no rows
    │   ├── UnsupportedFormatError
    │   ├── DataLimitError       more bytes, rows or columns than allowed
    │   └── NonNumericValuesError  text in a column that is otherwise numbers
    ├── TargetError              the target column is missing or cannot be learned
    ├── ConfigError              a setting is out of range or unknown
    ├── SearchError              the search produced no usable model
    ├── ModelFileError           a model file that cannot or must not be loaded
    │   └── UnsafeModelError     pickles, foreign files, types outside the allow-list
    ├── SchemaMismatchError      rows to score do not match the model's input columns
    ├── RunNotFoundError         no run with that id, or a value that is not a run id
    ├── RunAccessError           stop, resume or delete asked by a session without the
    │                            run's owner token
    └── RunStateError            a status change the run's state does not allow (resume a
                                 running run, change a run that ended)
"""

from __future__ import annotations

__all__ = [
    "AutoMLError",
    "ConfigError",
    "DataError",
    "DataLimitError",
    "EmptyDataError",
    "ModelFileError",
    "NonNumericValuesError",
    "RunAccessError",
    "RunNotFoundError",
    "RunStateError",
    "SchemaMismatchError",
    "SearchError",
    "TargetError",
    "UnsafeModelError",
    "UnsupportedFormatError",
]


class AutoMLError(Exception):
    """Base of every error the engine raises on purpose."""


class DataError(AutoMLError):
    """The input table cannot be used as it is."""


class EmptyDataError(DataError):
    """The input has no data rows."""


class UnsupportedFormatError(DataError):
    """The file is not in a format the loaders read."""


class DataLimitError(DataError):
    """The input is larger than the configured limits."""


class NonNumericValuesError(DataError):
    """A mostly numeric column holds values that are not numbers."""


class TargetError(AutoMLError):
    """The target column is missing or cannot be learned from."""


class ConfigError(AutoMLError):
    """A setting is out of range or unknown."""


class SearchError(AutoMLError):
    """The search produced no usable model."""


class ModelFileError(AutoMLError):
    """A model file that cannot be loaded."""


class UnsafeModelError(ModelFileError):
    """A model file that must not be loaded because loading it could run code."""


class SchemaMismatchError(AutoMLError):
    """Rows to score do not match the columns the model was trained on."""


class RunNotFoundError(AutoMLError):
    """No run with the given id."""


class RunAccessError(AutoMLError):
    """The caller may view the run but not stop, resume or delete it: it does not hold the
    run's owner token (in the app: another browser session started the run)."""


class RunStateError(AutoMLError):
    """A change of a run's status that its state does not allow: the transitions are in
    ``automl.contracts.TRANSITIONS`` (for example a finished run is resumed, never re-finished)."""
