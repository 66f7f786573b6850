"""``POST /explain``: each row's prediction plus its top reasons, from
:func:`automl.explain.reasons.explain_rows` (exact SHAP values).

An explanation costs far more than a prediction (~0.2 s for one row of a bagged LightGBM
model here, against ~35 ms), so a request may send at most :data:`EXPLAIN_ROWS` rows and
explanations run one at a time, in a worker thread, beside the predictions. The background
("an average row") is drawn once from the model file's reference profile; a file without
one uses each request's own rows, as ``explain_rows`` does.
"""

from __future__ import annotations

import asyncio

from automl.serve.answers import records
from automl.serve.errors import RequestError

__all__ = ["EXPLAIN_ROWS", "MAX_TOP", "Explanations", "parse_top"]

EXPLAIN_ROWS = 100  # rows one request may send (fewer if --max-rows is lower)
MAX_TOP = 20  # reasons per row


def parse_top(text: str | None) -> int:
    """The ``top`` query parameter (default 3); RequestError 422 if not 1 to MAX_TOP."""
    text = "3" if text is None else text
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_TOP):
        raise RequestError(422, "query", f"top must be a whole number from 1 to {MAX_TOP} "
                           f"(got {text[:20]!r}).")
    return int(text)


class Explanations:
    """The answer of ``/explain`` for a checked frame of rows."""

    def __init__(self, model, batcher, max_rows: int):
        from automl.monitor.reference import background_rows

        self.model, self.batcher = model, batcher
        self.max_rows = min(max_rows, EXPLAIN_ROWS)
        self.background = background_rows(model)
        self._one_at_a_time = asyncio.Semaphore(1)

    async def __call__(self, frame, top: int) -> dict:
        if len(frame) > self.max_rows:
            raise RequestError(413, "too_many_rows", f"{len(frame):,} rows is more than this "
                               f"server explains in one request ({self.max_rows}); send "
                               "fewer.")
        from automl.explain.reasons import explain_rows

        scored = records(await self.batcher.score(frame))
        async with self._one_at_a_time:
            why = await asyncio.to_thread(explain_rows, self.model, frame, top=top,
                                          background=self.background)
        return {"predictions": [{**p, **w} for p, w in zip(scored, why, strict=True)]}
