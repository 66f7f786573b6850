"""The preprocessing built from a schema, fitted as part of the model's pipeline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl.data import infer_schema
from automl.data.schema import Kind
from automl.preprocess import MAX_ONEHOT_CATEGORIES, PrepOptions, build_preprocessor


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    n = 200
    words = ["great service", "slow delivery", "broken item", "friendly staff", "late again"]
    return pd.DataFrame({
        "customer_id": np.arange(1000, 1000 + n),
        "age": rng.integers(18, 80, n).astype(float),
        "plan": rng.choice(["basic", "pro", "team"], n),
        "city": [f"city_{i % 60}" for i in range(n)],  # many values: target-encoded
        "active": rng.choice([True, False], n),
        "signup": pd.date_range("2021-01-01", periods=n, freq="D"),
        "review": [f"{words[i % 5]} and {words[(i * 3) % 5]} with order {i}" for i in range(n)],
    }).assign(age=lambda d: d.age.mask(d.index % 10 == 0))


def _names(ct) -> list[str]:
    return list(ct.get_feature_names_out())


def test_schema_drives_one_transformer_per_kind(frame):
    schema = infer_schema(frame)
    assert schema["customer_id"].kind == Kind.ID and schema["review"].kind == Kind.TEXT
    y = (frame.age.fillna(40) > 40).astype(int).to_numpy()
    ct = build_preprocessor(schema, "binary").fit(frame, y)
    names = _names(ct)
    assert not any("customer_id" in n for n in names)  # ID-like columns are dropped
    assert "num__age" in names and "num__missingindicator_age" in names
    assert any(n.startswith("onehot__plan_") for n in names)
    assert "target__city" in names  # more than MAX_ONEHOT_CATEGORIES values
    assert frame.city.nunique() > MAX_ONEHOT_CATEGORIES
    assert {"date__signup_year", "date__signup_dayofweek", "date__signup_days"} <= set(names)
    assert any(n.startswith("text_review__review=") for n in names)
    out = ct.transform(frame)
    assert out.shape == (len(frame), len(names))


def test_unseen_categories_and_missing_values_at_prediction_time(frame):
    schema = infer_schema(frame)
    y = np.arange(len(frame)) % 2
    ct = build_preprocessor(schema, "binary", PrepOptions(scale=True, dense=True)).fit(frame, y)
    new = frame.head(3).copy()
    new["plan"] = ["enterprise", None, "basic"]
    new["city"] = ["atlantis", "city_1", None]
    new["signup"] = [pd.NaT, pd.Timestamp("2030-01-01"), pd.Timestamp("2021-02-01")]
    new["review"] = [None, "", "never seen words"]
    out = np.asarray(ct.transform(new), dtype=float)
    assert out.shape[0] == 3 and np.isfinite(out).all()


def test_options_control_scaling_imputation_and_density(frame):
    schema = infer_schema(frame[["age", "plan"]])
    y = np.arange(len(frame)) % 2
    raw = build_preprocessor(schema, "binary", PrepOptions(impute=False, dense=True))
    assert np.isnan(raw.fit_transform(frame, y)[:, 0]).sum() == frame.age.isna().sum()
    scaled = build_preprocessor(schema, "binary", PrepOptions(scale=True, dense=True))
    out = scaled.fit_transform(frame, y)
    assert isinstance(out, np.ndarray)
    assert abs(out[:, 0].mean()) < 1e-9 and out[:, 0].std() == pytest.approx(1, rel=1e-6)


def test_regression_target_encoding_uses_continuous_targets(frame):
    schema = infer_schema(frame[["city"]])
    y = np.arange(len(frame)) % 7  # integers, but a regression target
    ct = build_preprocessor(schema, "regression").fit(frame, y)
    assert ct.transform(frame).shape == (len(frame), 1)
