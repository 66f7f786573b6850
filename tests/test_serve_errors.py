"""Every kind of bad request gets its 4xx with a JSON message naming the row and column
where there is one, never a 5xx or a traceback; a model that fails to score gets a 500 with
a plain message. Real server (uvicorn in a thread), real HTTP requests."""

from __future__ import annotations

import json

import httpx
import pandas as pd
import pytest

from automl.bundle import load_model
from automl.data.schema import Schema
from automl.serve import create_app
from tests.conftest import SAMPLES
from tests.fitted_models import as_model, fitted
from tests.serving import app_server, json_rows

MAX_BYTES = 200_000


@pytest.fixture(scope="module")
def server(churn_run):
    model = load_model(churn_run.model_file)
    with app_server(create_app(model, max_rows=50, max_bytes=MAX_BYTES)) as url:
        yield url


@pytest.fixture(scope="module")
def row() -> dict:
    return json_rows(pd.read_csv(SAMPLES / "churn.csv").drop(columns=["churn"]).head(1))[0]


def _refused(r: httpx.Response, status: int, *words, row=None, column=None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert set(body) == {"detail", "row", "column"}
    assert "Traceback" not in r.text and "File \"" not in r.text
    assert (body["row"], body["column"]) == (row, column), body
    for w in words:
        assert w in body["detail"], body["detail"]
    return body


def _post(url: str, content: bytes | str, content_type="application/json") -> httpx.Response:
    return httpx.post(f"{url}/predict", content=content,
                      headers={"content-type": content_type}, timeout=30)


@pytest.mark.parametrize(("body", "words"), [
    (b"", ["empty"]),
    (b"[{\"state\": ", ["not valid JSON", "line 1"]),
    (b"\xff\xfe[]", ["not UTF-8"]),
    (b"[NaN]", ["NaN", "null"]),
    (b"[{\"x\": Infinity}]", ["Infinity"]),
    (b"[-Infinity]", ["-Infinity"]),
    (b"[{\"a\": 1, \"a\": 2}]", ["'a' twice"]),
    (b"[" * 100_000 + b"]" * 100_000, ["nested too deeply"]),
    (b"[" + b"9" * 5000 + b"]", ["not usable JSON"]),
])
def test_bodies_that_are_not_acceptable_json(server, body, words):
    _refused(_post(server, body), 400, *words)


@pytest.mark.parametrize(("body", "words", "row"), [
    ({"state": "KS"}, ["JSON array of objects", "wrap a single row"], None),
    ("rows", ["JSON array", "the text 'rows'"], None),
    (42, ["JSON array", "the number 42"], None),
    ([], ["empty"], None),
    ([[1, 2]], ["row 0 is an array"], 0),
    (["KS"], ["row 0 is the text 'KS'"], 0),
])
def test_bodies_of_the_wrong_shape(server, body, words, row):
    _refused(_post(server, json.dumps(body)), 422, *words, row=row)


def test_a_later_row_that_is_not_an_object(server, row):
    _refused(_post(server, json.dumps([row, row, None])), 422, "row 2 is null", row=2)


@pytest.mark.parametrize(("column", "value", "words"), [
    ("account_length", "abc", ["expected a number or null", "'abc'"]),
    ("account_length", "128", ["send numbers without quotes"]),
    ("account_length", True, ["the boolean true"]),
    ("account_length", [1], ["an array"]),
    ("account_length", 10**400, ["integer of 401 digits", "beyond the range of a float"]),
    ("total_day_minutes", {"v": 1}, ["an object"]),
    ("state", {"code": "KS"}, ["expected text, a number, a boolean or null", "an object"]),
    ("international_plan", ["yes"], ["an array"]),
])
def test_values_of_the_wrong_type_name_row_and_column(server, row, column, value, words):
    rows = [row, row, {**row, column: value}]
    _refused(_post(server, json.dumps(rows)), 422, "row 2", repr(column), *words,
             row=2, column=column)


def test_a_number_beyond_a_float(server, row):
    text = json.dumps([row, row]).replace('"account_length": 128', '"account_length": 1e999')
    _refused(_post(server, text), 422, "beyond the range", row=0, column="account_length")
    text = json.dumps([{**row, "state": 1.0}]).replace('"state": 1.0', '"state": -1e999')
    _refused(_post(server, text), 422, "beyond the range", row=0, column="state")


def test_a_lone_surrogate(server, row):
    text = json.dumps([row, {**row, "state": "X"}]).replace('"X"', '"\\ud800"')
    _refused(_post(server, text), 422, "surrogate", row=1, column="state")


def test_missing_columns_are_named_with_close_names(server, row):
    bad = {("Account_Length" if k == "account_length" else k): v for k, v in row.items()}
    del bad["state"]
    body = _refused(_post(server, json.dumps([row, bad])), 422, "row 1 lacks 2 column(s)",
                    "'account_length' -> 'Account_Length'?", row=1, column="state")
    assert "'state'" in body["detail"]


def test_too_many_rows(server, row):
    _refused(_post(server, json.dumps([row] * 51)), 413, "51 rows", "--max-rows")


def test_too_many_bytes_by_content_length(server, row):
    body = json.dumps([row] * 40).encode() + b" " * MAX_BYTES
    _refused(_post(server, body), 413, "Content-Length", "--max-bytes")


def test_a_chunked_body_is_cut_off_at_the_limit(server):
    """No Content-Length: the server stops reading past the limit and answers 413 (an
    endless body would hang this test if it were read whole)."""
    sent = []

    def endless():
        while len(sent) < 100_000:  # 6.5 GB if it were all read
            sent.append(1)
            yield b" " * 65536

    r = httpx.post(f"{server}/predict", content=endless(),
                   headers={"content-type": "application/json"}, timeout=60)
    _refused(r, 413, "the body is larger", "--max-bytes")
    assert len(sent) < 2_000  # what loopback buffers hold, not the whole body


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "", "application/jsonx", "multipart/form-data"])
def test_wrong_content_type(server, row, content_type):
    _refused(_post(server, json.dumps([row]), content_type), 415, "Content-Type")


def test_content_type_with_charset_is_accepted(server, row):
    r = _post(server, json.dumps([row]), "Application/JSON; charset=utf-8")
    assert r.status_code == 200, r.text


def test_other_methods_and_paths(server):
    assert httpx.get(f"{server}/predict").status_code == 405
    assert httpx.post(f"{server}/nothing", json=[]).status_code == 404


def test_errors_are_counted_by_reason(churn_run, row):
    with app_server(create_app(load_model(churn_run.model_file), max_rows=2)) as url:
        _post(url, b"[NaN]")
        _post(url, json.dumps([row] * 3))
        _post(url, json.dumps([row]), "text/plain")
        text = httpx.get(f"{url}/metrics").text
    for reason in ("json", "too_many_rows", "content_type"):
        assert f'automl_serve_errors_total{{endpoint="/predict",reason="{reason}"}} 1.0' in text


def test_a_model_that_fails_to_score_gets_a_plain_500():
    """A model whose manifest lacks a column its pipeline needs (as a damaged file could):
    the rows pass the server's checks, the pipeline fails on them."""
    model, X = fitted("lgbm", "binary")
    schema = Schema.from_dict(model.manifest.schema[1:])
    broken = as_model(model.pipeline, "binary", schema)
    with app_server(create_app(broken)) as url:
        r = httpx.post(f"{url}/predict", json=json_rows(X.drop(columns=X.columns[0]).head(3)))
        text = httpx.get(f"{url}/metrics").text
    body = _refused(r, 500, "the model failed to score the rows")
    assert "lgbm" not in body["detail"].lower() and "sklearn" not in body["detail"]
    assert 'automl_serve_errors_total{endpoint="/predict",reason="model"} 1.0' in text
