"""From a model's own SHAP units to the units a person reads, with the average prediction as
the starting point.

Tree and linear SHAP values of a classifier are in log-odds (softmax logits for several
classes), and their base value is the log-odds of the training data, whose probability is
not the average predicted probability (2.7 % against 12.7 % on the churn sample). Scaling
log-odds into probability also lets a column take more than 100 points when columns
cancel out.

So each row's contributions are treated as players of a game whose payoff is the predicted
probability: the row's margin is the background row's margin with some columns' margin
contributions swapped for the row's own; a column's value is its average change of the
probability over background rows, each with its own random order of the columns and that
order reversed (so every row is averaged over 2 x 100 orders).
This is exact interventional SHAP in probability units for the additive margin model the
contributions define. Each row adds up exactly to (prediction - average prediction over the
background), and a column's points lie within [-1, 1]. For outputs already in their units
(regression, forests' probabilities) the same game reduces to centring each column on the
background.
"""

from __future__ import annotations

import numpy as np

__all__ = ["to_output_units"]

CHUNK = 4_000_000  # numbers held at once (rows x background x columns x outputs)


def to_output_units(values: np.ndarray, base: np.ndarray, space: str, background: np.ndarray,
                    *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Contributions (n, columns, outputs) and base in ``space`` ("margin", "probability" or
    "value"), with the background rows' contributions (b, columns, outputs) in the same
    space -> contributions and base in probability points or target units, where base is
    the mean prediction over the background rows."""
    if space != "margin":
        mean = background.mean(axis=0)  # (columns, outputs)
        return values - mean[None], base + mean.sum(axis=0)
    k = values.shape[2]
    bg_margin = base[None, :] + background.sum(axis=1)  # (b, outputs)
    p_bg = _sigmoid(bg_margin) if k == 1 else _softmax(bg_margin)
    n, m = values.shape[:2]
    b = len(background)
    out = np.zeros(values.shape)
    if n == 0:
        return out, p_bg.mean(axis=0)
    rng = np.random.default_rng(seed)
    # one random order of the columns per background row, and its reverse: 2 x b orders per
    # explained row, for about the cost of two
    forward = np.argsort(rng.random((b, m)), axis=1)
    every = np.arange(b)
    # exp(margin) kept up to date by multiplying in exp(change): one exp per step (for
    # several classes, the margins shifted by their largest value first: no overflow)
    shift = bg_margin.max(axis=1, keepdims=True) if k > 1 else 0.0  # softmax ignores it
    start_e = np.exp(bg_margin - shift)
    rows = max(1, CHUNK // (b * m * k))
    for start in range(0, n, rows):
        x = values[start:start + rows]  # (r, columns, outputs)
        credit = np.zeros((len(x), b, m, k))  # per background row, column, output
        for order in (forward, forward[:, ::-1]):
            e = np.broadcast_to(start_e, (len(x), b, k)).copy()
            before = np.broadcast_to(p_bg, e.shape)
            for t in range(m):
                j = order[:, t]  # the column each background row's order adds now
                e *= np.exp(x[:, j, :] - background[every, j, :][None])
                after = e / (1.0 + e) if k == 1 else e / e.sum(axis=2, keepdims=True)
                credit[:, every, j, :] += after - before
                before = after
        out[start:start + rows] = credit.mean(axis=1) / 2
    return out, p_bg.mean(axis=0)


def _sigmoid(m: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-m))


def _softmax(m: np.ndarray) -> np.ndarray:
    e = np.exp(m - m.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
