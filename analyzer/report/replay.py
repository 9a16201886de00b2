"""The `replay` section of a report (markdown and terminal), from the JSON-ready dict analyzer.replay returns."""

from __future__ import annotations

import math
from typing import Any

from analyzer.report.safe import code, md, plain

_MARK = {"confirmed": "✅ confirmed", "refuted": "❌ refuted", "inconclusive": "➖ inconclusive"}


def _num(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:.4g}" if math.isfinite(x) else str(x)
    return "-" if x is None else str(x)


def headline(r: dict[str, Any]) -> str:
    """One line: what was replayed, from where, on what."""
    moved = f" (update at step {r['update_step']})" if r["update_step"] != r["step"] else ""
    return (
        f"Replayed step {r['step']}{moved} of {r.get('finding') or 'the run'} from {r['checkpoint']} "
        f"({r['steps_fast_forwarded']} step(s) fast-forwarded) on {r['device']} in {r['seconds']} s, "
        f"{r['settings']['precision']}, batch {r['settings']['batch_size']} x {r['settings']['grad_accum']}, "
        f"{r['sampler']} sampler"
    )


def replay_markdown(r: dict[str, Any]) -> list[str]:
    """The markdown lines of the replay section."""
    lines = ["## Replay", "", md(headline(r)) + ".", "", "| cause | verdict | evidence |", "|---|---|---|"]
    for v in r["verdicts"]:
        lines.append(f"| {md(v['title'])} ({code(v['cause'])}) | {_MARK[v['verdict']]} | {md(v['evidence'])} |")
    lines += [
        "",
        "| ablation | precision | lr | clip | loss | grad norm | next loss | failure shows |",
        "|---" * 8 + "|",
    ]
    for o in r["ablations"]:
        cells = [o["name"], o["precision"], _num(o["lr"]), _num(o["clip"]), _num(o["loss"]), _num(o["grad_norm"])]
        cells += [_num(o["next_loss"]), "yes" if o["symptom"] else "no"]
        lines.append("| " + " | ".join(md(c) for c in cells) + " |")
    b = r["batch"]
    supervised = b.get("supervised_tokens", b.get("labelled_rows"))
    lines += [
        "",
        md(
            f"Batch of step {r['step']}: {b['rows']} rows, {supervised} supervised, {b['empty_rows']} empty, "
            f"{b['all_pad_rows']} all-pad, lengths {b['length_min']}–{b['length_max']}, largest token id "
            f"{b['max_token_id']} (embedding {b['vocab_size']})"
            + (f", {b['nonfinite_labels']} non-finite label(s)" if b.get("nonfinite_labels") else "")
        )
        + ".",
    ]
    first = r.get("first_nonfinite")
    if first:
        how = "produced" if first["inputs_finite"] else "first received"
        lines += [
            "",
            f"First non-finite value: {code(first['op'])} in {code(first['module'])} ({first['phase']}) {how} it.",
        ]
    h = r["health"]
    lost = ", ".join(p["parameter"] for p in h["never_loaded"]) or "none"
    bad = ", ".join(p["parameter"] for p in h["nonfinite_parameters"]) or "none"
    lines += [
        "",
        md(
            f"Model health: {h['architecture']}, {h['parameters']:,} parameters; never loaded: {lost}; "
            f"non-finite: {bad}."
        ),
    ]
    gen = h.get("generation")
    if gen:
        lines.append(
            md(
                f"Greedy generation: {gen['tokens_before_eos']} tokens before EOS, {gen['distinct_tokens']} "
                f"distinct{' (collapsed)' if gen['collapsed'] else ''}."
            )
        )
    norms = r.get("layer_grad_norms") or {}
    if norms:
        lines += [
            "",
            "<details><summary>Per-layer gradient norms at the step</summary>",
            "",
            "| layer | grad norm |",
            "|---|---|",
            *[f"| {code(k)} | {_num(v)} |" for k, v in norms.items()],
            "",
            "</details>",
        ]
    if r.get("notes"):
        lines += ["", *[f"- {md(n)}" for n in r["notes"]]]
    return [*lines, ""]


def replay_terminal(r: dict[str, Any], console: Any) -> None:
    """Print the verdicts (rich console)."""
    from rich.text import Text

    console.print(Text(plain(headline(r)), style="bold"))
    style = {"confirmed": "green", "refuted": "red", "inconclusive": "dim"}
    for v in r["verdicts"]:
        line = Text(f"  {v['verdict']:<13}", style=style[v["verdict"]])
        line.append(plain(f"{v['cause']}: {v['evidence']}"))
        console.print(line)
    first = r.get("first_nonfinite")
    if first:
        console.print(Text(plain(f"  first non-finite: {first['op']} in {first['module']} ({first['phase']})")))
    lost = [p["parameter"] for p in r["health"]["never_loaded"]]
    if lost:
        console.print(Text(plain(f"  never loaded from the checkpoint: {', '.join(lost)}"), style="yellow"))
