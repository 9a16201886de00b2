"""Links and special files in a run folder: each gets its own true message, and the policy on links
that leave the run folder (folders followed, files not) holds."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

from analyzer.ingest import ingest
from tests.conftest import sample

STATE = sample("hf_healthy") / "trainer_state.json"


def messages(root: Path) -> dict[str, str]:
    return {p.path: p.message for p in ingest(root).problems}


def test_broken_link_is_named_as_such(tmp_path: Path) -> None:
    shutil.copy(STATE, tmp_path / "trainer_state.json")
    (tmp_path / "debug-core.log").symlink_to("/nonexistent/.cache/wandb/logs/core-debug.log")
    got = messages(tmp_path)
    assert got["debug-core.log"] == (
        "broken link to /nonexistent/.cache/wandb/logs/core-debug.log: the target does not exist, not read"
    )
    assert "permission" not in " ".join(got.values())


def test_link_loop_is_named_as_such(tmp_path: Path) -> None:
    shutil.copy(STATE, tmp_path / "trainer_state.json")
    (tmp_path / "a.log").symlink_to(tmp_path / "b.log")
    (tmp_path / "b.log").symlink_to(tmp_path / "a.log")
    got = messages(tmp_path)
    assert got["a.log"].startswith("link loop")
    assert got["b.log"].startswith("link loop")


def test_file_link_leaving_the_run_folder_is_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    secret = outside / "passwd"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    run = tmp_path / "run"
    run.mkdir()
    (run / "trainer_state.json").symlink_to(secret)
    got = ingest(run)
    assert [p.message for p in got.problems] == [f"link leaves the run folder (to {secret.resolve()}): not read"]
    assert not got.frames


def test_folder_link_leaving_the_run_folder_is_followed(tmp_path: Path) -> None:
    disk = tmp_path / "other_disk" / "checkpoint-60"
    disk.mkdir(parents=True)
    shutil.copy(STATE, disk / "trainer_state.json")
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint-60").symlink_to(disk)
    got = ingest(run)
    assert [name for name, _ in got.frames] == ["hf_trainer_state"]
    assert got.sources[0].path == "checkpoint-60/trainer_state.json"
    assert not got.problems


def test_link_inside_the_run_is_not_read_twice(tmp_path: Path) -> None:
    real = tmp_path / "wandb" / "run-1"
    real.mkdir(parents=True)
    shutil.copy(STATE, real / "trainer_state.json")
    (tmp_path / "wandb" / "latest-run").symlink_to("run-1")  # as W&B links it
    got = ingest(tmp_path)
    assert [s.path for s in got.sources] == ["wandb/run-1/trainer_state.json"]


def test_a_file_given_directly_is_read_wherever_its_link_points(tmp_path: Path) -> None:
    (tmp_path / "state.json").symlink_to(STATE)
    got = ingest(tmp_path / "state.json")
    assert [name for name, _ in got.frames] == ["hf_trainer_state"]


def test_a_fifo_is_reported_and_never_opened(tmp_path: Path) -> None:
    shutil.copy(STATE, tmp_path / "trainer_state.json")
    os.mkfifo(tmp_path / "pipe.log")
    result: list[dict[str, str]] = []
    worker = threading.Thread(target=lambda: result.append(messages(tmp_path)), daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert result, "ingest blocked on a FIFO"
    assert result[0]["pipe.log"] == "not a regular file (a FIFO, socket or device): not read"
