"""A run's report flattened into index rows: one run row, its findings and its problems."""

from __future__ import annotations

import json
import math
import re
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from analyzer.model import Report


_TFEVENTS = re.compile(r"events\.out\.tfevents\.\d+\.(.+?)\.\d+\.\d+(?:\.v2)?$")
_VERSIONS = ("torch", "transformers", "deepspeed", "peft", "trl", "accelerate", "cuda")


def _find(meta: Any, keys: set[str], depth: int = 0) -> Any:
    """The first scalar value under one of `keys` anywhere in nested meta (breadth first, shallow)."""
    if not isinstance(meta, dict) or depth > 3:
        return None
    for key, value in meta.items():
        if key in keys and isinstance(value, (str, int, float)) and value != "":
            return value
    for value in meta.values():
        found = _find(value, keys, depth + 1)
        if found is not None:
            return found
    return None


def _num(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def model_name(meta: dict[str, Any]) -> str | None:
    """What model a run trained: its name or path when recorded, else the architecture."""
    model: dict[str, Any] = meta["model"] if isinstance(meta.get("model"), dict) else {}
    named = _find(meta, {"model_name_or_path", "base_model_name_or_path", "model_name", "_name_or_path"})
    archs = model.get("architectures")
    return str(named or (archs[0] if archs else None) or model.get("model_type") or "") or None


def _exception_signature(report: Report) -> str | None:
    """The first exception's type and message with numbers and paths masked: equal across runs that crash alike."""
    events = report.run.events
    rows = events[events["kind"] == "exception"] if len(events) else events
    if rows.empty:
        return None
    text = str(rows.iloc[0]["message"]).strip().splitlines()[0][:200] if str(rows.iloc[0]["message"]).strip() else ""
    text = re.sub(r"(/[\w.\-]+)+", "<path>", text)
    text = re.sub(r"0x[0-9a-fA-F]+|\d+(\.\d+)?", "N", text)
    return text or None


def _first_nonfinite(report: Report) -> str | None:
    """`split/metric@step` of the earliest NaN or inf value in the run."""
    metrics = report.run.metrics
    if metrics.empty:
        return None
    values = metrics["value"].to_numpy()
    bad = ~(values == values) | (abs(values) == float("inf"))
    if not bad.any():
        return None
    first = int(np.flatnonzero(bad)[np.argmin(metrics["step"].to_numpy()[bad])])
    return f"{metrics['split'].iat[first]}/{metrics['metric'].iat[first]}"


def flatten(report: Report, row: dict[str, Any], with_report: bool) -> dict[str, Any]:
    """The report as plain rows: run (one), findings and problems (many). Small and picklable."""
    from analyzer.model import severity_rank

    meta = report.run.meta
    versions: dict[str, Any] = meta["versions"] if isinstance(meta.get("versions"), dict) else {}
    for name in _VERSIONS:
        row[name] = str(versions[name]) if versions.get(name) is not None else None
    serious = [f for f in report.findings if severity_rank(f.severity) >= severity_rank("warning")]
    head = serious[0] if serious else None
    clock: Any = report.run.metrics["wall_time"].to_numpy() if len(report.run.metrics) else []
    walls = [float(w) for w in clock if w == w and w > 1e8]  # seconds since the epoch, not a relative clock
    steps = report.run.metrics["step"] if len(report.run.metrics) else None
    row.update(
        framework=meta.get("framework"),
        trainer_kind=meta.get("trainer_kind"),
        model=model_name(meta),
        precision=meta.get("precision"),
        deepspeed_stage=_num(meta.get("deepspeed_stage")),
        learning_rate=_num(meta.get("learning_rate")),
        batch_size=_num(meta.get("per_device_train_batch_size")),
        grad_accum=_num(meta.get("gradient_accumulation_steps")),
        optim=str(meta["optim"]) if meta.get("optim") is not None else None,
        host=_find(meta, {"host", "hostname", "node", "nodename"}),
        gpu=_find(meta, {"gpu", "gpu_name"}),
        status=meta.get("status"),
        status_reason=meta.get("status_reason"),
        verdict=report.verdict,
        severity=report.worst_severity(),
        confidence=head.confidence if head else None,
        onset_step=head.onset_step if head else None,
        top_cause=head.causes[0].id if head and head.causes else None,
        n_findings=len(serious),
        exception=_exception_signature(report),
        first_nonfinite=_first_nonfinite(report),
        steps=int(steps.max()) if steps is not None else None,
        started=min(walls) if walls else None,
        duration_s=(max(walls) - min(walls)) if walls else None,
        error=None,
        console=any(s.format == "console_log" for s in report.run.sources),
        versions=json.dumps(versions, default=str, sort_keys=True),
        meta=json.dumps(meta, default=str)[:20000],
    )
    if row["host"] is None:  # TensorBoard names its files events.out.tfevents.<time>.<host>.<pid>.<n>
        for source in report.run.sources:
            match = _TFEVENTS.search(source.path)
            if match:
                row["host"] = match.group(1)
                break
    if row["host"] is not None:
        row["host"] = str(row["host"])
    if row["gpu"] is not None:
        row["gpu"] = str(row["gpu"])
    findings = [
        {
            "run": row["run"],
            "position": i,
            "rule_id": f.rule_id,
            "failure_mode": f.failure_mode,
            "severity": f.severity,
            "confidence": float(f.confidence),
            "onset_step": f.onset_step,
            "caused_by": f.caused_by,
            "title": f.title,
            "message": f.message,
            "cause_1": f.causes[0].id if len(f.causes) > 0 else None,
            "cause_2": f.causes[1].id if len(f.causes) > 1 else None,
            "cause_3": f.causes[2].id if len(f.causes) > 2 else None,
            "causes": json.dumps([{"id": c.id, "title": c.title, "score": round(c.score, 3)} for c in f.causes[:5]]),
        }
        for i, f in enumerate(report.findings)
    ]
    problems = [{"run": row["run"], **p.to_dict()} for p in report.run.problems]
    text = None
    if with_report and report.verdict != "healthy":
        from analyzer.report import render_markdown

        text = render_markdown(report)
    return {"run": row, "findings": findings, "problems": problems, "report": text}
