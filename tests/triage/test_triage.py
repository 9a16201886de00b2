"""Triage of a folder of runs: discovery, error rows, the index and its documented queries, no writes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from analyzer.triage import Outcome, triage
from analyzer.triage.discover import discover
from analyzer.triage.worker import Options, default_analyse
from tests.triage.conftest import tree_state


def hang_aware(path: Path, options: Options) -> Any:
    """The real analysis, except that a run named hang_run never finishes and one named hog_run asks for
    4 GiB (pathological inputs)."""
    if path.name == "hang_run":
        time.sleep(120)
    if path.name == "stuck_run":  # deaf to the per-run alarm, as a loop inside C code would be
        import signal

        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(120)
    if path.name == "hog_run":
        hog = bytearray(4 << 30)
        return hog
    return default_analyse(path, options)


@pytest.fixture(scope="module")
def triaged(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Outcome, dict[str, Any]]:
    before = tree_state(corpus)
    db = tmp_path_factory.mktemp("index") / "triage.duckdb"
    outcome = triage([corpus], db, jobs=2, timeout=5.0, analyse=hang_aware)
    return db, outcome, before


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_discovery_finds_runs_not_their_parts(corpus: Path) -> None:
    keys = {Path(t.key).relative_to(corpus).as_posix(): t.kind for t in discover([corpus])}
    assert keys["team_a/hf_healthy"] == "folder"
    assert not any("checkpoint-" in k or "/wandb" in k or "/runs" in k for k in keys)  # parts of their run
    assert keys["archives/old_runs.tar.gz"] == "archive"
    assert keys["broken/empty"] == "error"
    assert "team_a" not in keys and "archives" not in keys  # folders of runs are not runs


def test_every_run_gets_a_row_and_broken_ones_say_why(triaged: tuple[Path, Outcome, dict[str, Any]]) -> None:
    db, outcome, _ = triaged
    got = {
        Path(run.split("!/")[0]).name + ("!/" + run.split("!/")[1] if "!/" in run else ""): (verdict, error)
        for run, verdict, error in rows(db, "SELECT run, verdict, error FROM runs")
    }
    assert got["hf_healthy"] == ("healthy", None)
    assert got["nan_1"][0] == got["nan_2"][0] == "loss_zero_grad_nan"
    assert got["hf_exception"][0] == "crash"
    assert got["old_runs.tar.gz!/old_runs/nan_run"][0] == "loss_zero_grad_nan"  # read from the archive
    assert got["old_runs.tar.gz!/old_runs/ok_run"] == ("healthy", None)
    assert got["zipped.zip!/lr_zero"][0] == "not_learning"
    errors = {name: error for name, (verdict, error) in got.items() if verdict == "error"}
    assert "hostile member path" in errors["hostile.tar.gz"] and "../../etc/passwd" in errors["hostile.tar.gz"]
    assert "trainer_state.json" in errors["corrupt"]
    assert "empty folder" in errors["empty"]
    assert "broken link" in errors["unreadable"]
    assert "per-run limit" in errors["hang_run"]
    assert set(errors) == {"hostile.tar.gz", "corrupt", "empty", "unreadable", "hang_run"}
    assert got["upgraded"][0] == "divergence"
    assert outcome.errors == 5 and outcome.analysed == len(got)


def test_nothing_under_the_triaged_folder_is_written(
    corpus: Path, triaged: tuple[Path, Outcome, dict[str, Any]]
) -> None:
    assert tree_state(corpus) == triaged[2]
    assert not (corpus.parent / "etc").exists() and not (corpus / "etc").exists()


def test_findings_and_problems_tables(triaged: tuple[Path, Outcome, dict[str, Any]]) -> None:
    db = triaged[0]
    first = rows(
        db,
        "SELECT f.failure_mode, f.severity, f.onset_step, f.cause_1 FROM findings f JOIN runs r "
        "USING (run) WHERE r.name = 'nan_1' AND f.position = 0",
    )
    assert first[0][0] == "loss_zero_grad_nan" and first[0][1] == "critical" and first[0][2] > 0 and first[0][3]
    problems = rows(db, "SELECT p.message FROM problems p JOIN runs r USING (run) WHERE r.name = 'hf_exception'")
    assert isinstance(problems, list)
    meta = rows(db, "SELECT precision, transformers, steps, host FROM runs WHERE name = 'hf_healthy'")[0]
    assert meta[0] == "fp32" and meta[1] and meta[2] == 60 and meta[3] == "vm"  # host from the tfevents name


README_QUERIES = Path(__file__).resolve().parents[2] / "README.md"


def documented_queries() -> dict[str, str]:
    """The example SQL of the README's triage section, by the comment line above each query."""
    text = README_QUERIES.read_text(encoding="utf-8")
    block = text.split("<!-- triage-queries -->")[1].split("<!-- /triage-queries -->")[0]
    sql = block.split("```sql")[1].split("```")[0]
    out: dict[str, str] = {}
    for part in sql.split(";"):
        lines = [line for line in part.strip().splitlines() if line.strip()]
        if lines:
            out[lines[0].lstrip("- ").strip()] = "\n".join(lines[1:])
    return out


def test_documented_queries_answer(triaged: tuple[Path, Outcome, dict[str, Any]]) -> None:
    db = triaged[0]
    queries = documented_queries()
    assert len(queries) >= 3
    answers = {title: rows(db, sql) for title, sql in queries.items()}
    by_week = next(v for k, v in answers.items() if "by week" in k)
    assert sum(r[-1] for r in by_week) >= 4 and all(r[0] is not None for r in by_week)
    on_node = next(v for k, v in answers.items() if "node" in k)
    assert any(r[0].endswith("hf_healthy") for r in on_node) and not any(r[0].endswith("cosine") for r in on_node)
    upgraded = next(v for k, v in answers.items() if "upgrading transformers" in k)
    assert [(Path(r[0]).name, r[2], r[3]) for r in upgraded] == [("upgraded", "5.99.0", "divergence")]
    unreadable = next(v for k, v in answers.items() if "could not be read" in k)
    assert len(unreadable) == 5


def test_groups_runs_that_fail_alike(triaged: tuple[Path, Outcome, dict[str, Any]]) -> None:
    from analyzer.triage.index import Index
    from analyzer.triage.summary import collect, render_markdown

    index = Index(triaged[0])
    try:
        summary = collect(index, triaged[1].roots)
    finally:
        index.close()
    nan = [g for g in summary.groups if g.signature["verdict"] == "loss_zero_grad_nan"]
    names = sorted(Path(r.split("!/")[-1]).name for r in nan[0].runs)
    assert names == ["nan_1", "nan_2", "nan_run"]
    assert nan[0].signature["first_nonfinite"] == "train/grad_norm"
    text = render_markdown(summary)
    assert "## Groups" in text and "3 runs: loss_zero_grad_nan (bad-batch)" in text
    assert "## Could not be read (5)" in text and "hostile member path" in text
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark").enable("table").render(text)  # a run's name is text, never markup
    assert "[pwn]" in html and "<b>" not in html and "href" not in html


def test_cli_triage_writes_summary_exports_and_refuses_writes_inside(corpus: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "analyzer", "triage", str(corpus / "team_b"), "--jobs", "1"]
    files = ["-o", str(tmp_path / "s.md"), "--export", str(tmp_path / "r.csv"), "--reports", str(tmp_path / "pm")]
    out = subprocess.run(
        [*cmd, "--db", str(tmp_path / "i.duckdb"), *files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1, out.stderr  # failing runs found
    assert "3 runs:" in out.stdout and "loss_zero_grad_nan" in out.stdout
    assert "## Verdicts" in (tmp_path / "s.md").read_text()
    table = (tmp_path / "r.csv").read_text().splitlines()
    assert len(table) == 4 and table[0].startswith("run,target,root")
    assert (tmp_path / "r_findings.csv").exists()
    reports = sorted(p.name for p in (tmp_path / "pm").iterdir())  # one post-mortem per failing run
    assert len(reports) == 2 and all(name.endswith(".md") for name in reports)
    assert "loss_zero_grad_nan" in next((tmp_path / "pm").glob("*nan_2.md")).read_text()
    with (tmp_path / "runs.parquet").open("wb") as sink:  # the runs table as parquet on stdout, from the index
        subprocess.run([*cmd, "--db", str(tmp_path / "i.duckdb"), "--format", "parquet"], stdout=sink, check=False)
    assert rows(tmp_path / "i.duckdb", f"SELECT count(*) FROM '{tmp_path / 'runs.parquet'}'") == [(3,)]
    refused = subprocess.run([*cmd, "--db", str(corpus / "team_b" / "x.duckdb")], capture_output=True, text=True)
    assert refused.returncode == 2 and "inside a triaged folder" in refused.stderr
    assert not (corpus / "team_b" / "x.duckdb").exists()
    (tmp_path / "bad.duckdb").write_text("not an index")
    bad = subprocess.run([*cmd, "--db", str(tmp_path / "bad.duckdb")], capture_output=True, text=True)
    assert bad.returncode == 2 and "cannot use the index" in bad.stderr and "Traceback" not in bad.stderr


def test_real_runs_triage_as_they_analyse_alone(tmp_path: Path) -> None:
    from analyzer.api import analyze
    from tests.conftest import CASES

    if not CASES.is_dir():
        pytest.skip("../shared/real_logs not available")
    cases = sorted(CASES.iterdir())
    assert len([t for t in discover([CASES]) if t.kind == "folder"]) == len([c for c in cases if c.is_dir()])
    picked = tmp_path / "picked"
    picked.mkdir()
    for case in cases[::12]:  # a spread of formats and failures, linked into one folder of runs
        (picked / case.name).symlink_to(case)
    outcome = triage([picked], tmp_path / "i.duckdb", jobs=2)
    got = dict(rows(tmp_path / "i.duckdb", "SELECT name, verdict FROM runs"))
    assert outcome.found == len(got) == len(cases[::12])
    for case in cases[::12]:
        try:
            alone = analyze(case).verdict
        except Exception:
            alone = "error"
        assert got[case.name] == alone, case.name


def test_a_run_past_the_memory_limit_is_an_error_row(tmp_path: Path) -> None:
    from tests.triage.conftest import copy_run

    copy_run("hf_healthy", tmp_path / "runs" / "hog_run", only=("trainer_state.json",))
    copy_run("hf_lr_zero", tmp_path / "runs" / "fine", only=("trainer_state.json",))
    outcome = triage([tmp_path / "runs"], tmp_path / "i.duckdb", jobs=1, memory_mb=512, analyse=hang_aware)
    got = dict(rows(tmp_path / "i.duckdb", "SELECT name, coalesce(error, verdict) FROM runs"))
    assert outcome.errors == 1 and "out of memory" in got["hog_run"] and got["fine"] == "not_learning"


def test_a_worker_stuck_past_the_alarm_is_killed_and_the_batch_goes_on(tmp_path: Path) -> None:
    from tests.triage.conftest import copy_run

    for name in ("stuck_run", "a_fine", "z_fine"):
        copy_run("hf_lr_zero", tmp_path / "runs" / name, only=("trainer_state.json",))
    start = time.monotonic()
    outcome = triage([tmp_path / "runs"], tmp_path / "i.duckdb", jobs=1, timeout=1, grace=3, analyse=hang_aware)
    got = dict(rows(tmp_path / "i.duckdb", "SELECT name, coalesce(error, verdict) FROM runs"))
    assert "stopped answering and was killed" in got["stuck_run"]
    assert got["a_fine"] == got["z_fine"] == "not_learning" and outcome.errors == 1
    assert time.monotonic() - start < 60


def test_a_group_names_the_setting_that_sets_it_apart(triaged: tuple[Path, Outcome, dict[str, Any]]) -> None:
    from analyzer.triage.groups import find_groups
    from analyzer.triage.index import Index

    index = Index(triaged[0])
    try:
        runs = index.frame("SELECT * FROM runs")
    finally:
        index.close()
    nan = runs["verdict"] == "loss_zero_grad_nan"
    runs.loc[nan, "transformers"] = "9.9.0"  # as if these runs had been made after an upgrade
    runs.loc[nan, "precision"] = "bf16"
    group = next(g for g in find_groups(runs) if g.signature["verdict"] == "loss_zero_grad_nan")
    assert group.shared["transformers"] == "9.9.0" and group.shared["precision"] == "bf16"
    assert ("transformers", "9.9.0", "5.23.0") in group.differs and ("precision", "bf16", "fp32") in group.differs
    assert "healthy runs of any model use precision fp32, transformers 5.23.0" in group.sentence()
