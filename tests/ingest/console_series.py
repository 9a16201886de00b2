"""The series the console reader reads from a text, for tests of its naming and step axes."""

from __future__ import annotations

from analyzer.ingest.console import parse_text


def series(text: str) -> dict[str, list[tuple[int, float]]]:
    """`split/metric` -> (step, value) of every observation, in the order the reader emitted them."""
    metrics = parse_text(text, "train.log").metrics
    return {
        f"{split}/{metric}": list(zip(group["step"].tolist(), group["value"].tolist(), strict=True))
        for (split, metric), group in metrics.groupby(["split", "metric"], observed=True)
    }


def values(text: str) -> dict[str, list[float]]:
    """`split/metric` -> the values alone."""
    return {name: [v for _, v in points] for name, points in series(text).items()}


def events_of(text: str, kind: str, column: str = "line", source: str = "train.log") -> list[int]:
    """The `column` (line or step) of every event of `kind` the console reader reads from a text."""
    events = parse_text(text, source).events
    return events.loc[events["kind"] == kind, column].tolist()
