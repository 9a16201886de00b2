"""Keras 2's `model.fit(verbose=1)` output as it reaches a log: an `Epoch i/n` header, then the finished bar with
each metric of the epoch, for rule tests that need a classifier's epochs."""

from __future__ import annotations


def keras_fit(epochs: list[dict[str, str]], bar: str = "130/130", timing: str = "37s 288ms/step") -> str:
    """One header and one finished bar per epoch; each dict holds the metrics as printed (`{"loss": "0.4150"}`)."""
    lines = []
    for epoch, metrics in enumerate(epochs, start=1):
        fields = " - ".join(f"{name}: {value}" for name, value in metrics.items())
        lines.append(f"Epoch {epoch}/{len(epochs)}")
        lines.append(f"{bar} [==============================] - {timing} - {fields}")
    return "\n".join(lines) + "\n"
