"""Latency and throughput of ``automl serve`` on loopback, against MLflow's scoring server
and a plain FastAPI app (one pydantic model per row) serving the same model.

A bounded, closed-loop load generator (not a test): each client is a thread with its own
keep-alive httpx connection that sends a request as soon as its last answer came. Measured
per model file and server, each repeated ``--repeats`` times (medians quoted):

- single-row latency, p50 and p99, with 1 and with 8 concurrent clients,
- rows per second for requests of 1,000 rows (one client),
- and, in this process, ``Model.predict`` alone on 1 row and on 1,000 rows: the floor that
  no server can go below.

Servers, all with one worker process on 127.0.0.1:

- ``automl``: ``automl serve MODEL`` (the command, as a user starts it);
- ``automl+log``: the same with ``--access-log`` (``--variants``);
- ``naive``: FastAPI with a pydantic model per row (what this module replaced, for the
  before/after; ``--variants``), scoring with ``Model.predict``;
- ``mlflow``: ``mlflow models serve --env-manager local`` on the same fitted pipeline saved
  with ``mlflow.sklearn`` (``pyfunc_predict_fn="predict_proba"``; as a cloudpickle:
  MLflow 3.17's default, skops, refuses the pipeline's types unless listed), fed the same rows as
  ``{"dataframe_records": [...]}`` (``--mlflow-python``: a venv with mlflow and this project).

Usage::

    .venv/bin/python benchmarks/serve_latency.py --model lgbm=churn_lgbm.skops \\
        --model ensemble=churn.skops --data sample_data/churn.csv --target churn \\
        --mlflow-python /root/mlflowenv/bin/python --variants --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SAVE_MLFLOW = """
import sys, mlflow.sklearn
from automl.bundle import load_model
model = load_model(sys.argv[1])
mlflow.sklearn.save_model(model.pipeline, sys.argv[2], pyfunc_predict_fn="predict_proba",
                         serialization_format="cloudpickle")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 180) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"no answer from {url}")


def start(kind: str, model_file: str, args, tmp: Path) -> tuple[subprocess.Popen, str, str]:
    """Start one server; (process, scoring URL, readiness URL)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(tmp / f"{kind}-{port}.log", "w")  # noqa: SIM115 (lives as long as the server)
    if kind in ("automl", "automl+log"):
        extra = ["--access-log"] if kind == "automl+log" else []
        cmd = [str(ROOT / ".venv/bin/automl"), "serve", model_file, "--port", str(port), *extra]
        ready, score = f"{base}/health", f"{base}/predict"
    elif kind == "naive":
        cmd = [sys.executable, __file__, "--naive-server", model_file, str(port)]
        ready, score = f"{base}/docs", f"{base}/predict"
    else:
        saved = tmp / f"mlflow-{Path(model_file).stem}"
        if not saved.exists():
            subprocess.run([args.mlflow_python, "-c", SAVE_MLFLOW, model_file, str(saved)],
                           check=True, capture_output=True)
        mlflow = str(Path(args.mlflow_python).parent / "mlflow")
        cmd = [mlflow, "models", "serve", "-m", str(saved), "--env-manager", "local",
               "--host", "127.0.0.1", "-p", str(port)]
        ready, score = f"{base}/ping", f"{base}/invocations"
    env = {**os.environ, "PATH": f"{Path(cmd[0]).parent}:{os.environ['PATH']}"}  # mlflow
    proc = subprocess.Popen(cmd, stdout=log, stderr=log, cwd=ROOT, env=env)  # runs uvicorn
    wait_ready(ready, proc)
    return proc, score, ready


def load(url: str, bodies: list[bytes], clients: int, per_client: int, seconds: float):
    """Closed-loop load: latencies (s) of every request, and the wall time."""
    import httpx

    latencies: list[float] = []
    lock, go = threading.Lock(), threading.Barrier(clients + 1)
    headers = {"content-type": "application/json"}

    def client(k: int) -> None:
        # TCP_NODELAY, as curl and urllib3 set it: httpx writes headers and body apart, and
        # without it Nagle holds the body for the server's delayed ACK (~40 ms a request)
        nodelay = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY,
                                                       1)])
        with httpx.Client(timeout=120, transport=nodelay) as c:
            for b in bodies[:3]:  # warm the connection and the server
                c.post(url, content=b, headers=headers).raise_for_status()
            go.wait()
            mine, stop = [], time.perf_counter() + seconds
            for i in range(per_client):
                t0 = time.perf_counter()
                r = c.post(url, content=bodies[(k * per_client + i) % len(bodies)],
                           headers=headers)
                mine.append(time.perf_counter() - t0)
                r.raise_for_status()
                if time.perf_counter() > stop:
                    break
            with lock:
                latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    go.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return latencies, time.perf_counter() - t0


def measure(url: str, rows: list[dict], kind: str, seconds: float) -> dict:
    wrap = (lambda r: {"dataframe_records": r}) if kind == "mlflow" else (lambda r: r)
    singles = [json.dumps(wrap([r])).encode() for r in rows[:500]]
    batch = [json.dumps(wrap(rows[i:i + 1000])).encode() for i in (0, 1000, 2000)]
    out = {"load_before": os.getloadavg()[0]}
    for clients, per in ((1, 300), (8, 60)):
        lat, _ = load(url, singles, clients, per, seconds)
        out[f"c{clients}_p50_ms"] = float(np.percentile(lat, 50) * 1e3)
        out[f"c{clients}_p99_ms"] = float(np.percentile(lat, 99) * 1e3)
        out[f"c{clients}_n"] = len(lat)
    lat, wall = load(url, batch, 1, 30, seconds)
    out["batch1000_rows_s"] = 1000 * len(lat) / wall
    out["batch1000_n"] = len(lat)
    return out


def in_process(model_file: str, frame) -> dict:
    from automl.bundle import load_model

    model = load_model(model_file)
    one, many = frame.iloc[:1], frame.iloc[:1000]
    t1 = []
    for i in range(60):
        t0 = time.perf_counter()
        model.predict(frame.iloc[i:i + 1] if i else one)
        t1.append(time.perf_counter() - t0)
    tk = []
    for _ in range(5):
        t0 = time.perf_counter()
        model.predict(many)
        tk.append(time.perf_counter() - t0)
    return {"predict_1row_p50_ms": float(np.median(t1[5:]) * 1e3),
            "predict_1000_rows_s": float(1000 / np.median(tk))}


def naive_server(model_file: str, port: int) -> None:
    """The obvious FastAPI app: a pydantic model per row, a DataFrame of their dumps."""
    import pandas as pd
    import uvicorn
    from fastapi import FastAPI
    from pydantic import create_model

    from automl.bundle import load_model

    model = load_model(model_file)
    fields = {c.name: ((float | None) if c.kind == "numeric" else (str | bool | float | None),
                       None) for c in model.schema.columns}
    Row = create_model("Row", **fields)
    app = FastAPI()

    def predict(rows):
        frame = pd.DataFrame([r.model_dump() for r in rows])
        return {"predictions": model.predict(frame).to_dict("records")}

    predict.__annotations__ = {"rows": list[Row]}  # a real type: Row is made at run time
    app.post("/predict")(predict)

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", action="append", default=[], metavar="NAME=FILE")
    ap.add_argument("--data", default=str(ROOT / "sample_data/churn.csv"))
    ap.add_argument("--target", default="churn")
    ap.add_argument("--mlflow-python", help="python of a venv with mlflow and this project")
    ap.add_argument("--variants", action="store_true", help="also automl+log and naive")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=15.0, help="cap per measurement")
    ap.add_argument("--out", help="write all figures as JSON here")
    ap.add_argument("--naive-server", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.naive_server:
        naive_server(args.naive_server[0], int(args.naive_server[1]))
        return
    import pandas as pd

    frame = pd.read_csv(args.data).drop(columns=[args.target])
    rows = json.loads(frame.head(3000).to_json(orient="records", double_precision=15))
    kinds = ["automl"] + (["automl+log", "naive"] if args.variants else []) + (
        ["mlflow"] if args.mlflow_python else [])
    results: dict = {"started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                     "load_at_start": os.getloadavg(), "models": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for spec in args.model:
            name, _, path = spec.partition("=")
            res = results["models"][name] = {"in_process": in_process(path, frame)}
            print(name, res["in_process"], flush=True)
            for kind in kinds:
                proc, url, _ = start(kind, path, args, Path(tmp))
                try:
                    runs = [measure(url, rows, kind, args.seconds) for _ in range(args.repeats)]
                finally:
                    proc.terminate()
                    proc.wait(30)
                res[kind] = {"runs": runs, "median": {k: float(np.median([r[k] for r in runs]))
                                                      for k in runs[0]}}
                print(name, kind, json.dumps(res[kind]["median"]), flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2))
    print_table(results)


def print_table(results: dict) -> None:
    cols = ["c1_p50_ms", "c1_p99_ms", "c8_p50_ms", "c8_p99_ms", "batch1000_rows_s"]
    print("| model | server | " + " | ".join(cols) + " |")
    print("|---|---|" + "---:|" * len(cols))
    for name, res in results["models"].items():
        for kind, r in res.items():
            if kind != "in_process":
                m = r["median"]
                print(f"| {name} | {kind} | " + " | ".join(f"{m[c]:,.1f}" for c in cols) + " |")


if __name__ == "__main__":
    main()
