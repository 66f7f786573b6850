"""Run folders as shared things: unguessable ids, an owner token only its holder may use to
stop, resume or delete, ids checked before they touch the disk, retention, private files."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from automl.background import resume_run, stop_run
from automl.errors import ConfigError, RunAccessError, RunNotFoundError
from automl.retention import parse_age, prune_runs
from automl.runs import Run, delete_run, list_runs, open_run
from tests.run_files import DAY, made

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def alive():
    """A real process standing in for a run's live search process."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield proc.pid
    proc.kill()
    proc.wait()


# --- ids -----------------------------------------------------------------------------------

def test_run_ids_carry_128_random_bits_after_a_readable_time(tmp_path):
    ids = {Run.create(tmp_path).id for _ in range(50)}
    assert len(ids) == 50  # all made within the same second or two
    for run_id in ids:
        m = re.fullmatch(r"(\d{8}-\d{6})-([0-9a-f]+)", run_id)
        assert m, run_id
        assert len(m[2]) * 4 >= 128, run_id


def test_old_short_ids_still_open(tmp_path):
    old = made(tmp_path, run_id="20260101-120000-abc123")
    assert open_run("20260101-120000-abc123", tmp_path).path == old.path
    assert list(list_runs(tmp_path)["run"]) == ["20260101-120000-abc123"]


@pytest.mark.parametrize("bad", ["../x", "..", "/etc", "a/b", "a\x00b", "x" * 200, "rün",
                                 "abc\n", "", " ", "[x](http://evil)", "a\\b", 42])
def test_malformed_ids_are_refused_before_the_disk(bad, tmp_path):
    made(tmp_path, run_id="abc")  # "abc\n" must not open "abc" (a regex's $ allows a "\n")
    with pytest.raises(RunNotFoundError, match="not a run id") as err:
        open_run(bad, tmp_path)
    assert len(str(err.value)) < 300  # a long value is not repeated in full


def test_unknown_well_formed_id_says_how_to_list_runs(tmp_path):
    with pytest.raises(RunNotFoundError, match="No run 'nope'.*automl runs"):
        open_run("nope", tmp_path)


# --- owner token ---------------------------------------------------------------------------

def test_the_creator_gets_a_token_the_folder_keeps_only_its_hash(tmp_path):
    run = made(tmp_path)
    token = run.owner_token
    assert isinstance(token, str) and len(token) >= 32
    on_disk = "".join(p.read_text(errors="replace") for p in run.path.rglob("*") if p.is_file())
    assert token not in on_disk  # only a hash of it is kept
    assert set(json.loads((run.path / "owner.json").read_text())) == {"sha256"}
    opened = open_run(run.id, tmp_path)
    assert opened.owner_token is None  # opening a run gives no token
    assert opened.is_owner(token)
    assert not opened.is_owner(token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert not opened.is_owner("") and not opened.is_owner(None)


def test_a_run_without_an_owner_file_has_no_owner_in_the_app(tmp_path):
    run = made(tmp_path)
    (run.path / "owner.json").unlink()
    assert not run.is_owner(run.owner_token)
    with pytest.raises(RunAccessError):
        run.check_owner(run.owner_token)
    run.check_owner(None)  # a local caller (CLI, Python) who owns the files: no token


def test_stop_resume_and_delete_refuse_a_wrong_token(tmp_path):
    run = made(tmp_path, state="stopped", ended_days_ago=0)
    for action in (lambda t: stop_run(run, owner_token=t),
                   lambda t: resume_run(run, 10, owner_token=t),
                   lambda t: delete_run(run.id, tmp_path, owner_token=t)):
        for wrong in ("", "not-the-token"):
            with pytest.raises(RunAccessError, match="another browser session"):
                action(wrong)
    assert not run.control_file.exists() and run.status.state == "stopped"
    assert run.path.exists()
    delete_run(run.id, tmp_path, owner_token=run.owner_token)
    assert not run.path.exists()


def test_delete_refuses_a_run_whose_search_is_alive(tmp_path, alive):
    run = made(tmp_path, state="running", pid=alive)
    with pytest.raises(ConfigError, match="stop it first"):
        delete_run(run.id, tmp_path)
    assert run.path.exists()


# --- retention -----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("90m", 5400), ("2h", 7200),
                                                ("7d", 7 * DAY), ("1.5d", 1.5 * DAY),
                                                ("0d", 0)])
def test_ages_are_read_with_units(text, seconds):
    assert parse_age(text) == seconds


@pytest.mark.parametrize("text", ["7", "7w", "-1d", "", "d", "1e9d", "7 days"])
def test_bad_ages_say_the_form(text):
    with pytest.raises(ConfigError, match=r"7d"):
        parse_age(text)


def test_prune_removes_only_old_ended_runs(tmp_path, alive):
    old = {s: made(tmp_path, s, ended_days_ago=8) for s in ("finished", "stopped", "failed")}
    recent = made(tmp_path, "finished", ended_days_ago=1)
    busy = made(tmp_path, "running", ended_days_ago=8, pid=alive)
    queued = made(tmp_path, "queued", ended_days_ago=8, pid=alive)
    (tmp_path / "not-a-run").mkdir()

    listed = prune_runs(7 * DAY, tmp_path, dry_run=True)
    assert sorted(listed) == sorted(r.id for r in old.values())
    assert all(r.path.exists() for r in old.values())  # a dry run removes nothing

    assert sorted(prune_runs(7 * DAY, tmp_path)) == sorted(listed)
    assert not any(r.path.exists() for r in old.values())
    assert recent.path.exists() and busy.path.exists() and queued.path.exists()
    assert (tmp_path / "not-a-run").exists()


def test_prune_for_a_session_touches_only_the_runs_it_holds_tokens_for(tmp_path):
    mine, theirs, forged = (made(tmp_path, ended_days_ago=8) for _ in range(3))
    tokens = {mine.id: mine.owner_token, forged.id: "guessed"}
    assert prune_runs(7 * DAY, tmp_path, owner_tokens=tokens) == [mine.id]
    assert not mine.path.exists() and theirs.path.exists() and forged.path.exists()


@pytest.mark.slow
def test_cli_prunes_with_a_dry_run_first(tmp_path):
    old, new = made(tmp_path, ended_days_ago=8), made(tmp_path, ended_days_ago=1)

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "automl.cli", "runs",
                               "--runs-dir", str(tmp_path), *args],
                              capture_output=True, text=True, cwd=ROOT, timeout=120)

    dry = cli("--prune", "--older-than", "7d", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert old.id in dry.stdout and new.id not in dry.stdout and "would remove" in dry.stdout
    assert old.path.exists()
    done = cli("--prune", "--older-than", "7d")
    assert done.returncode == 0, done.stderr
    assert old.id in done.stdout and not old.path.exists() and new.path.exists()
    for bad in (["--prune"], ["--prune", "--older-than", "7 weeks"], ["--older-than", "7d"]):
        r = cli(*bad)
        assert r.returncode == 2 and "Traceback" not in r.stderr, bad
        assert "--older-than" in r.stderr, (bad, r.stderr)
    assert new.path.exists()


# --- private files -------------------------------------------------------------------------

def test_run_folder_and_data_snapshot_are_private(tmp_path):
    old = os.umask(0o022)  # a usual umask: new files readable by everyone
    try:
        run = made(tmp_path / "new-runs-folder")
        run.write_data(pd.DataFrame({"x": [1, 2], "y": ["a", "b"]}))
    finally:
        os.umask(old)
    assert stat.S_IMODE(run.path.parent.stat().st_mode) == 0o700  # it lists the run ids
    assert stat.S_IMODE(run.path.stat().st_mode) == 0o700
    assert stat.S_IMODE(run.data_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((run.path / "owner.json").stat().st_mode) == 0o600
    assert run.read_data().shape == (2, 2)
    run.data_file.chmod(0o644)  # written again (a resumed or rebuilt run): private again
    run.write_data(pd.DataFrame({"x": [3]}))
    assert stat.S_IMODE(run.data_file.stat().st_mode) == 0o600
