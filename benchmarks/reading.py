"""Reading quality on real console logs: does a reader find the train-loss series a human reads?

    python benchmarks/reading.py [--no-hints] [--only 010,042,...] [--cases DIR] [--expected YAML]

The answer key is tests/data/console_reading_expected.yaml (written by reading each log of
../shared/real_logs/cases by hand, never by running a reader). For every case whose log prints a
train loss, each tool's train-loss series is checked: points (exact), first and last value (1e-6
relative, NaN equals NaN) and, where the tool gives a comparable counter, the step axis. Rows:

- ours: `analyzer.analyze(stdout.log)` then `report.run.series("loss", split="train")`;
- epochix (a peer: `pip install epochix`): its batch pipeline (the one `epochix run FILE --no-llm`
  and `epochix.parse` use) into an in-memory store, LLM fallback off (EPOCHIX_LLM_ENABLED=false);
  the series is its `train_loss` metric events in line order.

`--no-hints` asks the analyzer to leave out the line grammars of analyzer/ingest/grammars.yaml, which
is issue 14's acceptance setting (the generic reader alone). It sets ANALYZER_NO_GRAMMAR_HINTS=1; the
script says whether the analyzer honours that variable yet.

Axis check: for axis `step` the series' first/last step must equal the logged counter; for axis
`epoch` ours is checked through its `epoch` series at the loss's first/last step (when it has one)
and epochix through the epoch it stamps on the events; `batch_in_epoch` and `record` are not
checked (shown as '.'). A match on an entry's `alt` reading (another defensible reading, see the
YAML) counts as right and is marked 'alt'. For logs that print no train loss, a tool that still
returns one is counted as a spurious series. After the table, the cases where ours fails, grouped by
the kind of line format, each with a representative line of the log.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import time
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT.parent / "shared" / "real_logs" / "cases"
EXPECTED = ROOT / "tests" / "data" / "console_reading_expected.yaml"
NO_HINTS_VAR = "ANALYZER_NO_GRAMMAR_HINTS"
REL = 1e-6


@dataclass
class Got:
    """What one tool read for one case."""

    values: list[float] = field(default_factory=list)
    steps: list[Any] = field(default_factory=list)  # the tool's counter per point (None when it has none)
    epochs: list[Any] = field(default_factory=list)  # epoch per point where the tool knows it
    error: str = ""
    note: str = ""  # e.g. the analyzer's step_axis kind
    others: list[str] = field(default_factory=list)  # the other series the tool read (for the failure list)


@dataclass
class Verdict:
    found: bool
    points: bool
    first: bool
    last: bool
    axis: bool | None  # None: not checkable
    alt: bool = False

    @property
    def right(self) -> bool:
        return self.found and self.points and self.first and self.last and self.axis is not False


def same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= REL * max(abs(a), abs(b)) or a == b


def check(exp: dict[str, Any], got: Got) -> Verdict:
    """Primary reading first, then the `alt` reading if the primary fails."""
    verdict = _check(exp, got)
    if not verdict.right and exp.get("alt"):
        other = _check({**exp, **exp["alt"]}, got)
        if other.right:
            other.alt = True
            return other
    return verdict


def _check(exp: dict[str, Any], got: Got) -> Verdict:
    if not got.values:
        return Verdict(False, False, False, False, None)
    axis: bool | None = None
    if exp["axis"] == "step":
        if got.steps and got.steps[0] is not None:
            first_ok = exp["first_step"] is None or same(got.steps[0], exp["first_step"])
            last_ok = exp["last_step"] is None or same(got.steps[-1], exp["last_step"])
            axis = first_ok and last_ok
        else:
            axis = False
    elif exp["axis"] == "epoch" and got.epochs:
        if got.epochs[0] is None or got.epochs[-1] is None:
            axis = False
        else:
            axis = same(got.epochs[0], exp["first_step"]) and same(got.epochs[-1], exp["last_step"])
    return Verdict(
        True,
        len(got.values) == exp["points"],
        same(got.values[0], exp["first"]),
        same(got.values[-1], exp["last"]),
        axis,
    )


# --------------------------------------------------------------------------------------------- ours


def read_ours(path: Path) -> Got:
    from analyzer import analyze
    from analyzer.errors import NothingReadable

    try:
        report = analyze(path)
    except NothingReadable:
        return Got(error="nothing readable")
    except Exception as exc:  # a crash is a result here, not a reason to stop the benchmark
        return Got(error=f"{type(exc).__name__}: {exc}"[:120])
    run = report.run
    series = run.series("loss", split="train")
    axis_kinds = sorted({str(v.get("step_axis")) for v in (run.meta.get("console_log") or {}).values()})
    others = [
        f"{split}/{metric}({len(run.series(metric, split))})"
        for split, metric in run.series_names()
        if (split, metric) != ("train", "loss")
    ]
    got = Got(
        values=[float(v) for v in series.to_numpy()],
        steps=[int(s) for s in series.index],
        note="step_axis " + "/".join(axis_kinds),
        others=others,
    )
    if len(series) and run.has("epoch", "train"):
        epoch = run.series("epoch", split="train")
        got.epochs = [float(epoch[s]) if s in epoch.index else None for s in series.index]
    return got


def no_hints_honoured() -> bool:
    """True when some analyzer source reads the no-hints variable (a plain text search)."""
    return any(NO_HINTS_VAR in p.read_text(encoding="utf-8") for p in (ROOT / "analyzer").rglob("*.py"))


# ------------------------------------------------------------------------------------------ epochix


def epochix_available() -> bool:
    try:
        import epochix  # noqa: F401
    except ImportError:
        return False
    return True


def read_epochix(path: Path) -> Got:
    from epochix.ingester import make_ingester
    from epochix.pipeline import run_pipeline
    from epochix.server.hub import Hub
    from epochix.store.sqlite_store import RunStore

    store = RunStore(db_path=":memory:")
    run_id = "bench"
    try:
        run = asyncio.run(
            run_pipeline(
                ingester=make_ingester(source="file", run_id=run_id, path=str(path)),
                run_id=run_id,
                store=store,
                hub=Hub(),
            )
        )
        events = [e for e in store.get_metric_events(run_id) if e.canonical_key == "train_loss"]
    except Exception as exc:
        return Got(error=f"{type(exc).__name__}: {exc}"[:120])
    return Got(
        values=[float(e.value) for e in events],
        steps=[e.step for e in events],
        epochs=[e.epoch for e in events],
        note=run.parser_used,
    )


# ------------------------------------------------------------------------------------------- report


def cell(exp: dict[str, Any], got: Got, verdict: Verdict) -> str:
    """One tool's cell: points read, then one mark per check (+ ok, - wrong, . not checkable)."""
    if got.error:
        return f"{'ERR':>5s} {'':8s}"
    if not verdict.found:
        return f"{0:5d} {'-':8s}"
    marks = "".join("+" if ok else "-" for ok in (verdict.points, verdict.first, verdict.last))
    marks += "." if verdict.axis is None else "+" if verdict.axis else "-"
    return f"{len(got.values):5d} {marks:4s}{' alt' if verdict.alt else '    '}"


def sample(case: dict[str, Any], cases: Path) -> str:
    # Numbered as grep -n numbers them: only \n ends a line (tqdm's lone \r does not).
    lines = (cases / case["case"] / "stdout.log").read_bytes().decode("utf-8", "replace").split("\n")
    text = lines[case["sample_line"] - 1].replace("\r", " ").replace("\t", "<TAB>").strip()
    return text[:150] + ("..." if len(text) > 150 else "")


def why(exp: dict[str, Any], got: Got, verdict: Verdict) -> str:
    if got.error:
        return got.error
    if not verdict.found:
        others = ", ".join(got.others[:8]) + (", ..." if len(got.others) > 8 else "")
        return f"no train-loss series; read instead: {others or 'nothing'}"
    parts = []
    if not verdict.points:
        parts.append(f"{len(got.values)} points, expected {exp['points']}")
    if not verdict.first:
        parts.append(f"first {got.values[0]!r}, expected {exp['first']!r}")
    if not verdict.last:
        parts.append(f"last {got.values[-1]!r}, expected {exp['last']!r}")
    if verdict.axis is False:
        have = got.epochs if exp["axis"] == "epoch" else got.steps
        parts.append(
            f"{exp['axis']} {have[0]!r}..{have[-1]!r}, expected {exp['first_step']!r}..{exp['last_step']!r}"
            f" ({got.note})"
        )
    return "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-hints", action="store_true", help="ask the analyzer to leave out grammars.yaml")
    parser.add_argument("--only", default="", help="comma-separated case numbers, e.g. 010,042")
    parser.add_argument("--cases", type=Path, default=CASES)
    parser.add_argument("--expected", type=Path, default=EXPECTED)
    args = parser.parse_args()
    if args.no_hints:
        os.environ[NO_HINTS_VAR] = "1"
    os.environ["EPOCHIX_LLM_ENABLED"] = "false"  # the peer without its LLM fallback, whatever .env says
    logging.disable(logging.WARNING)  # epochix logs through logging/structlog; keep the table readable
    warnings.simplefilter("ignore")

    entries = yaml.safe_load(args.expected.read_text(encoding="utf-8"))
    if args.only:
        wanted = set(args.only.split(","))
        entries = [e for e in entries if e["case"][:3] in wanted]
    tools = ["ours"] + (["epochix"] if epochix_available() else [])
    readers = {"ours": read_ours, "epochix": read_epochix}

    start = time.perf_counter()
    import analyzer  # noqa: F401  (import costs shown apart from the reading time)

    imports = {"ours": time.perf_counter() - start}
    if "epochix" in tools:
        start = time.perf_counter()
        import epochix.pipeline
        import epochix.store.sqlite_store  # noqa: F401

        imports["epochix"] = time.perf_counter() - start

    got: dict[str, dict[str, Got]] = {t: {} for t in tools}
    verdicts: dict[str, dict[str, Verdict]] = {t: {} for t in tools}  # cases that print a train loss
    seconds = dict.fromkeys(tools, 0.0)
    for entry in entries:
        path = args.cases / entry["case"] / "stdout.log"
        for tool in tools:
            start = time.perf_counter()
            read = got[tool][entry["case"]] = readers[tool](path)
            seconds[tool] += time.perf_counter() - start
            if entry["prints_train_loss"]:
                verdicts[tool][entry["case"]] = check(entry, read)

    hints = "off" if args.no_hints else "on"
    print(f"Train-loss series on {len(entries)} console logs of {args.cases} (grammar hints {hints})")
    if args.no_hints and not no_hints_honoured():
        print(
            f"NOTE: {NO_HINTS_VAR}=1 was set but nothing under analyzer/ reads it yet: grammars.yaml was "
            "still used, so this run measures the grammars, not the generic reader."
        )
    print(
        "cell = points read, then points/first/last/axis: + right, - wrong, . axis not checkable; "
        "'alt' = matches the entry's alternative reading"
    )
    header = f"{'case':44s} {'exp':>4s} {'axis':14s} " + " ".join(f"{t:>17s}" for t in tools)
    print(header)
    print("-" * len(header))
    loss_cases = [e for e in entries if e["prints_train_loss"]]
    for entry in loss_cases:
        name = entry["case"]
        cells = [cell(entry, got[t][name], verdicts[t][name]) for t in tools]
        print(
            f"{name[:44]:44s} {entry['points']:4d} {entry['axis']:14s} "
            + " ".join(f"{c:>17s}" for c in cells)
            + ("  (ambiguous)" if entry.get("ambiguous") else "")
        )
    print()
    no_loss = [e["case"] for e in entries if not e["prints_train_loss"]]
    print(f"{len(no_loss)} logs print no train loss; a series read from one of them is spurious:")
    for tool in tools:
        spurious = [f"{c[:3]} ({len(got[tool][c].values)} pts)" for c in no_loss if got[tool][c].values]
        print(f"  {tool:8s} {len(spurious)} spurious: {', '.join(spurious) or '-'}")
    print()
    total = max(1, len(loss_cases))
    print(
        f"{'tool':10s} {'series found':>14s} {'points':>8s} {'first':>7s} {'last':>7s} {'axis ok':>9s} "
        f"{'fully right':>13s} {'(via alt)':>9s} {'errors':>7s} {'read s':>8s} {'import s':>9s}"
    )
    for tool in tools:
        vs = list(verdicts[tool].values())
        found, right = sum(v.found for v in vs), sum(v.right for v in vs)
        checkable = [v for v in vs if v.found and v.axis is not None]
        errors = sum(bool(g.error) for g in got[tool].values())
        print(
            f"{tool:10s} {found:>7d}/{len(vs):<3d} {100 * found / total:3.0f}% {sum(v.points for v in vs):>8d} "
            f"{sum(v.first for v in vs):>7d} {sum(v.last for v in vs):>7d} "
            f"{sum(bool(v.axis) for v in checkable):>5d}/{len(checkable):<3d} "
            f"{right:>6d}/{len(vs):<3d}{100 * right / total:3.0f}% {sum(v.alt for v in vs):>9d} "
            f"{errors:>7d} {seconds[tool]:8.2f} {imports[tool]:9.2f}"
        )
    print()
    failing: dict[str, list[str]] = defaultdict(list)
    for entry in loss_cases:
        verdict = verdicts["ours"][entry["case"]]
        if not verdict.right:
            failing[entry.get("format_kind", "?")].append(
                f"  {entry['case']}: {why(entry, got['ours'][entry['case']], verdict)}\n"
                f"      line {entry['sample_line']}: {sample(entry, args.cases)}"
            )
    print(f"Where ours is not fully right ({sum(len(v) for v in failing.values())} cases), by line format:")
    for kind in sorted(failing, key=lambda k: -len(failing[k])):
        print(f"[{kind}]")
        print("\n".join(failing[kind]))


if __name__ == "__main__":
    main()
