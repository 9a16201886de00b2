"""The checkout itself: nothing in it may depend on the machine it was made on."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def tracked_links() -> list[Path]:
    """Every symlink git tracks (mode 120000)."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(["git", "ls-files", "-s"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [ROOT / line.split("\t", 1)[1] for line in out.splitlines() if line.startswith("120000 ")]


def test_no_tracked_link_dangles_or_leaves_the_repository() -> None:
    bad = []
    for link in tracked_links():
        target = link.resolve()
        if not target.exists():
            bad.append(f"{link.relative_to(ROOT)} -> {link.readlink()} (dangles)")
        elif not target.is_relative_to(ROOT):
            bad.append(f"{link.relative_to(ROOT)} -> {target} (leaves the repository)")
    assert not bad, "\n".join(bad)
