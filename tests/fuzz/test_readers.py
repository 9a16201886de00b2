"""Every reader of analyzer/ingest fed real files that were truncated, bit-flipped, spliced or replaced by
arbitrary bytes, through the public path (`analyzer.analyze(run_folder)` and the renderers): the outcome is
always a report or NothingReadable, in bounded time and memory (tests/fuzz/harness.py).

Set FUZZ_CRASH_DIR to keep each failing input as a run folder with its traceback (the last one written
for a test is hypothesis's shrunk example); a fixed one goes to tests/fuzz/regressions/.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analyzer.ingest import ingest
from tests.fuzz.harness import (
    READERS,
    REGRESSIONS,
    Seed,
    TooSlow,
    bounded,
    check_clean,
    mutated,
    mutated_records,
)


def _keep_crash(reader: str, seed: Seed, run: Path, target: str) -> None:
    folder = os.environ.get("FUZZ_CRASH_DIR")
    if not folder:
        return
    digest = hashlib.sha256((run / target).read_bytes()).hexdigest()[:10]
    dest = Path(folder) / f"{reader}-{seed.name}-{digest}"
    shutil.copytree(run, dest / "run", dirs_exist_ok=True)
    (dest / "target.txt").write_text(target + "\n")
    (dest / "traceback.txt").write_text(traceback.format_exc())


@pytest.mark.parametrize("reader", sorted(READERS))
@given(data=st.data())
def test_mutated_real_files_end_cleanly(reader: str, data: st.DataObject) -> None:
    seed = data.draw(st.sampled_from(READERS[reader]), label="seed")
    target = data.draw(st.sampled_from(seed.targets), label="target")
    original = seed.data(target)
    under_checksums = bool(seed.codec) and data.draw(st.booleans(), label="records under checksums")
    content = data.draw(
        mutated_records(original, seed.codec) if under_checksums else mutated(original), label="content"
    )
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        run = seed.build(Path(tmp) / "run")
        (run / target).write_bytes(content)
        try:
            check_clean(run, reader)
        except Exception:
            _keep_crash(reader, seed, run, target)
            raise


@pytest.mark.parametrize("reader", sorted(READERS))
def test_seeds_are_read(reader: str, tmp_path: Path) -> None:
    """The unmutated seeds are read without a failure: the mutations start from readable files. (Seeds of
    settings only, configs or training_args.bin, are NothingReadable on their own: no training metrics.)"""
    for seed in READERS[reader]:
        run = seed.build(tmp_path / seed.name)
        check_clean(run)
        sources = ingest(run).sources
        assert sources and not [s for s in sources if s.status == "failed"], (seed.name, sources)


def _regressions() -> list[Path]:
    return sorted(p for p in REGRESSIONS.iterdir() if p.is_dir()) if REGRESSIONS.is_dir() else []


@pytest.mark.parametrize("case", _regressions(), ids=lambda p: p.name)
def test_regression_inputs_end_cleanly(case: Path, tmp_path: Path) -> None:
    """Every input that once crashed a reader (tests/fuzz/regressions/<case>/, a run folder) now ends cleanly."""
    run = tmp_path / case.name
    shutil.copytree(case, run)
    check_clean(run, "regression")


def test_the_bounds_hold() -> None:
    """The harness's safety net itself: past its time a TooSlow, past its address space a MemoryError (Linux),
    and both limits lifted afterwards."""
    with pytest.raises(TooSlow), bounded(seconds=0.2):
        time.sleep(5)
    if sys.platform == "linux":
        with pytest.raises(MemoryError), bounded(memory=256 << 20):
            bytearray(1 << 30)
    assert len(bytearray(1 << 30)) == 1 << 30
