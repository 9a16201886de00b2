"""`analyze replay`: the CLI's work (analysis, replay, printing), kept here so the CLI stays a thin shell."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

USAGE, UNREADABLE = 2, 3
INSTALL = (
    'replay needs torch, transformers and safetensors: pip install "training-run-analyzer[replay]" '
    "(install the CPU or CUDA torch you want first)"
)


def run_replay(
    path: Path, options: dict[str, Any], overrides: dict[str, Any], fmt: str, output: Path | None, out: Any, err: Any
) -> int:
    """Analyse the run, replay its flagged step, print the report with its replay section; return the exit code."""
    from analyzer.replay import missing_dependencies
    from analyzer.report.safe import plain

    def say(text: str) -> None:
        err.print(plain(text), markup=False)

    missing = missing_dependencies()
    if missing:
        say(f"error: {INSTALL} (missing: {', '.join(missing)})")
        return USAGE
    if not path.is_dir():
        say(f"error: {path}: not a run folder")
        return USAGE
    for name in ("dataset", "eval_dataset", "base_model"):
        given = options.get(name)
        if given is not None and not Path(given).exists():
            say(f"error: {given}: no such file or folder (--{name.replace('_', '-')})")
            return USAGE
    if overrides.get("precision") not in (None, "fp32", "fp16", "bf16"):
        say("error: --precision is fp32, fp16 or bf16")
        return USAGE
    from analyzer.api import analyze
    from analyzer.errors import NothingReadable
    from analyzer.replay.errors import ReplayError
    from analyzer.replay.runner import replay

    try:
        report = analyze(path)
    except NothingReadable as exc:
        say(f"error: nothing readable under {path}: {exc}")
        return UNREADABLE
    try:
        report.replay = replay(path, report, overrides=overrides, **options)
    except ReplayError as exc:
        say(f"error: {exc}")
        return USAGE
    except Exception as exc:  # a bug, or a model the installed transformers cannot run: one line, not a traceback
        if os.environ.get("ANALYZER_DEBUG"):
            raise
        say(f"error: replay failed: {type(exc).__name__}: {exc} (rerun with ANALYZER_DEBUG=1 for the traceback)")
        return UNREADABLE
    _print(report, fmt, out)
    if output is not None:
        _write(report, output, say)
    return 0


def _print(report: Any, fmt: str, out: Any) -> None:
    from analyzer.report import render_json, render_markdown

    if fmt == "json":
        sys.stdout.write(render_json(report))
    elif fmt == "markdown":
        sys.stdout.write(render_markdown(report))
    else:
        from analyzer.report.replay import replay_terminal
        from analyzer.report.terminal import render_terminal

        render_terminal(report, out)
        replay_terminal(report.replay, out)


def _write(report: Any, output: Path, say: Any) -> None:
    """The report file the user asked for (the only thing replay writes)."""
    from analyzer.report import render_json, render_markdown

    text = render_json(report) if output.suffix.lower() == ".json" else render_markdown(report)
    output.write_text(text, encoding="utf-8")
    say(f"report written to {output}")
