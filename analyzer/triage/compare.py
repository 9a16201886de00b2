"""Compare two runs: settings and versions, curves overlaid, the first step where they part, findings."""

from __future__ import annotations

import math
from typing import Any


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-9) or (a != a and b != b)
    return bool(a == b)


def differences(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(key, a's value, b's value) for every key whose values differ (None where one side lacks it), in
    a's key order then b's."""
    keys = list(a) + [k for k in b if k not in a]
    return [(k, a.get(k), b.get(k)) for k in keys if not _same(a.get(k), b.get(k))]
