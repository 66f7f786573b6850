"""Load model files and score rows with them in long-lived child processes.

A crafted model file may crash the process that loads it (that is what the tests look for),
so loading happens in children: each reads file paths from stdin, one per line, loads the
file, scores the rows in ``rows.parquet`` and answers one JSON line. Starting Python with
the model libraries costs seconds, so a few children serve every file, and one that dies
(a signal) or stops answering (a hang) is replaced and the file is reported as such.

Run as ``python -m tests.bundle_worker ROWS.parquet`` for the child side.
"""

from __future__ import annotations

import json
import os
import resource
import selectors
import subprocess
import sys
import time
import traceback
from contextlib import contextmanager
from pathlib import Path

MEMORY_LIMIT = 4 * 2**30  # a file that asks for more fails as MemoryError, not by swapping
ROOT = Path(__file__).resolve().parent.parent


def child(rows: str) -> None:
    """The child side: answer {"outcome": "ok" | error class | "foreign", ...} per path."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    answers = os.fdopen(os.dup(1), "w", buffering=1)  # the pipe; native libraries that
    os.dup2(2, 1)  # print to stdout (LightGBM does) write to the log instead
    import pandas as pd

    from automl.bundle import load_model
    from automl.errors import AutoMLError

    X = pd.read_parquet(rows)
    print(json.dumps({"outcome": "ready"}), file=answers, flush=True)
    for line in sys.stdin:
        path = line.rstrip("\n")
        try:
            load_model(path).predict(X)
            answer = {"outcome": "ok"}
        except AutoMLError as e:
            causes, cause = [], e.__cause__
            while cause is not None:
                causes.append(type(cause).__name__)
                cause = cause.__cause__
            bad = {"MemoryError"} & set(causes)  # a cap that should have come first
            answer = {"outcome": f"foreign: {sorted(bad)} inside" if bad else type(e).__name__,
                      "message": str(e)[:500]}
        except BaseException as e:
            answer = {"outcome": "foreign", "message": f"{type(e).__name__}: {str(e)[:300]}",
                      "traceback": traceback.format_exc()[-2000:]}
        print(json.dumps(answer), file=answers, flush=True)


class Workers:
    """A few children; :meth:`run` maps each path to the answer about it."""

    def __init__(self, rows: Path, n: int = 2, timeout: float = 120.0,
                 log_dir: Path | None = None):
        self.rows, self.n, self.timeout = rows, n, timeout
        self.log_dir = log_dir or rows.parent
        self.procs: list[subprocess.Popen | None] = [None] * n
        self.logs: list = [None] * n

    def start(self, i: int) -> subprocess.Popen:
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
        env.pop("AUTOML_MODEL_KEY", None)  # the test files are unsigned
        log = (self.log_dir / f"worker{i}.{time.monotonic_ns()}.log").open("w+")
        proc = subprocess.Popen([sys.executable, "-m", "tests.bundle_worker", str(self.rows)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                cwd=ROOT, env=env, text=True, bufsize=1)
        first = self._line(proc, 300)
        if first is None or json.loads(first)["outcome"] != "ready":
            raise RuntimeError(f"a worker did not start: {self._tail(log)}")
        self.procs[i], self.logs[i] = proc, log
        return proc

    def run(self, paths: list[Path]) -> dict[str, dict]:
        answers: dict[str, dict] = {}
        todo = [str(p) for p in paths][::-1]
        busy: dict[int, tuple[str, float]] = {}
        sel = selectors.DefaultSelector()
        while todo or busy:
            for i in range(self.n):
                if i not in busy and todo:
                    proc = self.procs[i] if self.procs[i] and self.procs[i].poll() is None \
                        else self.start(i)
                    path = todo.pop()
                    proc.stdin.write(path + "\n")
                    proc.stdin.flush()
                    busy[i] = (path, time.monotonic() + self.timeout)
                    sel.register(proc.stdout, selectors.EVENT_READ, i)
            wait = max(0.0, min(deadline for _, deadline in busy.values()) - time.monotonic())
            for key, _ in sel.select(timeout=wait):
                i = key.data
                sel.unregister(key.fileobj)
                path, _ = busy.pop(i)
                line = self.procs[i].stdout.readline()
                answers[path] = json.loads(line) if line else self._died(i)
            for i, (path, deadline) in list(busy.items()):
                if time.monotonic() > deadline:
                    sel.unregister(self.procs[i].stdout)
                    self.procs[i].kill()
                    self.procs[i].wait()
                    busy.pop(i)
                    answers[path] = {"outcome": "hang", "message": f"no answer in "
                                     f"{self.timeout:.0f} s"}
        sel.close()
        return answers

    def _died(self, i: int) -> dict:
        proc = self.procs[i]
        code = proc.wait()
        return {"outcome": "crash", "message": f"the worker ended with {code} "
                f"(a negative number is a signal): {self._tail(self.logs[i])}"}

    @staticmethod
    def _line(proc: subprocess.Popen, timeout: float) -> str | None:
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        ready = sel.select(timeout=timeout)
        sel.close()
        return proc.stdout.readline() if ready else None

    @staticmethod
    def _tail(log) -> str:
        log.flush()
        log.seek(0)
        return log.read()[-1500:]

    def close(self) -> None:
        for proc in self.procs:
            if proc is not None and proc.poll() is None:
                proc.stdin.close()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        for log in self.logs:
            if log is not None:
                log.close()


@contextmanager
def running(rows: Path, **options):
    """:class:`Workers` for the ``with`` block (a module fixture yields from one)."""
    pool = Workers(rows, **options)
    try:
        yield pool
    finally:
        pool.close()


if __name__ == "__main__":
    child(sys.argv[1])
