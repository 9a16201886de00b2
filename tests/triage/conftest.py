"""A folder of runs built from sample_logs/: healthy and failing runs, archives, and broken inputs."""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from tests.conftest import SAMPLES

HOSTILE_NAME = "[pwn](javascript:alert(1)) <b>x</b> `t`"  # a run folder named to inject markup


def copy_run(name: str, dest: Path, only: tuple[str, ...] = ()) -> Path:
    """A sample run copied to dest (only some of its files when `only` names them)."""
    if only:
        dest.mkdir(parents=True)
        for file in only:
            shutil.copy2(SAMPLES / name / file, dest / file)
    else:
        shutil.copytree(SAMPLES / name, dest, symlinks=True)
    return dest


def tar_gz(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = int(time.time())
            tf.addfile(info, io.BytesIO(data))
    return path


def build_corpus(root: Path) -> Path:
    """runs/ with nested teams, a run twice failing the same way, archives, and every kind of broken run."""
    runs = root / "runs"
    copy_run("hf_healthy", runs / "team_a" / "hf_healthy")
    copy_run("hf_lr_too_high", runs / "team_a" / HOSTILE_NAME, only=("trainer_state.json",))
    copy_run("hf_nan_loss_filtered", runs / "team_a" / "nan_1")
    copy_run("hf_nan_loss_filtered", runs / "team_b" / "nan_2", only=("trainer_state.json", "nohup.out"))
    copy_run("hf_exception", runs / "team_b" / "hf_exception", only=("nohup.out",))
    copy_run("hf_healthy_cosine_restarts", runs / "team_b" / "cosine", only=("trainer_state.json",))
    upgraded = copy_run("hf_lr_too_high", runs / "team_c" / "upgraded", only=("trainer_state.json", "config.json"))
    config = (upgraded / "config.json").read_text()
    assert '"transformers_version": "5.23.0"' in config
    (upgraded / "config.json").write_text(config.replace('"5.23.0"', '"5.99.0"'))  # a later library version
    state = (SAMPLES / "hf_nan_loss_filtered" / "trainer_state.json").read_bytes()
    healthy = (SAMPLES / "hf_healthy" / "trainer_state.json").read_bytes()
    archives = runs / "archives"
    archives.mkdir()
    tar_gz(
        archives / "old_runs.tar.gz",
        {"old_runs/nan_run/trainer_state.json": state, "old_runs/ok_run/trainer_state.json": healthy},
    )
    with zipfile.ZipFile(archives / "zipped.zip", "w") as zf:
        zf.writestr("lr_zero/trainer_state.json", (SAMPLES / "hf_lr_zero" / "trainer_state.json").read_bytes())
    tar_gz(archives / "hostile.tar.gz", {"run/trainer_state.json": healthy, "../../etc/passwd": b"root:x:0:0\n"})
    broken = runs / "broken"
    (broken / "corrupt").mkdir(parents=True)
    (broken / "corrupt" / "trainer_state.json").write_bytes(state[: len(state) // 3])
    (broken / "empty").mkdir()
    (broken / "unreadable").mkdir()
    os.symlink(root / "missing" / "trainer_state.json", broken / "unreadable" / "trainer_state.json")
    copy_run("hf_healthy", broken / "hang_run", only=("trainer_state.json",))
    return runs


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_corpus(tmp_path_factory.mktemp("triage"))


def tree_state(root: Path) -> dict[str, tuple[str, int, int]]:
    """Every entry under root (folders and links too) with its type, size and mtime: proof of no writes."""
    import hashlib

    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = path.lstat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() and not path.is_symlink() else ""
            out[path.relative_to(root).as_posix()] = (digest, st.st_size, st.st_mtime_ns)
    return out
