"""MLflow file store and SQLite store: runs written by the real mlflow client, a published run, broken files."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import math
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from analyzer import analyze
from analyzer.errors import Problem
from analyzer.ingest import detect, ingest, mlflow_store
from analyzer.ingest.base import read_head
from analyzer.model import Frames, Run
from tests.conftest import artifact, tree_digest

LOSS = [2.5, 0.1 + 0.2, 1 / 3, 1e-300, math.nan, math.inf, -math.inf, 7.25]
T0 = 1_700_000_000_000
ORDER = ["crashed", "killed", "running", "healthy"]  # by start time: the healthy run is the newest

# Four runs per store through the real client, oldest first: one that an exception ends (FAILED), one ended
# as KILLED, one never ended (RUNNING), and a healthy one (NaN and ±inf included), the newest, so that
# analyzing the whole store analyzes it.
WRITE = textwrap.dedent(f"""
    import json, math, sys, time
    import mlflow
    from mlflow import MlflowClient

    LOSS = [2.5, 0.1 + 0.2, 1 / 3, 1e-300, math.nan, math.inf, -math.inf, 7.25]
    ids = {{}}
    for store, uri in (("file", sys.argv[1]), ("sqlite", sys.argv[2])):
        mlflow.set_tracking_uri(uri)
        runs = ids[store] = {{}}
        try:
            with mlflow.start_run(run_name="crashed") as run:
                runs["crashed"] = run.info.run_id
                mlflow.log_params({{"lr": 0.01, "fp16": True}})
                mlflow.log_metric("loss", 1.5, step=3)
                raise RuntimeError("boom")
        except RuntimeError:
            pass
        time.sleep(0.01)  # start times are in ms: keep the order strict
        with mlflow.start_run(run_name="killed") as run:
            runs["killed"] = run.info.run_id
            mlflow.log_metric("loss", 1.0, step=1)
            mlflow.end_run(status="KILLED")
        time.sleep(0.01)
        client = MlflowClient()
        running = client.create_run(experiment_id="0", run_name="running")
        client.log_metric(running.info.run_id, "loss", 4.0, step=2)
        runs["running"] = running.info.run_id
        time.sleep(0.01)
        with mlflow.start_run(run_name="healthy") as run:
            mlflow.log_params({{"learning_rate": 3e-4, "per_device_train_batch_size": 8, "bf16": True, "fp16": False}})
            for step, value in enumerate(LOSS):
                mlflow.log_metric("train/loss", value, step=step, timestamp={T0} + 1000 * step)
            mlflow.log_metric("eval_loss", 0.75, step=7, timestamp={T0} + 7500)
            mlflow.set_tag("team", "x")
            runs["healthy"] = run.info.run_id
    json.dump(ids, open(sys.argv[3], "w"))
""")

Stores = tuple[Path, dict[str, dict[str, str]]]

# Per run: MLflow status, the event it becomes, its step (the last metric step), the run's status.
OUTCOMES = {
    "healthy": ("FINISHED", "run_end", 7, "completed"),
    "crashed": ("FAILED", "exception", 3, "crashed"),
    "killed": ("KILLED", "signal", 1, "crashed"),
    "running": ("RUNNING", "run_incomplete", 2, "unknown"),
}
CRASH_RULE = "training-crashed-with-exception"


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Stores:
    """A folder with `mlruns/` and `mlflow.db` written by the real client, and the run ids by store and name."""
    if any(importlib.util.find_spec(m) is None for m in ("mlflow", "sqlalchemy", "alembic")):
        pytest.skip("mlflow, sqlalchemy and alembic are needed to write the stores")
    root = tmp_path_factory.mktemp("mlflow")
    (root / "write.py").write_text(WRITE)
    env = {**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true"}  # mlflow 3 refuses a new file store otherwise
    subprocess.run(
        [sys.executable, "write.py", f"file:{root / 'mlruns'}", f"sqlite:///{root / 'mlflow.db'}", "ids.json"],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return root, json.loads((root / "ids.json").read_text())


def _same(values: list[float], expected: list[float]) -> bool:
    return len(values) == len(expected) and all(
        a == b or (math.isnan(a) and math.isnan(b)) for a, b in zip(values, expected, strict=True)
    )


def _input_problems(run: Run) -> list[Problem]:
    """Problems about what was read (rule-library problems carry the rule file's absolute path)."""
    return [p for p in run.problems if not Path(p.path).is_absolute()]


def _superseded_note(newest: str, where: str) -> str:
    return f"another MLflow run in the same store; only the newest ({newest}) is analyzed: {where} to analyze this one"


def test_file_store_run_round_trips(stores: Stores):
    root, ids = stores
    run_id = ids["file"]["healthy"]
    run = analyze(root / "mlruns" / "0" / run_id).run
    loss = run.metrics[(run.metrics["split"] == "train") & (run.metrics["metric"] == "loss")]
    assert _same(list(loss["value"]), LOSS) and list(loss["step"]) == list(range(8))
    assert list(loss["wall_time"]) == [T0 / 1000 + s for s in range(8)]
    assert set(loss["source"]) == {"metrics/train/loss"} and list(loss["line"]) == list(range(1, 9))
    assert run.series("loss", "eval").to_dict() == {7: 0.75}
    assert [(s.path, s.format, s.rows, s.status) for s in run.sources] == [(run_id, "mlflow", 9, "read")]
    section = run.meta["mlflow"]
    assert section["status"] == "FINISHED" and section["run_name"] == "healthy" and section["store"] == "file"
    assert section["params"] == {
        "learning_rate": "0.0003",
        "per_device_train_batch_size": "8",
        "bf16": "True",
        "fp16": "False",
    }
    assert section["settings"] == {
        "learning_rate": 3e-4,
        "per_device_train_batch_size": 8,
        "precision": "bf16",
        "precision_source": "mlflow params.bf16",
    }
    assert section["tags"]["team"] == "x"
    assert section["end_time"] > section["start_time"] > 1.7e9
    assert list(section["runs"]) == [run_id]
    # derive_meta takes the MLflow params when no Trainer file gives the settings
    assert (run.meta["learning_rate"], run.meta["per_device_train_batch_size"]) == (3e-4, 8)
    assert (run.meta["precision"], run.meta["precision_source"]) == ("bf16", "mlflow params.bf16")
    assert (run.meta["status"], run.meta["status_reason"]) == ("completed", "MLflow recorded the run as FINISHED")
    events = run.events
    assert list(events["kind"]) == ["run_end"] and events["source"].iloc[0] == "meta.yaml"
    assert not _input_problems(run) and "ignored_files" not in run.meta


@pytest.mark.parametrize("name", ORDER)
def test_file_store_run_folder_reports_how_the_run_ended(stores: Stores, name: str):
    root, ids = stores
    run_id = ids["file"][name]
    mlflow_status, kind, step, status = OUTCOMES[name]
    report = analyze(root / "mlruns" / "0" / run_id)
    run = report.run
    assert [(s.path, s.format, s.status) for s in run.sources] == [(run_id, "mlflow", "read")]
    assert run.meta["mlflow"]["status"] == mlflow_status and run.meta["mlflow"]["run_name"] == name
    assert [(e.kind, e.step, e.source) for e in run.events.itertuples()] == [(kind, step, "meta.yaml")]
    assert run.meta["status"] == status and mlflow_status in run.meta["status_reason"]
    assert (CRASH_RULE in {f.rule_id for f in report.findings}) is (status == "crashed")
    assert not _input_problems(run)


def test_file_store_settings_come_from_each_runs_own_params(stores: Stores):
    root, ids = stores
    crashed = analyze(root / "mlruns" / "0" / ids["file"]["crashed"]).run
    assert (crashed.meta["learning_rate"], crashed.meta["precision"]) == (0.01, "fp16")  # params lr, fp16
    assert crashed.meta["precision_source"] == "mlflow params.fp16"
    killed = analyze(root / "mlruns" / "0" / ids["file"]["killed"]).run
    assert "learning_rate" not in killed.meta and "precision" not in killed.meta  # it logged no params


def test_file_store_folder_analyzes_the_newest_run_only(stores: Stores):
    root, ids = stores
    report = analyze(root / "mlruns")
    run = report.run
    newest = f"0/{ids['file']['healthy']}"
    note = _superseded_note(newest, "point analyze at its run folder")
    assert {s.path: (s.format, s.status, s.note) for s in run.sources} == {
        newest: ("mlflow", "read", ""),
        **{f"0/{ids['file'][n]}": ("mlflow", "superseded", note) for n in ORDER[:3]},
    }
    assert {s.path: s.rows for s in run.sources}[newest] == 9
    assert sorted((p.path, p.message, p.level) for p in _input_problems(run)) == sorted(
        (f"0/{ids['file'][n]}", note, "note") for n in ORDER[:3]
    )
    assert "ignored_files" not in run.meta  # params, tags, meta.yaml: none left to the console
    assert {str(s).partition("/metrics/")[0] for s in run.metrics["source"].unique()} == {newest}
    assert _same(list(run.series("loss").to_numpy()), LOSS)
    assert [(e.kind, e.source) for e in run.events.itertuples()] == [("run_end", f"{newest}/meta.yaml")]
    assert run.meta["mlflow"]["run_name"] == "healthy" and list(run.meta["mlflow"]["runs"]) == [ids["file"]["healthy"]]
    assert run.meta["status"] == "completed" and run.meta["learning_rate"] == 3e-4
    assert CRASH_RULE not in {f.rule_id for f in report.findings}  # the older runs' ends are not this run's


def test_sql_store_analyzes_the_newest_run_and_restores_nan_and_inf(stores: Stores):
    root, ids = stores
    run = analyze(root / "mlflow.db").run
    newest = f"mlflow.db#{ids['sqlite']['healthy']}"
    note = _superseded_note(newest, "export it to its own store")
    assert {s.path: (s.status, s.note) for s in run.sources} == {
        newest: ("read", ""),
        **{f"mlflow.db#{ids['sqlite'][n]}": ("superseded", note) for n in ORDER[:3]},
    }
    assert sorted((p.path, p.message, p.level) for p in _input_problems(run)) == sorted(
        (f"mlflow.db#{ids['sqlite'][n]}", note, "note") for n in ORDER[:3]
    )
    assert set(run.metrics["source"]) == {newest}
    rows = run.metrics[run.metrics["split"] == "train"]
    assert _same(list(rows["value"]), LOSS)  # NaN stored as 0 with is_nan=1, ±inf as ±max float
    assert list(rows["step"]) == list(range(8)) and list(rows["wall_time"]) == [T0 / 1000 + s for s in range(8)]
    assert run.series("loss", "eval").to_dict() == {7: 0.75}
    section = run.meta["mlflow"]
    assert section["run_name"] == "healthy" and section["store"] == "sqlite" and section["status"] == "FINISHED"
    assert list(section["runs"]) == [ids["sqlite"]["healthy"]]
    assert [(e.kind, e.step, e.source) for e in run.events.itertuples()] == [("run_end", 7, newest)]
    assert (run.meta["status"], run.meta["learning_rate"], run.meta["per_device_train_batch_size"]) == (
        "completed",
        3e-4,
        8,
    )
    assert (run.meta["precision"], run.meta["precision_source"]) == ("bf16", "mlflow params.bf16")


def test_sql_store_reader_returns_every_run_oldest_first(stores: Stores):
    root, ids = stores
    results = mlflow_store.read_store(root / "mlflow.db", "mlflow.db")
    assert [source for source, _ in results] == [f"mlflow.db#{ids['sqlite'][n]}" for n in ORDER]
    for name, (_, frames) in zip(ORDER, results, strict=True):
        mlflow_status, kind, step, _ = OUTCOMES[name]
        assert isinstance(frames, Frames) and frames.meta["mlflow"]["status"] == mlflow_status
        assert [(e.kind, e.step) for e in frames.events.itertuples()] == [(kind, step)]
    picked = mlflow_store.newest_only(results)
    assert [type(r).__name__ for _, r in picked] == ["Superseded", "Superseded", "Superseded", "Frames"]


@pytest.mark.parametrize("name", ORDER)
def test_sql_store_run_status_becomes_the_run_status(stores: Stores, tmp_path: Path, name: str):
    """Each run alone in a copy of the store (the others deleted), as the user's own store would hold it."""
    root, ids = stores
    shutil.copy(root / "mlflow.db", tmp_path / "mlflow.db")
    keep = ids["sqlite"][name]
    with contextlib.closing(sqlite3.connect(tmp_path / "mlflow.db")) as conn, conn:
        tables = [
            t
            for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if "run_uuid" in {c[1] for c in conn.execute(f"PRAGMA table_info('{t}')")}
        ]
        assert {"runs", "metrics", "params", "tags"} <= set(tables)
        for table in tables:
            conn.execute(f"DELETE FROM '{table}' WHERE run_uuid != ?", (keep,))
    mlflow_status, kind, step, status = OUTCOMES[name]
    report = analyze(tmp_path / "mlflow.db")
    run = report.run
    assert [(s.path, s.status) for s in run.sources] == [(f"mlflow.db#{keep}", "read")]
    assert run.meta["mlflow"]["status"] == mlflow_status
    assert [(e.kind, e.step) for e in run.events.itertuples()] == [(kind, step)]
    assert run.meta["status"] == status and mlflow_status in run.meta["status_reason"]
    assert (CRASH_RULE in {f.rule_id for f in report.findings}) is (status == "crashed")
    assert not _input_problems(run)


def test_sql_store_is_never_written(stores: Stores, tmp_path: Path):
    folder = tmp_path / "my runs #1?"
    folder.mkdir()
    shutil.copy2(stores[0] / "mlflow.db", folder / "mlflow.db")
    before = tree_digest(folder)
    analyze(folder / "mlflow.db")
    analyze(folder)
    assert tree_digest(folder) == before  # same files, same bytes, same mtimes: no -wal, -shm or -journal


def test_sql_store_with_a_pending_wal_is_read_from_a_copy(stores: Stores, tmp_path: Path):
    root, ids = stores
    live, frozen = tmp_path / "live", tmp_path / "frozen"
    live.mkdir()
    frozen.mkdir()
    shutil.copy(root / "mlflow.db", live / "mlflow.db")
    conn = sqlite3.connect(live / "mlflow.db")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute(
        "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?, ?, ?, ?, ?, ?)",
        ("late", 9.5, T0, ids["sqlite"]["healthy"], 8, 0),
    )
    conn.commit()
    for name in ("mlflow.db", "mlflow.db-wal"):  # what a crash leaves: the last commit only in the WAL
        shutil.copy(live / name, frozen / name)
    conn.close()
    assert (frozen / "mlflow.db-wal").stat().st_size > 0
    before = tree_digest(frozen)
    run = analyze(frozen / "mlflow.db").run
    assert [s.path for s in run.sources if s.status == "read"] == [f"mlflow.db#{ids['sqlite']['healthy']}"]
    assert run.series("late").to_dict() == {8: 9.5}  # only in the WAL
    assert _same(list(run.series("loss").to_numpy()), LOSS)
    assert tree_digest(frozen) == before  # the user's files untouched: the copy was read


def _copy_run(stores: Stores, dest: Path) -> Path:
    root, ids = stores
    shutil.copytree(root / "mlruns", dest)
    return dest / "0" / ids["file"]["healthy"]


def test_cut_corrupted_and_empty_metric_files(stores: Stores, tmp_path: Path):
    run_dir = _copy_run(stores, tmp_path / "mlruns")
    loss = run_dir / "metrics" / "train" / "loss"
    text = loss.read_text()
    loss.write_text(text[: len(text) - 5])  # the run was killed while writing its last line
    with (run_dir / "metrics" / "eval_loss").open("a") as fh:
        fh.write("1700000009000 not-a-number 9\n")
    (run_dir / "metrics" / "accuracy").write_text("")
    run = analyze(run_dir).run
    assert _same(list(run.series("loss").to_numpy()), LOSS[:7])
    assert run.series("loss", "eval").to_dict() == {7: 0.75}
    problems = {(p.path, p.where): p.message for p in run.problems}
    assert "cut off" in problems[("metrics/train/loss", "line 8")]
    assert "not `timestamp value step`" in problems[("metrics/eval_loss", "line 2")]
    assert problems[("metrics/accuracy", "")] == "metric file is empty"


def test_broken_meta_yaml_keeps_the_metrics(stores: Stores, tmp_path: Path):
    run_dir = _copy_run(stores, tmp_path / "mlruns")
    (run_dir / "meta.yaml").write_text("run_id: [unclosed\n")
    run = analyze(run_dir).run
    assert [(s.path, s.rows, s.status) for s in run.sources] == [(run_dir.name, 9, "read")]
    assert _same(list(run.series("loss").to_numpy()), LOSS) and run.series("loss", "eval").to_dict() == {7: 0.75}
    problems = [(p.path, p.where, p.message.partition(":")[0]) for p in _input_problems(run)]
    assert problems == [("meta.yaml", "line 2", "invalid YAML")]  # PyYAML marks where it gave up: the end
    assert run.events.empty  # no status, so no run_end
    assert "status" not in run.meta["mlflow"] and run.meta["status"] == "unknown"
    assert run.meta["learning_rate"] == 3e-4  # the params are still read


def test_metrics_folder_without_meta_yaml_is_recognised_by_content(stores: Stores, tmp_path: Path):
    run_dir = _copy_run(stores, tmp_path / "mlruns")
    shutil.copytree(run_dir / "metrics", tmp_path / "copied" / "metrics")
    run = analyze(tmp_path / "copied").run
    assert _same(list(run.series("loss").to_numpy()), LOSS)
    assert any("no meta.yaml" in p.message for p in run.problems)


def test_published_keras_autolog_run():
    folder = artifact("008")
    source = "mlruns/1/ed05f9cd599442fe9a0c9222184710b8"
    (frames,) = [f for parser, f in ingest(folder).frames if parser == mlflow_store.name]
    loss = frames.metrics.set_index("step")["value"]
    assert len(loss) == 10 and loss[0] == 332.6841735839844 and loss[9] == 234.7978057861328
    assert loss[3] == 248.3108367919922 and (loss.diff().dropna() < 0).all()  # falls, then flattens
    first = frames.metrics.iloc[0]
    assert first["source"] == f"{source}/metrics/loss" and first["line"] == 1
    assert first["wall_time"] == 1628697792.090 and first["split"] == "train" and first["metric"] == "loss"
    section = frames.meta["mlflow"]
    assert section["status"] == "FINISHED" and section["start_time"] == 1628697775.478
    assert section["params"]["opt_learning_rate"] == "0.002" and section["params"]["batch_size"] == "None"
    assert section["settings"] == {"learning_rate": 0.002, "max_grad_norm": 5.0, "num_train_epochs": 10, "optim": "SGD"}
    assert frames.meta["framework"] == "tensorflow"  # from the mlflow.autologging tag
    end = frames.events.iloc[0]
    assert end["kind"] == "run_end" and end["step"] == 9 and end["wall_time"] == 1628697851.678
    assert end["source"] == f"{source}/meta.yaml" and end["line"] == 13
    run = analyze(folder).run
    assert {s.path: s.rows for s in run.sources if s.format == mlflow_store.name} == {source: 10}
    events_file = next((folder / source / "artifacts" / "tensorboard_logs" / "train").glob("*.v2"))
    assert not mlflow_store.sniff(events_file, read_head(events_file))  # the TensorBoard reader's


def test_sniff_leaves_other_files_alone(stores: Stores, tmp_path: Path):
    run_dir = _copy_run(stores, tmp_path / "mlruns")
    (run_dir / "notes.txt").write_text("loss went down\n")
    (run_dir / "artifacts").mkdir(exist_ok=True)
    (run_dir / "artifacts" / "train.log").write_text("step 1 loss 2.0\n")
    other = tmp_path / "other"
    other.mkdir()
    (other / "meta.yaml").write_text("name: something\nexperiment: 3\n")
    sqlite3.connect(other / "app.db").execute("CREATE TABLE users (id INTEGER)").connection.close()
    for path in (run_dir / "notes.txt", run_dir / "artifacts" / "train.log", other / "meta.yaml", other / "app.db"):
        assert detect(path) is not mlflow_store, path
    for path in (
        run_dir / "meta.yaml",
        run_dir / "params" / "learning_rate",
        run_dir / "tags" / "mlflow.user",
        run_dir / "metrics" / "train" / "loss",
        tmp_path / "mlruns" / "0" / "meta.yaml",
    ):
        assert detect(path) is mlflow_store, path
