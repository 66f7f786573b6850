"""``automl serve`` as a real command in a subprocess: it serves, with one worker and with
two, and a bad model file, a port in use or a bad setting ends it at once with one line and
exit code 2."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import httpx
import pandas as pd
import pytest

from automl.bundle import load_model
from tests.conftest import SAMPLES
from tests.serving import free_port, json_rows, served

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return json_rows(pd.read_csv(SAMPLES / "churn.csv").drop(columns=["churn"]).head(20))


def _serve(*args, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "automl.cli", "serve", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def _one_line_error(result: subprocess.CompletedProcess, *words) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    for w in words:
        assert w in lines[0], lines[0]


def test_the_command_serves_predictions(churn_run, rows, tmp_path):
    model = load_model(churn_run.model_file)
    with served(churn_run.model_file, "--max-rows", 10, tmp_path=tmp_path) as s:
        r = httpx.post(f"{s.url}/predict", json=rows[:5])
        too_many = httpx.post(f"{s.url}/predict", json=rows)
        schema = httpx.get(f"{s.url}/schema").json()
        assert s.process.poll() is None
    assert "Finished server process" in s.log  # SIGTERM: a graceful shutdown
    assert r.status_code == 200
    got = pd.DataFrame(r.json()["predictions"])
    want = model.predict(pd.DataFrame(rows[:5]))
    assert list(got.columns) == list(want.columns)
    assert (got["prediction"] == want["prediction"]).all()
    assert got["proba_yes"].tolist() == pytest.approx(want["proba_yes"].tolist(), rel=1e-12)
    assert too_many.status_code == 413 and schema["limits"]["max_rows"] == 10
    assert "serving" in s.log and "with 1 worker" in s.log


def test_two_workers_serve_and_sum_their_metrics(churn_run, rows, tmp_path):
    with served(churn_run.model_file, "--workers", 2, tmp_path=tmp_path) as s:
        workers, answers = set(), 0
        with ThreadPoolExecutor(4) as pool:
            for _ in range(20):  # new connections until both processes have answered
                replies = list(pool.map(lambda _: httpx.post(f"{s.url}/predict",
                                                             json=rows[:2]), range(8)))
                answers += sum(r.status_code == 200 for r in replies)
                workers |= {httpx.get(f"{s.url}/health").json()["worker"] for _ in range(4)}
                if len(workers) == 2:
                    break
        text = httpx.get(f"{s.url}/metrics").text
    assert len(workers) == 2, s.log
    found = re.search(r'^automl_serve_requests_total\{endpoint="/predict",status="200"\} (\S+)',
                      text, re.MULTILINE)
    assert found and float(found.group(1)) == answers  # both workers' requests, whichever
    assert "with 2 worker" in s.log


def test_a_port_in_use(churn_run):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _serve(churn_run.model_file, "--port", port)
    _one_line_error(result, f"127.0.0.1:{port}", "another process", "--port")


def test_a_tampered_model_file(churn_run, tmp_path):
    bad = tmp_path / "tampered.skops"
    shutil.copy(churn_run.model_file, bad)
    data = bytearray(bad.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 8] = bytes(b ^ 0xFF for b in data[middle:middle + 8])
    bad.write_bytes(bytes(data))
    _one_line_error(_serve(bad, "--port", free_port()), str(bad))


def test_a_missing_file_and_a_file_that_is_not_a_model(tmp_path):
    _one_line_error(_serve(tmp_path / "nothing.skops", "--port", free_port()))
    (tmp_path / "model.skops").write_bytes(b"\x80\x04\x95 a pickle, not a model")
    _one_line_error(_serve(tmp_path / "model.skops", "--port", free_port()))


@pytest.mark.parametrize(("option", "value"), [("--workers", 0), ("--max-rows", 0),
                                               ("--port", 70000), ("--max-bytes", 1)])
def test_bad_settings(churn_run, option, value):
    _one_line_error(_serve(churn_run.model_file, option, value), option)
