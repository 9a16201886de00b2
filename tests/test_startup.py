"""Start-up stays cheap: what `--help` and a small run import (timings are in benchmarks/startup.py)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

from analyzer.ingest import PRIORITY, REGISTRY
from tests.conftest import REPO, sample


def imported_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nimport json; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=True)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_registry_names_are_the_readers_own() -> None:
    for module, name in REGISTRY:
        assert importlib.import_module(f"analyzer.ingest.{module}").name == name
    assert list(PRIORITY) == [name for _, name in REGISTRY]


def test_help_imports_no_analysis_library() -> None:
    code = "from analyzer.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    loaded = imported_after(code)
    assert not loaded & {"pandas", "numpy", "scipy", "matplotlib", "yaml", "analyzer.api", "analyzer.ingest"}


def test_one_trainer_state_imports_only_its_reader() -> None:
    path = sample("hf_healthy") / "trainer_state.json"
    code = f"from analyzer.cli import main\ntry:\n    main([{str(path)!r}, '-q'])\nexcept SystemExit:\n    pass"
    loaded = imported_after(code)
    assert "analyzer.ingest.hf_state" in loaded
    heavy = {
        "scipy",
        "matplotlib",
        "tensorboard",
        "wandb",
        "google.protobuf",
        "markdown_it",
        "nh3",
        "pydantic",
        "analyzer.ingest.console",
        "analyzer.ingest.tensorboard",
        "analyzer.ingest.wandb_run",
    }
    assert not loaded & heavy, loaded & heavy


def test_a_memory_series_that_does_not_leak_needs_no_trend_fit() -> None:
    """The OOM sample's memory climbs to its crash but not steadily: the cheap tests of memory_growth
    decide it, and scipy.stats (0.8 s to import, once in every triage worker) is never loaded."""
    code = f"from analyzer.api import analyze\nanalyze({str(sample('gpu_cuda_oom') / 'nohup.out')!r}, signals=False)"
    assert "scipy.stats" not in imported_after(code)
