"""The same triage on a local Dask cluster gives the same index as the local worker processes."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from analyzer.triage import triage

distributed = pytest.importorskip("distributed")

COLUMNS = "run, verdict, severity, onset_step, top_cause, precision, transformers, steps, error, content_hash"


def table(db: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_dask_index_equals_local_index(corpus: Path, tmp_path: Path) -> None:
    roots = [corpus / "team_a", corpus / "team_b", corpus / "archives", corpus / "broken" / "corrupt"]
    local = triage(roots, tmp_path / "local.duckdb", jobs=1)
    with (
        distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as c,
        distributed.Client(c) as client,
    ):
        remote = triage(roots, tmp_path / "dask.duckdb", scheduler=client)
    assert remote.analysed == local.analysed >= 9
    query = f"SELECT {COLUMNS} FROM runs ORDER BY run"
    assert table(tmp_path / "dask.duckdb", query) == table(tmp_path / "local.duckdb", query)
    findings = "SELECT run, position, rule_id, onset_step, cause_1 FROM findings ORDER BY run, position"
    assert table(tmp_path / "dask.duckdb", findings) == table(tmp_path / "local.duckdb", findings)


def test_cli_scheduler_address(corpus: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        cmd = [sys.executable, "-m", "analyzer", "triage", str(corpus / "team_b"), "--db", str(tmp_path / "i.duckdb")]
        done = subprocess.run(
            [*cmd, "--scheduler", cluster.scheduler_address],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 1, done.stderr
    assert table(tmp_path / "i.duckdb", "SELECT count(*), count(error) FROM runs") == [(3, 0)]


def test_the_per_run_limit_holds_off_the_main_thread() -> None:
    import threading
    import time

    from analyzer.triage.worker import RunTimeout, bounded

    caught: list[BaseException] = []

    def on_a_dask_thread() -> None:  # no SIGALRM there: the run is watched from a thread and abandoned
        try:
            bounded(lambda: time.sleep(30), 0.3)  # type: ignore[arg-type, return-value]
        except RunTimeout as exc:
            caught.append(exc)

    start = time.monotonic()
    worker = threading.Thread(target=on_a_dask_thread)
    worker.start()
    worker.join(10)
    assert caught and "per-run limit" in str(caught[0]) and time.monotonic() - start < 5
