"""The JSON contract (`--format json`): stable, documented in the README, non-finite numbers as strings."""

from __future__ import annotations

import json
import math
from typing import Any

from analyzer.model import Report
from analyzer.report.timeline import timeline

SCHEMA_VERSION = 1


def _clean(value: Any) -> Any:
    """JSON-safe copy: NaN/inf become the strings 'NaN', 'Infinity', '-Infinity' (strict JSON has no such numbers)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    return str(value)


def to_dict(report: Report) -> dict[str, Any]:
    """The report as the documented JSON object."""
    from analyzer import __version__

    run = report.run
    replay = {"replay": report.replay} if report.replay is not None else {}
    return _clean(
        {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "analyzer", "version": __version__},
            "verdict": report.verdict,
            "run": {
                "path": run.path,
                "meta": run.meta,
                "signals": report.signals,
                "sources": [s.to_dict() for s in run.sources],
                "problems": [p.to_dict() for p in run.problems],
                "events": len(run.events),
            },
            "findings": [f.to_dict() for f in report.findings],
            "timeline": [e.to_dict() for e in timeline(report)],
            "checked": report.checked,
            "unchecked": report.unchecked,
            **replay,
        }
    )


def render_json(report: Report) -> str:
    """The report as strict JSON text."""
    return json.dumps(to_dict(report), indent=2, allow_nan=False) + "\n"
