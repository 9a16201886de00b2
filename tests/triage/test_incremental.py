"""A second triage re-analyses only what changed: files (size/mtime, then bytes), or the rules and version."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest

import analyzer
from analyzer.triage import triage
from tests.conftest import SAMPLES
from tests.triage.conftest import copy_run, tar_gz


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    copy_run("hf_healthy", root / "ok", only=("trainer_state.json",))
    copy_run("hf_nan_loss_filtered", root / "nan", only=("trainer_state.json", "nohup.out"))
    copy_run("hf_lr_zero", root / "lr_zero", only=("trainer_state.json",))
    tar_gz(root / "packed.tar.gz", {"x/trainer_state.json": (root / "ok" / "trainer_state.json").read_bytes()})
    return root


def verdicts(db: Path) -> dict[str, tuple[str, str]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {
            Path(r).name: (v, str(t))
            for r, v, t in con.execute("SELECT run, verdict, analysed_at FROM runs").fetchall()
        }


def test_second_pass_skips_unchanged_and_reanalyses_changes(
    runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "index.duckdb"
    first = triage([runs], db, jobs=1)
    assert (first.found, first.analysed, first.unchanged) == (4, 4, 0)
    before = verdicts(db)
    again = triage([runs], db, jobs=1)
    assert (again.analysed, again.unchanged) == (0, 4)
    assert verdicts(db) == before  # rows kept as they were

    state = runs / "ok" / "trainer_state.json"
    os.utime(state, (state.stat().st_atime, state.stat().st_mtime + 100))  # touched, same bytes
    touched = triage([runs], db, jobs=1)
    assert (touched.analysed, touched.touched) == (0, 1)

    nan_state = runs / "nan" / "trainer_state.json"  # the NaN steps replaced by the healthy run's history
    nan_state.write_bytes(state.read_bytes())
    (runs / "nan" / "nohup.out").unlink()
    changed = triage([runs], db, jobs=1)
    assert changed.analysed == 1 and changed.unchanged == 3
    assert verdicts(db)["nan"][0] == "healthy" and before["nan"][0] == "loss_zero_grad_nan"

    from analyzer.triage import index

    grammars = tmp_path / "grammars.yaml"  # new console line grammars: only the run with a console log again
    grammars.write_bytes(index.grammar_file().read_bytes() + b"\n# one more comment\n")
    monkeypatch.setattr(index, "grammar_file", lambda: grammars)
    regrammared = triage([runs], db, jobs=1)
    assert regrammared.analysed == 0  # "nan" lost its console log above: none reads one now
    shutil.copy(SAMPLES / "hf_exception" / "nohup.out", runs / "ok" / "nohup.out")
    grammars.write_bytes(grammars.read_bytes() + b"# and another\n")
    assert triage([runs], db, jobs=1).analysed == 1  # "ok" changed: analysed, with its console log
    grammars.write_bytes(grammars.read_bytes() + b"# a third\n")
    again = triage([runs], db, jobs=1)
    assert again.analysed == 1 and again.unchanged == 3  # only "ok" reads a console log

    monkeypatch.setattr(analyzer, "__version__", analyzer.__version__ + "+next")  # an upgrade: all again
    upgraded = triage([runs], db, jobs=1)
    assert upgraded.analysed == 4 and upgraded.unchanged == 0

    shutil.rmtree(runs / "lr_zero")  # a run that is gone leaves the index
    pruned = triage([runs], db, jobs=1)
    assert pruned.pruned == 1 and "lr_zero" not in verdicts(db)


def test_a_rule_folder_changes_the_fingerprint(tmp_path: Path) -> None:
    from analyzer.rules import builtin_rules_dir
    from analyzer.triage.index import fingerprint

    extra = tmp_path / "rules"
    extra.mkdir()
    base = fingerprint([extra])
    rule = sorted(builtin_rules_dir().glob("*.yaml"))[0]
    (extra / "mine.yaml").write_text(rule.read_text().replace("id: ", "id: my-", 1))
    assert fingerprint([extra]).core != base.core and fingerprint([]) == base
    assert fingerprint([extra]).grammars == base.grammars


def test_an_index_from_another_version_is_rebuilt(runs: Path, tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE runs (run VARCHAR, verdict VARCHAR)")
        con.execute("INSERT INTO runs VALUES ('/somewhere/else', 'healthy')")
    outcome = triage([runs], db, jobs=1)
    assert outcome.analysed == 4 and len(verdicts(db)) == 4


def test_a_second_pass_finds_unchanged_runs_without_sniffing_their_files(
    runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    discover = importlib.import_module("analyzer.triage.discover")  # the module (the package exports its function)
    db = tmp_path / "index.duckdb"
    triage([runs], db, jobs=1)
    sniffed: list[str] = []
    real = discover._recognised

    def counting(file: Path) -> bool:
        sniffed.append(file.parent.name)
        return real(file)

    monkeypatch.setattr(discover, "_recognised", counting)
    again = triage([runs], db, jobs=1)
    assert (again.found, again.analysed, again.unchanged) == (4, 0, 4) and sniffed == []
    (runs / "ok" / "notes.txt").write_text("a file added to one run\n")  # its listing changed: sniffed again
    changed = triage([runs], db, jobs=1)
    assert set(sniffed) == {"ok"} and changed.found == 4
