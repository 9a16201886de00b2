"""Shared fixtures: the bundled samples, the shared real-log corpus (skipped when absent)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_logs"
SHARED = REPO.parent / "shared" / "real_logs"
ARTIFACTS = SHARED / "artifacts"
CASES = SHARED / "cases"


def artifact(name: str) -> Path:
    """A folder of ../shared/real_logs/artifacts by its number prefix; skips when the corpus is absent."""
    matches = sorted(ARTIFACTS.glob(f"{name}*")) if ARTIFACTS.is_dir() else []
    if not matches:
        pytest.skip(f"../shared/real_logs/artifacts/{name}* not available")
    return matches[0]


def case(name: str) -> Path:
    """A folder of ../shared/real_logs/cases by its number prefix; skips when the corpus is absent."""
    matches = sorted(CASES.glob(f"{name}*")) if CASES.is_dir() else []
    if not matches:
        pytest.skip(f"../shared/real_logs/cases/{name}* not available")
    return matches[0]


def sample(name: str) -> Path:
    """A bundled sample run (sample_logs/<name>)."""
    path = SAMPLES / name
    assert path.is_dir(), f"missing sample {path}"
    return path


def tree_digest(root: Path) -> dict[str, tuple[str, float]]:
    """Content hash and mtime of every file under root: proof that nothing was written."""
    return {
        p.relative_to(root).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def copy_sample(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Copy a sample run into tmp_path so a test can alter it."""

    def _copy(name: str) -> Path:
        dest = tmp_path / name
        shutil.copytree(sample(name), dest)
        return dest

    return _copy
