"""The read-only promise, end to end: `analyze RUN -o REPORT` (the CLI, in a child process) leaves every file
of the run folder as it was (content, mtime, mode), creates nothing in it (not even for a moment: the
folders' mtimes are compared too), and writes the report and its plots only where -o says, outside."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.harness import REPO, SAMPLES, SEEDS


def snapshot(root: Path) -> dict[str, tuple[object, ...]]:
    """Every entry under root (hidden ones too), with type, mode, mtime (ns), size and content hash."""
    entries: dict[str, tuple[object, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath) / name
            info = path.lstat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if stat.S_ISREG(info.st_mode) else ""
            entries[path.relative_to(root).as_posix()] = (
                stat.S_IFMT(info.st_mode),
                stat.S_IMODE(info.st_mode),
                info.st_mtime_ns,
                info.st_size,
                digest,
            )
    entries["."] = (root.stat().st_mtime_ns,)
    return entries


def _mixed(dest: Path) -> Path:
    """One folder with an MLflow file store, an MLflow SQLite store and a Lightning CSVLogger run."""
    shutil.copytree(SEEDS / "mlflow_keras", dest)
    (dest / "mlflow.db").write_bytes(gzip.decompress((SEEDS / "mlflow.db.gz").read_bytes()))
    shutil.copytree(SEEDS / "lightning_stuck", dest / "lightning_logs" / "version_0")
    return dest


RUNS = {  # name -> (how to make the run folder, report file name)
    "hf_healthy": (lambda dest: shutil.copytree(SAMPLES / "hf_healthy", dest), "report.md"),
    "gpu_cuda_oom": (lambda dest: shutil.copytree(SAMPLES / "gpu_cuda_oom", dest), "report.html"),
    "torch_lr_schedule_too_short": (
        lambda dest: shutil.copytree(SAMPLES / "torch_lr_schedule_too_short", dest),
        "post-mortem.markdown",
    ),
    "mlflow_and_lightning": (_mixed, "report.json"),
}


@pytest.mark.parametrize("name", sorted(RUNS))
def test_analyze_writes_nothing_in_the_run_folder(name: str, tmp_path: Path) -> None:
    make, report_name = RUNS[name]
    run = tmp_path / "runs" / name
    make(run)
    out = tmp_path / "reports"
    out.mkdir()
    before = snapshot(run)
    done = subprocess.run(
        [sys.executable, "-m", "analyzer", str(run), "-o", str(out / report_name), "-q"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode in (0, 1), done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    after = snapshot(run)
    assert after.keys() == before.keys(), (
        f"new: {sorted(after.keys() - before.keys())}, gone: {sorted(before.keys() - after.keys())}"
    )
    changed = {k for k in before if before[k] != after[k]}
    assert not changed, changed
    assert (out / report_name).is_file() and (out / report_name).stat().st_size > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports", "runs"]  # nothing beside them either
    assert REPO not in run.parents
