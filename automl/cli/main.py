"""Dispatch a parsed command; an AutoMLError becomes its message and exit code 2, an
interruption (Ctrl-C, SIGTERM, SIGHUP) 128 + the signal, after saying what it left behind."""

from __future__ import annotations

import sys

from automl.cli.model_commands import explain_command, predict_command, train_command
from automl.cli.monitor_commands import monitor_command
from automl.cli.parser import build_parser
from automl.cli.run_commands import runs_command, supervise_command, worker_command
from automl.cli.serve_commands import serve_command

__all__ = ["COMMANDS", "main"]

COMMANDS = {"train": train_command, "predict": predict_command, "explain": explain_command,
            "runs": runs_command, "worker": worker_command, "supervise": supervise_command,
            "serve": serve_command, "monitor": monitor_command}

_ENDED = (": the search and its workers were ended; finished trials are kept in the run "
          "folder (resume the run to go on)")
_SEARCHES = {"train": _ENDED, "supervise": _ENDED,  # what an interruption leaves behind
             "worker": ": this worker ended; the trials it finished are kept in the study"}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from automl.errors import AutoMLError
    from automl.processes import raise_on_signals, restore_signals, signal_name

    # SIGTERM/SIGHUP unwind a search as Ctrl-C does: workers ended, the run marked failed
    handlers = raise_on_signals() if args.command in _SEARCHES else {}
    try:
        return COMMANDS[args.command](args)
    except AutoMLError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print(f"interrupted by {signal_name(exc)}{_SEARCHES.get(args.command, '')}",
              file=sys.stderr)
        return 128 + getattr(exc, "signum", 2)
    finally:
        restore_signals(handlers)
