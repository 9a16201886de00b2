"""`all_results.json`, `train_results.json`, `eval_results.json` (Trainer.save_metrics): final numbers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from analyzer.errors import InputError
from analyzer.ingest.base import load_json, read_text, to_float
from analyzer.model import Frames

name = "hf_results"

_FIRST_KEY = re.compile(rb'^\{\s*"(epoch|total_flos|num_input_tokens_seen|(?:train|eval|predict|test)_[\w/-]+)"\s*:')


def sniff(path: Path, head: bytes) -> bool:
    """A flat JSON object whose first key is a results key (save_metrics sorts keys)."""
    text = head.lstrip()
    return bool(_FIRST_KEY.match(text)) and text.count(b"{") == 1 and b"[" not in text


def parse(path: Path, source: str) -> Frames:
    """Final values into meta['results'][source]: a summary, not a time series."""
    doc = load_json(read_text(path, source), source)
    if not isinstance(doc, dict) or not doc:
        raise InputError(source, "not a Trainer results file: expected a JSON object of metrics")
    values: dict[str, Any] = {}
    for key, raw in doc.items():
        if isinstance(raw, (dict, list)):
            raise InputError(source, f"not a Trainer results file: `{key}` holds a nested value")
        number = to_float(raw)
        values[key] = number if number is not None else raw
    return Frames(meta={"results": {source: values}})
