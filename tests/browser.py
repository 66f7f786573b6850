"""Helpers for tests and benchmarks that drive the app in a real browser (Playwright, Chromium).

``AppServer`` starts ``streamlit run app.py`` on a free port with its own runs folder and
stops it (and every background run it started) afterwards; ``launch_chromium`` starts the
system's headless Chromium, never a downloaded one. The rest are small actions on
Streamlit's page structure (sidebar links, titles, select boxes, sliders), kept here so that
a change in Streamlit's markup is fixed in one place.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("AUTOML_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 60_000  # generous: a 2-core machine may be busy with a search
VIEWPORT = {"width": 1400, "height": 900}  # the browser window of the tests and screenshots


class BrowserUnavailable(RuntimeError):
    """Chromium or Playwright cannot be used on this machine."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """``streamlit run app.py`` in a subprocess, with ``AUTOML_RUNS_DIR=runs_dir``.

    Use as a context manager; :meth:`stop` ends the server's process group and stops every
    run still going in ``runs_dir`` (runs are detached processes that outlive the server).
    """

    def __init__(self, runs_dir: str | os.PathLike, log_path: str | os.PathLike | None = None):
        self.runs_dir = Path(runs_dir)
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_path) if log_path else self.runs_dir.parent / "streamlit.log"
        self.proc: subprocess.Popen | None = None
        self.started_at: float | None = None

    def start(self) -> AppServer:
        env = {**os.environ, "AUTOML_RUNS_DIR": str(self.runs_dir), "PYTHONUNBUFFERED": "1",
               "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child process
        self.started_at = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(self.port), "--server.address", "127.0.0.1",
             "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        log.close()
        return self

    def wait_healthy(self, timeout: float = 60.0) -> float:
        """Wait for ``/_stcore/health``; return the seconds since :meth:`start`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return time.perf_counter() - self.started_at
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"streamlit did not answer within {timeout:.0f} s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        stop_runs(self.runs_dir)
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)

    def __enter__(self) -> AppServer:
        self.start()
        try:
            self.wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def stop_runs(runs_dir: str | os.PathLike, timeout: float = 30.0) -> None:
    """Ask every active run in ``runs_dir`` to stop, wait for it, and kill what is left."""
    from automl.background import stop_run
    from automl.runs import list_runs, open_run, process_alive

    runs_dir = Path(runs_dir)
    if not runs_dir.exists():
        return
    active = [open_run(r, runs_dir) for r in
              list_runs(runs_dir).query("state in ['queued', 'running']")["run"]]
    for run in active:
        stop_run(run)
    deadline = time.monotonic() + timeout
    for run in active:
        pid = run.status.pid
        while pid and process_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if pid and process_alive(pid):  # a detached session of its own: end that whole group
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(int(pid), signal.SIGKILL)


@contextlib.contextmanager
def serving_copy(run, folder: Path):
    """An :class:`AppServer` whose runs folder holds a copy of ``run`` alone (its cached
    explanations left out), under ``folder``; yields the server and the copy's path."""
    runs = Path(folder) / "runs"
    copy = shutil.copytree(run.path, runs / run.id, ignore=shutil.ignore_patterns("explain"))
    with AppServer(runs, log_path=Path(folder) / "streamlit.log") as srv:
        yield srv, Path(copy)


def launch_chromium(playwright):
    """The system's headless Chromium; raise BrowserUnavailable when it cannot start."""
    if not Path(CHROMIUM).exists():
        raise BrowserUnavailable(f"no Chromium at {CHROMIUM}")
    try:
        return playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                          args=CHROMIUM_ARGS)
    except Exception as e:  # Playwright raises its own Error for every launch failure
        raise BrowserUnavailable(f"Playwright could not launch {CHROMIUM}: {e}") from e


def open_app(browser, url: str, title: str = "Data", **context_options):
    """A new browser context (a session of its own) with one page at ``url``, once the page
    titled ``title`` is drawn. Returns (context, page); close the context when done."""
    context = browser.new_context(**context_options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(url)
    wait_title(page, title)
    return context, page


# --- actions on Streamlit's markup ---------------------------------------------------------

def sidebar_link(page, title: str):
    # By the label itself: a link's text also holds its icon's name ("model_training").
    return page.locator(f'[data-testid="stSidebarNavLink"]:has(span[label="{title}"])')


def go_to(page, title: str) -> None:
    """Click the sidebar link to ``title`` (same session) and wait for the page's title."""
    sidebar_link(page, title).click()
    wait_title(page, title)


def wait_title(page, title: str, timeout: float = TIMEOUT_MS) -> None:
    page.locator("h1").filter(has_text=title).first.wait_for(state="visible", timeout=timeout)


def select_option(page, label: str, option: str) -> None:
    """Choose ``option`` in the select box labelled ``label``."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    for attempt in range(3):  # a rerun that lands meanwhile redraws the box and closes its list
        box.get_by_role("button", name="Open").click()
        box.get_by_role("combobox").fill(option)  # filter: long lists render only what is seen
        try:
            page.get_by_role("option", name=option, exact=True).first.click(
                timeout=TIMEOUT_MS / 3)
            break
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
            wait_idle(page)
    combo = box.get_by_role("combobox")
    page.wait_for_function("([el, v]) => el.value === v", arg=[combo.element_handle(), option],
                           timeout=TIMEOUT_MS)
    wait_idle(page)


def wait_idle(page, timeout: float = TIMEOUT_MS) -> None:
    """Wait until no script run is in progress (Streamlit marks it on the app's root)."""
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(
        state="attached", timeout=timeout)


def remove_from_multiselect(page, label: str, keep: list[str]) -> None:
    """Remove every chosen option of the multiselect labelled ``label`` except ``keep``.

    One click at a time, each followed by the rerun it causes, so no change is sent while
    the page is still redrawing from the previous one.
    """
    box = page.locator('[data-testid="stMultiSelect"]').filter(has_text=label).first
    tags = box.locator("[data-tag]")
    tags.first.wait_for(timeout=TIMEOUT_MS)
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        wait_idle(page)
        extra = [n for n in (t.get_attribute("aria-label") for t in tags.all()) if n not in keep]
        if not extra:
            break
        box.get_by_role("button", name=f"Remove {extra[0]}", exact=True).click()
        page.wait_for_timeout(200)
    names = sorted(t.get_attribute("aria-label") for t in tags.all())
    assert names == sorted(keep), f"{label}: {names} instead of {keep}"


def set_slider(page, label: str, value: int) -> None:
    """Move the slider labelled ``label`` to ``value`` with the keyboard, a step at a time
    (each step is a rerun; see :func:`remove_from_multiselect` for why they are not hurried)."""
    box = page.locator('[data-testid="stSlider"]').filter(has_text=label).first
    thumb = box.locator('input[type="range"]').first
    shown = box.locator('[data-testid="stSliderThumbValue"]')
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        wait_idle(page)
        now = float(thumb.get_attribute("aria-valuetext") or thumb.input_value())
        if now == value:
            page.wait_for_timeout(300)  # and it stays there once the rerun is drawn
            wait_idle(page)
            if float(thumb.input_value()) == value and shown.inner_text().strip() == f"{value}":
                return
            continue
        thumb.press("ArrowRight" if now < value else "ArrowLeft")
        page.wait_for_timeout(200)
    raise AssertionError(f"slider {label!r} did not reach {value} (at {thumb.input_value()})")
