"""The markdown tables of benchmarks/explain_speed.py's results."""

from __future__ import annotations

GOAL_GLOBAL_S, GOAL_ROW_S, GOAL_RHO = 1.0, 0.1, 0.9


def fmt(x, nd=3):
    return "-" if x is None else f"{x:.{nd}f}"


def _best(settings: list[dict], key: str, rho: str, t: str) -> str:
    ok = [s for s in settings if s.get(key)]
    if not ok:
        return "none"
    b = min(ok, key=lambda s: (s[t], -s[rho]))  # the fastest that meets both goals
    return (f"rows={b['max_rows']}, approx={b['approximate']}: {b[t]:.3f} s, "
            f"rho {b[rho]:.3f}")


def report(results: list[dict]) -> str:
    lines = ["## Summary", "",
             "| data | model | trees / depth | reference (plain shap, all rows) | engine build | "
             "one row: engine exact / approx / plain shap | fastest setting meeting the goal: "
             "vs shap | vs exact probability SHAP | raw units vs shap |",
             "|---|---|---|---|---:|---|---|---|---|"]
    for r in results:
        info = r["model"]
        shape = f"{info['trees']} / {info.get('max_depth', '-')}"
        if "mean_leaves" in info:
            shape += f" ({info['mean_leaves']:.0f} leaves)"
        if "num_leaves" in info:
            shape += f" ({info['num_leaves']} leaves)"
        ref = r["reference"]
        ref_txt = f"{ref['time_s']:.1f} s" + (f" (extrapolated: {ref['note']})"
                                              if ref["extrapolated"] else
                                              f" (median of {ref['runs']})")
        one = r["engine"]["one_row_s"]
        lines.append(
            f"| {r['data']} | {r['family']} | {shape} | {ref_txt} | "
            f"{r['engine']['build_s']:.3f} s | {one['exact'] * 1e3:.1f} / "
            f"{one['approximate'] * 1e3:.1f} / {ref['one_row_s'] * 1e3:.1f} ms | "
            f"{_best(r['settings'], 'meets', 'spearman_top10', 'time_s')} | "
            f"{_best(r['settings'], 'prob_meets', 'prob_spearman_top10', 'time_s')} | "
            f"{_best(r['settings'], 'raw_meets', 'raw_spearman_top10', 'raw_time_s')} |")
    lines += ["", "## Global explanations", "",
              "rho = Spearman over a ground truth's top-10 columns (its importance vs the "
              "engine's). Ground truths: 'shap' = plain shap.TreeExplainer on all rows, the "
              "model's raw units (log-odds for boosting); 'prob' = exact SHAP in probability "
              "points (boosting: interventional TreeSHAP of the probability on a row sample, "
              "against the engine's background rows; forest: = 'shap'); 'self' = the "
              "engine's own exact explanation of all rows. 'raw' = the same setting with "
              "raw=True (the model's own units; one run) against 'shap'. Goal: <= 1 s and "
              "rho >= 0.9.", "",
              "| data | model | max_rows | approx | time s (median) | runs | speed ratio "
              "(shap / engine) | rho vs shap | overlap | top-1 same | rho vs prob | "
              "rho vs self | raw: time s | raw: rho vs shap | goal vs shap | goal vs prob | "
              "goal, raw |",
              "|---|---|---:|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|---|---|"]

    def yes(ok) -> str:
        return "-" if ok is None else "**yes**" if ok else "no"

    for r in results:
        for s in r["settings"]:
            head = f"| {r['data']} | {r['family']} | {s['max_rows']} | {s['approximate']} | "
            if s["skipped"]:
                lines.append(head + f"~{s['est_s']:.1f} | 0 | ~{s['ratio']:.1f}x | "
                             + "- | " * 7 + f"no ({s['note']}) | no | no |")
                continue
            raw_t = ("=" if s.get("raw_note") else "-") if s.get("raw_time_s") is None \
                else f"{s['raw_time_s']:.3f}"
            raw_ok = (True if s.get("raw_note") and s["time_s"] <= GOAL_GLOBAL_S else
                      False if s.get("raw_note") else s.get("raw_meets"))
            lines.append(
                head + f"{s['time_s']:.3f} | {s['runs']} | {s['ratio']:.1f}x | "
                f"{s['spearman_top10']:.3f} | {s['top10_overlap']}/10 | "
                f"{'yes' if s['top1_same'] else 'no'} | {fmt(s.get('prob_spearman_top10'))} | "
                f"{fmt(s.get('self_spearman_top10'))} | {raw_t} | "
                f"{fmt(s.get('raw_spearman_top10'))} | {yes(s['meets'])} | "
                f"{yes(s.get('prob_meets'))} | {yes(raw_ok)} |")
    return "\n".join(lines)


