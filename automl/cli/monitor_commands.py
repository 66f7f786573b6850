"""``automl monitor``: new rows against the model's reference profile (automl.monitor).

Exit codes: 0 no alarm, 1 alarm (so a scheduler can act on it), 2 bad input (as every
command). Each check is kept in the model's history (``<runs dir>/monitor/``) with its
source, the password masked, so that the same query can be re-run and followed over time.
"""

from __future__ import annotations

import json
import sys

__all__ = ["monitor_command"]


def monitor_command(args) -> int:
    from automl.api import as_table
    from automl.bundle import load_model
    from automl.errors import ConfigError

    if not args.data:
        raise ConfigError("Give the new rows: a file, or a database URL with --table or "
                          "--query (automl monitor MODEL_FILE NEW_DATA).")
    model = load_model(args.model)
    table = as_table(args.data, table=args.table, query=args.query)
    for w in table.warnings:
        print(f"warning: {w}", file=sys.stderr)
    from automl.monitor.check import check
    from automl.monitor.history import load_history, record_check
    from automl.monitor.sources import reference_rows

    ref_rows = reference_rows(model, runs_dir=args.runs_dir, reference=args.reference)
    result = check(model, table.frame, reference_rows=ref_rows)
    data = result.to_json()
    where = record_check(model, data, source=table.source, query=args.query,
                         table=args.table, root=args.runs_dir)
    if args.out:
        from automl.atomic import write_text
        from automl.monitor.report import monitor_report

        html = monitor_report(result, model_name=str(args.model), source=table.source,
                              history=load_history(model, args.runs_dir))
        write_text(args.out, html)
        print(f"wrote the report to {args.out}", file=sys.stderr)
    if args.json:
        print(json.dumps(data, indent=2, allow_nan=False, default=str))
    else:
        _print(data, ref_rows is not None)
    print(f"check saved in {where}", file=sys.stderr)
    return 1 if result.alarm else 0


def _print(data: dict, had_reference: bool) -> None:
    print(("ALARM: " if data["alarm"] else "") + data["advice"])
    for line in data["summary"]:
        print(f"- {line}")
    if not had_reference:
        print("- The multivariate check did not run: the training rows are not at hand "
              "(give them with --reference FILE).")
    drifted = [c for c in data["columns"] if c["drifted"]]
    if drifted:
        print(f"{'column':30} {'test':15} {'statistic':>10} {'reliance':>9}")
        for c in sorted(drifted, key=lambda c: -c["importance"])[:20]:
            print(f"{c['name'][:30]:30} {c['test']:15} {c['statistic'] or 0:10.4g} "
                  f"{c['importance']:9.1%}")
