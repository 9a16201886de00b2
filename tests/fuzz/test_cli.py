"""The command line on damaged input, in a child process: exit 0, 1 or 3, never a traceback or an internal
error; exit 3 names what could not be read. A handful of runs (each starts Python): the mutated files come
from a fixed random seed, the same mutations the hypothesis tests draw from."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

from tests.fuzz.harness import READERS, REPO


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "ANALYZER_DEBUG"}
    return subprocess.run(
        [sys.executable, "-m", "analyzer", *args], capture_output=True, text=True, timeout=300, cwd=REPO, env=env
    )


def _clean(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode in (0, 1, 3), (done.returncode, done.stderr[-3000:])
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr[-3000:]


def _damage(data: bytes, rng: random.Random) -> bytes:
    """Cut, flipped or spliced, as the fuzz tests do."""
    if not data:
        return bytes(rng.randrange(256) for _ in range(64))
    kind = rng.choice(("truncate", "flip", "splice"))
    if kind == "truncate":
        return data[: rng.randrange(len(data))]
    if kind == "flip":
        out = bytearray(data)
        for _ in range(rng.randint(1, 16)):
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
        return bytes(out)
    start = rng.randrange(len(data))
    return data[:start] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 64))) + data[start + 64 :]


def test_every_reader_damaged_in_one_folder(tmp_path: Path) -> None:
    """Every seed run of every reader side by side, each with every target damaged: one report."""
    rng = random.Random(16)
    for reader, seeds in READERS.items():
        for seed in seeds:
            run = seed.build(tmp_path / reader / seed.name)
            for target in seed.targets:
                (run / target).write_bytes(_damage(seed.data(target), rng))
    done = _cli(str(tmp_path), "-f", "json")
    _clean(done)
    assert done.stdout.lstrip().startswith("{")


def test_damaged_files_given_directly(tmp_path: Path) -> None:
    """`analyze FILE` on one damaged file of each kind (one run of the CLI per file would take too long: the
    files go in one at a time through the first reader's seeds)."""
    rng = random.Random(3)
    for reader in ("hf_trainer_state", "llamafactory_jsonl", "wandb_csv"):
        seed = READERS[reader][0]
        path = tmp_path / reader / Path(seed.targets[0]).name
        path.parent.mkdir()
        path.write_bytes(_damage(seed.data(seed.targets[0]), rng))
        done = _cli(str(path), "-q")
        _clean(done)


def test_nothing_readable_is_exit_3_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "trainer_state.json").write_bytes(b'{"log_history": [{"step": 1, "loss": ')
    done = _cli(str(tmp_path))
    assert done.returncode == 3 and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[0].startswith("error: trainer_state.json:")
    assert done.stderr.splitlines()[-1].startswith(f"error: nothing readable under {tmp_path}")
