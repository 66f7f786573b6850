"""What an explanation is: SHAP values per row and per user column, in the model's output
units, with everything needed to draw it and to put it into words. Plain data, no model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Explanation"]


@dataclass
class Explanation:
    """SHAP values grouped back to the user's own columns.

    For every explained row ``i`` and output ``k``:
    ``base[k] + values[i, :, k].sum() == prediction[i, k]`` (up to float rounding).

    Outputs: regression has one (the predicted value, in the target's units); binary
    classification one (the probability of ``classes[1]``); multiclass one per class (the
    probability of that class). Contributions of classifiers are in probability units, so
    0.23 reads as "23 percentage points more likely". ``base`` is the average prediction
    over the background rows (a random sample of the table the model was trained on), so a
    contribution says how far a column moved this row's prediction from the average one.
    """

    values: np.ndarray  # (n_rows, n_columns, n_outputs)
    base: np.ndarray  # (n_outputs,): the average prediction the contributions start from
    prediction: np.ndarray  # (n_rows, n_outputs): base + values summed over columns
    data: pd.DataFrame  # (n_rows, n_columns): the explained rows as the user gave them
    columns: list[str]  # user column names, in the order of values' second axis
    outputs: list[str]  # what each output is, e.g. ["P(churn = yes)"] or ["wage"]
    units: str  # "probability" or "value" ("log-odds" only when asked for raw SHAP units)
    task: str  # "binary", "multiclass" or "regression"
    classes: list  # class labels (empty for regression)
    target: str
    method: str  # how the values were computed, said in words
    n_total: int  # rows in the table the explained rows were sampled from

    @property
    def n_rows(self) -> int:
        return int(self.values.shape[0])

    @property
    def sampled(self) -> bool:
        return self.n_rows < self.n_total

    def output_index(self, output: int | str | None = None) -> int:
        """The output for a class label, an output name or an index (default: the first)."""
        if output is None:
            return 0
        if isinstance(output, int | np.integer) and not isinstance(output, bool) \
                and 0 <= output < len(self.outputs):
            return int(output)
        if output in self.outputs:
            return self.outputs.index(output)
        if self.task == "multiclass" and output in list(self.classes):
            return list(self.classes).index(output)
        raise KeyError(f"no output {output!r}; outputs are {self.outputs}")

    def importance(self, output: int | str | None = None) -> pd.Series:
        """Mean |SHAP| per column, largest first. With ``output=None`` a multiclass model's
        outputs are summed (how much a column moves any class's probability)."""
        v = np.abs(self.values)
        if output is None:
            imp = v.sum(axis=2).mean(axis=0)
        else:
            imp = v[:, :, self.output_index(output)].mean(axis=0)
        return pd.Series(imp, index=self.columns, name="mean |SHAP|").sort_values(
            ascending=False, kind="stable")

    def row(self, i: int, output: int | str | None = None) -> pd.DataFrame:
        """One explained row (by position): column, value, contribution; largest first."""
        k = self.output_index(output)
        frame = pd.DataFrame({"column": self.columns,
                              "value": list(self.data.iloc[i].to_numpy()),
                              "contribution": self.values[i, :, k]})
        order = np.argsort(-np.abs(frame["contribution"].to_numpy()), kind="stable")
        return frame.iloc[order].reset_index(drop=True)

    def column(self, name: str, output: int | str | None = None) -> pd.DataFrame:
        """Every explained row's value of column ``name`` and its contribution."""
        j = self.columns.index(name)
        return pd.DataFrame({"value": self.data[name].to_numpy(),
                             "contribution": self.values[:, j, self.output_index(output)]},
                            index=self.data.index)
