"""The triage index: one embedded DuckDB file with tables runs, findings and problems."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # imported where used: `import analyzer.triage` stays light, so the workers' fork server starts first
    import pandas as pd

SCHEMA_VERSION = "2"

RUN_COLUMNS: dict[str, str] = {
    "run": "VARCHAR PRIMARY KEY",  # the run folder's absolute path (archive members: ARCHIVE!/folder)
    "target": "VARCHAR",  # what was discovered: the folder, or the archive holding the run
    "root": "VARCHAR",  # the triaged folder it was found under
    "name": "VARCHAR",
    "archive": "VARCHAR",
    "framework": "VARCHAR",
    "trainer_kind": "VARCHAR",
    "model": "VARCHAR",
    "torch": "VARCHAR",
    "transformers": "VARCHAR",
    "deepspeed": "VARCHAR",
    "peft": "VARCHAR",
    "trl": "VARCHAR",
    "accelerate": "VARCHAR",
    "cuda": "VARCHAR",
    "precision": "VARCHAR",
    "deepspeed_stage": "INTEGER",
    "learning_rate": "DOUBLE",
    "batch_size": "INTEGER",
    "grad_accum": "INTEGER",
    "optim": "VARCHAR",
    "host": "VARCHAR",
    "gpu": "VARCHAR",
    "status": "VARCHAR",  # completed | stopped_early | crashed | unknown
    "status_reason": "VARCHAR",
    "verdict": "VARCHAR",  # healthy | a failure mode | error (could not be analysed: see `error`)
    "severity": "VARCHAR",
    "confidence": "DOUBLE",
    "onset_step": "BIGINT",
    "top_cause": "VARCHAR",
    "n_findings": "INTEGER",  # findings at warning or above
    "exception": "VARCHAR",  # first exception, numbers and paths masked
    "first_nonfinite": "VARCHAR",  # split/metric of the earliest NaN or inf
    "steps": "BIGINT",  # last step logged
    "started_at": "TIMESTAMP",  # first wall-clock time in the logs (UTC)
    "seen_at": "TIMESTAMP",  # started_at, else the newest file's modification time
    "duration_s": "DOUBLE",
    "error": "VARCHAR",  # why the run could not be analysed, NULL when it was
    "files": "INTEGER",
    "size": "BIGINT",
    "mtime": "DOUBLE",
    "stat": "VARCHAR",  # digest of the files' paths, sizes and mtimes (the cheap change test)
    "content_hash": "VARCHAR",  # digest of the files' bytes
    "fingerprint": "VARCHAR",  # tool version + rules: a change re-analyses every run
    "grammars": "VARCHAR",  # the console line grammars, for runs that read a console log (or could not be read)
    "seconds": "DOUBLE",  # analysis time
    "analysed_at": "TIMESTAMP",
    "versions": "VARCHAR",  # JSON: every library version read
    "meta": "VARCHAR",  # JSON: the run's meta (truncated at 20,000 characters)
}
FINDING_COLUMNS: dict[str, str] = {
    "run": "VARCHAR",
    "position": "INTEGER",  # 0 is the verdict's finding; the chain's order after it
    "rule_id": "VARCHAR",
    "failure_mode": "VARCHAR",
    "severity": "VARCHAR",
    "confidence": "DOUBLE",
    "onset_step": "BIGINT",
    "caused_by": "VARCHAR",
    "title": "VARCHAR",
    "message": "VARCHAR",
    "cause_1": "VARCHAR",
    "cause_2": "VARCHAR",
    "cause_3": "VARCHAR",
    "causes": "VARCHAR",  # JSON list of {id, title, score}
}
PROBLEM_COLUMNS: dict[str, str] = {
    "run": "VARCHAR",
    "path": "VARCHAR",
    "where": "VARCHAR",
    "message": "VARCHAR",
    "level": "VARCHAR",
}
TABLES = {"runs": RUN_COLUMNS, "findings": FINDING_COLUMNS, "problems": PROBLEM_COLUMNS}


class Fingerprint(NamedTuple):
    """What decides a run's analysis besides its files: `core` (tool version, index schema, rule files)
    for every run, `grammars` (the console line grammars) for the runs that read a console log."""

    core: str
    grammars: str


def grammar_file() -> Path:
    """The built-in console line grammars."""
    import analyzer

    return Path(analyzer.__file__).parent / "ingest" / "grammars.yaml"


def fingerprint(rules_dirs: Iterable[Path] = ()) -> Fingerprint:
    """Digests of the tool version and rules, and of the line grammars."""
    import analyzer
    from analyzer.library import builtin_rules_dir

    core = hashlib.sha256(f"{analyzer.__version__}\0{SCHEMA_VERSION}".encode())
    files = sorted(builtin_rules_dir().glob("*.yaml"))
    for folder in rules_dirs:
        files += sorted(Path(folder).glob("*.yaml"))
    for file in files:
        core.update(file.name.encode() + b"\0" + file.read_bytes())
    grammars = hashlib.sha256(grammar_file().read_bytes())
    return Fingerprint(core.hexdigest()[:32], grammars.hexdigest()[:32])


def quote(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


class Index:
    """The DuckDB file: created on first use, one row per run, rewritten run by run."""

    def __init__(self, path: Path | str) -> None:
        import duckdb

        self.path = str(path)
        self.db = duckdb.connect(self.path)
        have = [
            r[0]
            for r in self.db.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'runs' ORDER BY ordinal_position"
            ).fetchall()
        ]
        if have and have != list(RUN_COLUMNS):  # an index from another version: a cache, rebuilt
            for table in TABLES:
                self.db.execute(f"DROP TABLE IF EXISTS {table}")
        for table, columns in TABLES.items():
            cols = ", ".join(f'"{name}" {kind}' for name, kind in columns.items())
            self.db.execute(f"CREATE TABLE IF NOT EXISTS {table} ({cols})")

    def close(self) -> None:
        self.db.close()

    def known(self) -> dict[str, tuple[str, str, str, str]]:
        """target -> (stat, content_hash, fingerprint, grammars or "") of what the index holds."""
        rows = self.db.execute(
            "SELECT target, any_value(stat), any_value(content_hash), any_value(fingerprint), max(grammars) "
            "FROM runs GROUP BY target"
        ).fetchall()
        return {r[0]: (r[1] or "", r[2] or "", r[3] or "", r[4] or "") for r in rows}

    def touch(self, target: str, stat: str, mtime: float) -> None:
        """Files touched, bytes unchanged: record the new signature, keep the analysis."""
        self.db.execute("UPDATE runs SET stat = ?, mtime = ? WHERE target = ?", [stat, mtime, target])

    def write(self, results: list[dict[str, Any]], fp: Fingerprint, replace: bool = True) -> None:
        """Replace the rows of the targets these results belong to (`replace=False`: the caller knows the
        index holds none of them, so there is nothing to delete)."""
        if not results:
            return
        import pandas as pd

        runs = pd.DataFrame([r["run"] for r in results])
        runs["fingerprint"] = fp.core
        console = runs["console"].astype(bool) if "console" in runs else pd.Series(True, index=runs.index)
        runs["grammars"] = pd.Series(fp.grammars, index=runs.index).where(console, None)
        runs["analysed_at"] = pd.Timestamp.now(tz="UTC").tz_localize(None)
        seen = pd.to_datetime(runs["mtime"], unit="s", errors="coerce")
        if "started" in runs:
            started = pd.to_datetime(runs["started"].astype("float64"), unit="s", errors="coerce")
            runs["started_at"] = started
            runs["seen_at"] = started.fillna(seen.astype(started.dtype))  # one unit: pandas 3 refuses a mix
        else:
            runs["seen_at"] = seen
        runs = runs.reindex(columns=list(RUN_COLUMNS))
        findings = pd.DataFrame([f for r in results for f in r["findings"]], columns=list(FINDING_COLUMNS))
        problems = pd.DataFrame([p for r in results for p in r["problems"]], columns=list(PROBLEM_COLUMNS))
        keys = pd.DataFrame({"run": runs["run"], "target": runs["target"]})
        self.db.register("new_keys", keys)
        self.db.execute("BEGIN")
        try:
            for table in ("findings", "problems") if replace else ():
                self.db.execute(
                    f"DELETE FROM {table} WHERE run IN (SELECT run FROM runs WHERE target IN "
                    "(SELECT target FROM new_keys)) OR run IN (SELECT run FROM new_keys)"
                )
            if replace:
                self.db.execute(
                    "DELETE FROM runs WHERE target IN (SELECT target FROM new_keys) "
                    "OR run IN (SELECT run FROM new_keys)"
                )
            for table, frame in (("runs", runs), ("findings", findings), ("problems", problems)):
                if len(frame):
                    self.db.register("new_rows", frame)
                    self.db.execute(f"INSERT INTO {table} BY NAME SELECT * FROM new_rows")
                    self.db.unregister("new_rows")
            self.db.execute("COMMIT")
        except Exception:
            self.db.execute("ROLLBACK")
            raise
        finally:
            self.db.unregister("new_keys")

    def prune(self, roots: list[str], present: set[str]) -> int:
        """Forget runs under the triaged roots whose folder or archive is gone; returns how many."""
        gone = (
            [
                t
                for (t,) in self.db.execute(
                    f"SELECT DISTINCT target FROM runs WHERE root IN ({', '.join('?' * len(roots))})", roots
                ).fetchall()
                if t not in present
            ]
            if roots
            else []
        )
        for target in gone:
            for table in ("findings", "problems"):
                self.db.execute(f"DELETE FROM {table} WHERE run IN (SELECT run FROM runs WHERE target = ?)", [target])
            self.db.execute("DELETE FROM runs WHERE target = ?", [target])
        return len(gone)

    def frame(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """A query's answer as a DataFrame."""
        return self.db.execute(sql, params or []).df()

    def export(self, path: Path, fmt: str, roots: list[str]) -> list[Path]:
        """The runs and findings of these roots as csv, parquet or json (newline-delimited) files."""
        where = f"root IN ({', '.join(quote(r) for r in roots)})" if roots else "TRUE"
        written = []
        for table, target in (("runs", path), ("findings", path.with_name(f"{path.stem}_findings{path.suffix}"))):
            query = (
                f"SELECT * EXCLUDE (meta) FROM runs WHERE {where} ORDER BY run"
                if table == "runs"
                else f"SELECT * FROM findings WHERE run IN (SELECT run FROM runs WHERE {where}) ORDER BY run, position"
            )
            options = {"csv": "FORMAT csv, HEADER", "parquet": "FORMAT parquet", "json": "FORMAT json"}[fmt]
            self.db.execute(f"COPY ({query}) TO {quote(str(target))} ({options})")
            written.append(target)
        return written
