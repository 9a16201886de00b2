"""The library API the CLI wraps: `analyze(path) -> Report`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from analyzer.errors import NothingReadable, Problem
from analyzer.ingest import ingest, remote_scheme
from analyzer.model import Finding, Report, chain_findings, severity_rank
from analyzer.normalize import build_run
from analyzer.rules import evaluate, load_rules
from analyzer.signals import summarize

if TYPE_CHECKING:
    from analyzer.ingest import Ingested
    from analyzer.model import Run
    from analyzer.rules.schema import Rule

# A run of a multi-run file is analysed on its own from this many train-loss records (the reader tells runs apart
# from four on), for the failures that are failures whatever the run was for: a value gone non-finite or to zero,
# a loss that ran away, a scaler at its floor. A curve's shape (a spike, a plateau, overfitting, a slowdown) is
# judged on the run analysed only: one trial of a sweep that blew up on its learning rate is the sweep working, and
# a counter that starts again is not always a run (an inner loop: a PPO controller's epochs within each search
# epoch). Failures of the file's process (a crash, an OOM, a timeout) are the analysed run's to report.
_RUN_RECORDS = 4
_ANY_RUN_MODES = frozenset(
    {
        "loss_nan",
        "eval_loss_nan",
        "grad_norm_nan",
        "loss_zero_grad_nan",
        "loss_zero",
        "divergence",
        "grad_explosion",
        "fp16_overflow",
    }
)


def analyze(
    path: str | Path,
    rules_dirs: list[Path] | None = None,
    grammar_files: list[Path] | None = None,
    hints: bool | None = None,
    rules: tuple[list[Rule], list[Problem]] | None = None,
    signals: bool = True,
) -> Report:
    """Read a run folder (or one file), merge it, run the rules and return the report.

    Raises FileNotFoundError when the path does not exist and NothingReadable when no file under
    it could be read, GrammarError when a user grammar file is broken. Nothing under `path` is
    ever written. `hints=False` leaves out the built-in line grammars (the generic reader alone;
    default: on unless ANALYZER_NO_GRAMMAR_HINTS=1). `wandb://entity/project/run_id` reads that run
    through the W&B API (WandbFetchError when the API cannot be reached or refuses). `rules`: the result
    of load_rules(rules_dirs) when the caller loaded it once for many runs (triage); parsing the rule
    files is otherwise a third of a small run. `signals=False` leaves `Report.signals` empty (the JSON
    summary of each series, a tenth of a small run) for callers that do not render it.
    """
    chosen = None
    if grammar_files or hints is not None:
        from analyzer.ingest.grammars import grammars

        chosen = grammars(grammar_files, hints)
    ingested = ingest(path, chosen)
    remote = remote_scheme(path) is not None
    if not any(len(frames.metrics) or len(frames.events) for _, frames in ingested.frames):
        # Never a false "healthy": settings alone, or text with no metric and no event, say nothing of a run.
        read = [s.path for s in ingested.sources if s.status == "read"]
        what = (
            f"no training metrics or events recognised; read only settings or text from: {', '.join(read[:6])}"
            if read
            else "no training logs, trainer state or configs found"
        )
        said = [p for p in ingested.problems]
        raise NothingReadable(str(path), [*said, Problem(str(path), what)] if read or not said else said)
    run = build_run(Path(path), ingested)
    if remote:
        run.path = ingested.label or str(path)
    loaded, rule_problems = rules if rules is not None else load_rules(rules_dirs)
    run.problems.extend(rule_problems)
    findings, checked, unchecked = evaluate(run, loaded)
    findings += _other_runs(Path(path), ingested, run, loaded, {f.rule_id for f in findings})
    if not remote:
        from analyzer.excerpts import quote_findings

        quote_findings(run.path, run.sources, findings)
    return Report(
        run=run,
        findings=chain_findings(findings),
        signals=summarize(run) if signals else {},
        checked=checked,
        unchecked=unchecked,
    )


def _other_runs(path: Path, ingested: Ingested, run: Run, rules: list[Rule], found: set[str]) -> list[Finding]:
    """The failures of a multi-run file's other runs (folds, repeats, a trial run) that the run analysed does not
    show, each marked with its run's number: a fold whose loss went NaN is a failure of the job."""
    spans = run.meta.get("runs")
    if not spans:
        return []
    extra: list[Finding] = []
    for k, span in enumerate(spans["runs"]):
        if k == spans["analysed"] or span["records"] < _RUN_RECORDS:
            continue
        for finding in evaluate(build_run(path, ingested, k), rules)[0]:
            if (
                finding.rule_id in found
                or finding.failure_mode not in _ANY_RUN_MODES
                or severity_rank(finding.severity) < severity_rank("warning")
            ):
                continue
            finding.run = k + 1
            found.add(finding.rule_id)
            extra.append(finding)
    return extra
