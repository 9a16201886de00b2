"""The columnar bulk path of large console logs reads what the regex bulk path reads; the bulk path's
bars-only test stays fast on many bars."""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from analyzer.ingest import console
from analyzer.ingest.console import columnar, lines

pytest.importorskip("pyarrow")


def _trainer_log(path: Path, steps: int, seed: int, noise: bool, bar: str = "#") -> None:
    """A Trainer console: dicts, the bar after each, evals; with `noise`, what real logs mix in (cut,
    quoted, NaN and tensor values, glued dicts, eval bars and their dict, stray bars, warnings)."""
    rng = random.Random(seed)
    out = []
    for step in range(1, steps + 1):
        loss = f"{2 - step / steps:.4f}"
        roll = rng.random() if noise else 1.0
        if roll < 0.01:
            loss = rng.choice(["nan", "'0.5'", "tensor(0.5, device='cuda:0')", "-inf", "1_0"])
        record = f"{{'loss': {loss}, 'grad_norm': {rng.random():.6f}, 'learning_rate': 1e-05, 'epoch': 0.1}}"
        if roll < 0.02:
            record = rng.choice([record[:-1], record + record, record.replace(", 'epoch'", ",  'epoch'")])
        out.append(f"{record}\n\r {100 * step // steps}%|{bar}| {step}/{steps} [00:01<00:01,  9.00it/s]")
        if roll < 0.03 or step % 500 == 0:
            evals = "".join(f"\r {i}%|#| {i}/40 [00:00<00:02, 22.78it/s]" for i in range(40))
            out.append(
                rng.choice(["\n" + evals + "\r{'eval_loss': 1.5, 'epoch': 0.1}\n", "\nWARNING: loss scale 1024\n"])
            )
    path.write_text("".join(out))


def _frames(path: Path, engine: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[pd.DataFrame, pd.DataFrame]:
    monkeypatch.setattr(columnar, "MIN_BYTES", 0 if engine else 1 << 62)
    frames = console.parse(path, "train.log")
    return frames.metrics, frames.events


@pytest.mark.parametrize(("noise", "bar"), [(False, "#"), (True, "#"), (True, "█▏")])
def test_the_columnar_path_reads_what_the_regex_path_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, noise: bool, bar: str
) -> None:
    monkeypatch.setattr(lines, "BLOCK", 1 << 14)  # many blocks, dicts and bars cut at their ends
    path = tmp_path / "train.log"
    _trainer_log(path, 6000, seed=1, noise=noise, bar=bar)
    regex = _frames(path, False, monkeypatch)
    calls: list[bool] = []
    read = columnar.read_columnar
    monkeypatch.setattr(columnar, "read_columnar", lambda *a, **k: calls.append((r := read(*a, **k)) is not None) or r)
    fast = _frames(path, True, monkeypatch)
    assert any(calls)  # the columnar path read blocks
    pd.testing.assert_frame_equal(regex[0], fast[0])
    pd.testing.assert_frame_equal(regex[1], fast[1])
    assert len(regex[0]) > 4 * 5000


def test_counters_in_other_digits_and_spaces_are_read_as_python_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "train.log"
    _trainer_log(path, 300, seed=2, noise=False, bar="█")
    text = path.read_text().replace("| 12/300", "|\u00a012/300").replace("| 15/300", "| \u0661\u0665/300")
    path.write_text(text.replace("{'loss': 1.9", "café {'loss': 1.9"))
    regex, fast = _frames(path, False, monkeypatch), _frames(path, True, monkeypatch)
    pd.testing.assert_frame_equal(regex[0], fast[0])
    pd.testing.assert_frame_equal(regex[1], fast[1])


def test_many_eval_bars_before_a_dict_do_not_stall_the_bulk_path(tmp_path: Path) -> None:
    # One regex over the whole chunk backtracked exponentially here (12 bars: 46 s; 60 bars: forever).
    out = []
    for step in range(1, 101):
        out.append(
            f"{{'loss': 1.0, 'grad_norm': 0.5, 'learning_rate': 1e-05, 'epoch': 0.1}}\n\r 1%|#| {step}/100 [00:01]"
        )
        if step % 50 == 0:
            out.append("\n" + "".join(f"\r {i}%|#| {i}/60 [00:00<00:02, 22.78it/s]" for i in range(60)))
            out.append("\r{'eval_loss': 1.5, 'eval_runtime': 1.0, 'epoch': 0.1}\n")
    path = tmp_path / "train.log"
    path.write_text("".join(out))
    began = time.perf_counter()
    metrics = console.parse(path, "train.log").metrics
    assert time.perf_counter() - began < 5
    assert metrics[metrics["split"] == "eval"]["step"].nunique() == 2


def test_without_pyarrow_the_regex_path_reads_large_logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # `import pyarrow` raises ImportError
    assert columnar.engine() is None
    path = tmp_path / "train.log"
    _trainer_log(path, 100, seed=3, noise=False)
    monkeypatch.setattr(columnar, "MIN_BYTES", 0)
    assert len(console.parse(path, "train.log").metrics) == 4 * 100
