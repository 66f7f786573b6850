"""The HTTP server on real models (trained by the session fixtures), served by uvicorn in a
thread on a loopback port: predictions, schema, OpenAPI document, metrics, explanations."""

from __future__ import annotations

import re
import socket
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pandas as pd
import pytest

from automl.bundle import load_model
from automl.explain.reasons import explain_rows
from automl.monitor.reference import background_rows
from automl.serve import create_app
from automl.serve.server import bind
from tests.conftest import SAMPLES
from tests.serving import app_server, json_rows


@pytest.fixture(scope="module")
def churn(churn_run):
    model = load_model(churn_run.model_file)
    with app_server(create_app(model, max_rows=500)) as url:
        yield model, url


@pytest.fixture(scope="module")
def churn_rows() -> list[dict]:
    return json_rows(pd.read_csv(SAMPLES / "churn.csv").drop(columns=["churn"]).head(200))


def _expected(model, rows: list[dict]) -> list[dict]:
    return json_rows(model.predict(pd.DataFrame(rows)))


def _same(got: list[dict], want: list[dict]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert list(g) == list(w)  # the fields, in Model.predict's order
        for k in w:
            assert g[k] == (pytest.approx(w[k], rel=1e-12, abs=1e-15)
                            if isinstance(w[k], float) else w[k])


def test_predictions_equal_model_predict(churn, churn_rows):
    model, url = churn
    r = httpx.post(f"{url}/predict", json=churn_rows[:50])
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    got = r.json()["predictions"]
    assert list(got[0]) == ["prediction", "proba_no", "proba_yes"]
    _same(got, _expected(model, churn_rows[:50]))


def test_one_row_blanks_unseen_categories_and_extra_keys(churn, churn_rows):
    model, url = churn
    row = {**churn_rows[0], "state": "Atlantis", "total_day_minutes": None,
           "customer_id": {"ignored": [1, 2]}}
    r = httpx.post(f"{url}/predict", json=[row])
    assert r.status_code == 200, r.text
    want = _expected(model, [{k: v for k, v in row.items() if k != "customer_id"}])
    _same(r.json()["predictions"], want)


def test_regression_and_multiclass(wages_run, multiclass_run):
    for run, data, target in ((wages_run, "wages.csv", "wage"), (multiclass_run, None, None)):
        model = load_model(run.model_file)
        if data:
            frame = pd.read_csv(SAMPLES / data).drop(columns=[target]).head(40)
        else:
            from sklearn.datasets import load_iris

            frame = load_iris(as_frame=True).frame.drop(columns=["target"]).head(40)
        rows = json_rows(frame)
        with app_server(create_app(model)) as url:
            got = httpx.post(f"{url}/predict", json=rows).json()["predictions"]
        _same(got, _expected(model, rows))
        fields = ["prediction"] + [f"proba_{c}" for c in model.classes]
        assert list(got[0]) == fields


def test_concurrent_requests_share_calls_and_get_their_own_rows(churn, churn_rows):
    """Requests arriving together are scored in one call (batching); each still gets the
    answers to its own rows, as if it had been alone."""
    model, url = churn
    want = _expected(model, churn_rows)
    with httpx.Client() as client, ThreadPoolExecutor(8) as pool:
        sizes = [1, 3, 1, 7, 2, 1, 20, 5] * 3
        starts = np.cumsum([0, *sizes])[:-1] % 150
        answers = list(pool.map(lambda a: client.post(
            f"{url}/predict", json=churn_rows[a[0]:a[0] + a[1]]), zip(starts, sizes, strict=True)))
    for (start, size), r in zip(zip(starts, sizes, strict=True), answers, strict=True):
        assert r.status_code == 200
        _same(r.json()["predictions"], want[start:start + size])


def test_health_and_schema(churn):
    model, url = churn
    h = httpx.get(f"{url}/health").json()
    assert h["status"] == "ok" and h["task"] == "binary"
    s = httpx.get(f"{url}/schema").json()
    assert s["task"] == "binary" and s["target"] == "churn" and s["classes"] == ["no", "yes"]
    assert s["outputs"] == ["prediction", "proba_no", "proba_yes"]
    assert [c["name"] for c in s["columns"]] == model.schema.names
    cols = {c["name"]: c for c in s["columns"]}
    assert cols["account_length"]["kind"] == "numeric"
    assert cols["account_length"]["types"] == ["number", "null"]
    assert cols["account_length"]["categories"] is None
    states = pd.read_csv(SAMPLES / "churn.csv")["state"].unique()
    assert cols["state"]["categories"] == sorted(states)  # all 51, from the training data
    assert cols["international_plan"]["categories"] == ["no", "yes"]
    assert s["limits"] == {"max_rows": 500, "max_bytes": 10 * 2**20}


def test_openapi_describes_each_column(churn):
    model, url = churn
    doc = httpx.get(f"{url}/openapi.json").json()
    row = doc["components"]["schemas"]["Row"]
    assert list(row["properties"]) == model.schema.names
    assert set(row["required"]) == set(model.schema.names)
    assert row["properties"]["total_day_minutes"]["type"] == ["number", "null"]
    state = row["properties"]["state"]
    assert "null" in state["type"] and "enum" not in state  # unseen categories are scored
    assert len(state["x-categories"]) == 51 and set(state["examples"]) <= set(
        state["x-categories"])
    body = doc["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["maxItems"] == 500 and body["schema"]["minItems"] == 1
    pred = doc["components"]["schemas"]["Prediction"]
    assert list(pred["properties"]) == ["prediction", "proba_no", "proba_yes"]
    assert pred["properties"]["prediction"]["enum"] == ["no", "yes"]
    responses = doc["paths"]["/predict"]["post"]["responses"]
    assert {"200", "400", "413", "415", "422", "500"} <= set(responses)


def _sample(text: str, name: str, **labels) -> float:
    sel = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    found = re.search(rf"^{name}\{{{re.escape(sel)}\}} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_metrics_count_requests_rows_errors_and_latency(churn_run, churn_rows):
    model = load_model(churn_run.model_file)
    with app_server(create_app(model)) as url:
        for n in (1, 4, 10):
            assert httpx.post(f"{url}/predict", json=churn_rows[:n]).status_code == 200
        assert httpx.post(f"{url}/predict", json=[]).status_code == 422
        assert httpx.get(f"{url}/no/such/path").status_code == 404
        r = httpx.get(f"{url}/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    requests = "automl_serve_requests_total"
    assert _sample(text, requests, endpoint="/predict", status="200") == 3
    assert _sample(text, requests, endpoint="/predict", status="422") == 1
    assert _sample(text, requests, endpoint="other", status="404") == 1
    assert _sample(text, "automl_serve_rows_total", endpoint="/predict") == 15
    assert _sample(text, "automl_serve_errors_total", endpoint="/predict", reason="empty") == 1
    assert _sample(text, "automl_serve_request_seconds_count", endpoint="/predict") == 4
    assert _sample(text, "automl_serve_request_seconds_bucket", endpoint="/predict",
                   le="+Inf") == 4


def test_explain_gives_predictions_and_reasons(churn, churn_rows):
    model, url = churn
    rows = churn_rows[:3]
    r = httpx.post(f"{url}/explain", params={"top": 2}, json=rows, timeout=60)
    assert r.status_code == 200, r.text
    got = r.json()["predictions"]
    _same([{k: g[k] for k in ("prediction", "proba_no", "proba_yes")} for g in got],
          _expected(model, rows))
    want = explain_rows(model, pd.DataFrame(rows), top=2, background=background_rows(model))
    for g, w in zip(got, want, strict=True):
        assert g["summary"] == w["summary"] and len(g["reasons"]) == 2
        assert [x["column"] for x in g["reasons"]] == [x["column"] for x in w["reasons"]]
        assert g["reasons"][0]["effect"] == pytest.approx(w["reasons"][0]["effect"])


@pytest.mark.parametrize("top", ["0", "21", "two", "1.5"])
def test_explain_refuses_a_bad_top(churn, churn_rows, top):
    _, url = churn
    r = httpx.post(f"{url}/explain", params={"top": top}, json=churn_rows[:1])
    assert r.status_code == 422 and "top must be" in r.json()["detail"]


def test_explain_caps_rows(churn, churn_rows):
    _, url = churn
    r = httpx.post(f"{url}/explain", json=churn_rows[:101])
    assert r.status_code == 413 and "explains" in r.json()["detail"]


def test_the_listening_socket_is_tcp_so_answers_are_not_held_back():
    """asyncio sets TCP_NODELAY on accepted connections only for sockets made with
    proto=IPPROTO_TCP; with proto 0 every answer waited ~40 ms for a delayed ACK."""
    with bind("127.0.0.1", 0) as sock:
        assert sock.proto == socket.IPPROTO_TCP
