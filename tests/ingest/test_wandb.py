"""W&B: run folders written by the real wandb package (offline), real public runs, broken logs, UI CSV
exports and API history rows."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from analyzer import analyze
from analyzer.cli import app
from analyzer.errors import InputError, NothingReadable
from analyzer.ingest import console, detect, wandb_csv, wandb_run
from tests.conftest import artifact

# Values that must come back bit for bit (float64 through value_json), NaN and infinities included.
VALUES = [2.5, 0.1 + 0.2, 1 / 3, 1e-300, math.nan, math.inf, 123456789.12345679, -math.inf]
GRAD_NORMS = [1.5, 0.75, math.nan, 2.0, 3.0, 1e308, 0.5, 0.25]
OOM = (
    "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of "
    "79.18 GiB of which 1.20 GiB is free."
)

WRITER = textwrap.dedent("""
    import os, sys, time
    from math import inf, nan

    import wandb

    out, kind = sys.argv[1], sys.argv[2]
    values, grads = {values!r}, {grads!r}
    if kind == "finished":
        config = {{"learning_rate": 2e-5, "bf16": True, "fp16": False, "per_device_train_batch_size": 8,
                  "gradient_accumulation_steps": 2, "max_steps": 30, "logging_steps": 10, "output_dir": "out",
                  "model_type": "llama", "architectures": ["LlamaForCausalLM"], "dtype": "bfloat16",
                  "transformers_version": "5.23.0"}}
        run = wandb.init(mode="offline", dir=os.path.join(out, "crash"), config=config)
        run.define_metric("train/global_step")
        run.define_metric("train/*", step_metric="train/global_step")
        for i, (loss, grad) in enumerate(zip(values, grads)):
            step = 10 * (i + 1)
            run.log({{"train/loss": loss, "train/grad_norm": grad, "train/learning_rate": 2e-5,
                     "train/epoch": 0.25 * (i + 1), "train/global_step": step}})
            print({{"loss": loss, "grad_norm": grad, "learning_rate": 2e-5, "epoch": 0.25 * (i + 1)}})
            if step == 40:
                run.log({{"eval/loss": 1.25, "train/global_step": 40}})
        print("Traceback (most recent call last):", file=sys.stderr)
        print('  File "train.py", line 12, in <module>', file=sys.stderr)
        print({oom!r}, file=sys.stderr)
        run.finish(exit_code=1)
        run = wandb.init(mode="offline", dir=os.path.join(out, "healthy"), config={{"lr": 0.1}},
                         settings=wandb.Settings(x_stats_sampling_interval=0.1))
        for i in range(5):
            run.log({{"loss": 1.0 / (i + 1), "nested": {{"x": i + 0.5}}}})
        time.sleep(0.4)  # a few system-stats samples after the last row
        run.summary["train_runtime"] = 12.5
        run.finish()
    else:  # killed with SIGKILL: no exit record, the unwritten tail of the log is lost
        run = wandb.init(mode="offline", dir=os.path.join(out, "killed"), config={{"max_steps": 1000}})
        run.define_metric("train/global_step")
        run.define_metric("*", step_metric="train/global_step")
        for step in range(1, 401):
            run.log({{"train/loss": 1.0 / step, "train/global_step": step}})
        print("step 400 done", flush=True)
        log = os.path.join(run.dir, "..", "run-" + run.id + ".wandb")
        deadline = time.time() + 30
        while time.time() < deadline and (not os.path.exists(log) or os.path.getsize(log) < 2 * 32768):
            time.sleep(0.05)
        os.kill(os.getpid(), 9)
""").format(values=VALUES, grads=GRAD_NORMS, oom=OOM)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three run folders written by wandb in offline mode, shared by the tests of this module."""
    root = tmp_path_factory.mktemp("wandb_runs")
    script = root / "writer.py"
    script.write_text(WRITER)
    env = {
        **os.environ,
        "WANDB_MODE": "offline",
        "WANDB_SILENT": "true",
        "WANDB_DISABLE_GIT": "true",
        "WANDB_DISABLE_CODE": "true",
        "WANDB_CONFIG_DIR": str(root / "config"),
        "WANDB_CACHE_DIR": str(root / "cache"),
        "WANDB_DATA_DIR": str(root / "data"),
    }
    env.pop("WANDB_API_KEY", None)
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(root), kind], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for kind in ("finished", "killed")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode in (0, -9), err.decode()
    found = {name: next((root / name / "wandb").glob("offline-run-*")) for name in ("crash", "healthy", "killed")}
    return found


def log_file(run_dir: Path) -> Path:
    return next(run_dir.glob("run-*.wandb"))


def only_log(tmp_path: Path, data: bytes) -> Path:
    """A run folder holding one .wandb log with these bytes."""
    folder = tmp_path / "wandb" / "offline-run-20260101_000000-abc123"
    folder.mkdir(parents=True)
    path = folder / "run-abc123.wandb"
    path.write_bytes(data)
    return path


def train_loss_steps(frames: Any) -> list[int]:
    m = frames.metrics
    return sorted(m.loc[(m["metric"] == "loss") & (m["split"] == "train"), "step"])


def same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


# --- runs written by wandb ------------------------------------------------------------------------------


def test_history_on_the_trainer_step_with_exact_values(runs: dict[str, Path]):
    run = analyze(runs["crash"]).run
    loss = run.series("loss")
    assert list(loss.index) == [10, 20, 30, 40, 50, 60, 70, 80]  # train/global_step, not W&B's _step
    assert all(same(a, b) for a, b in zip(loss.to_numpy(), VALUES, strict=True))
    assert all(same(a, b) for a, b in zip(run.series("grad_norm").to_numpy(), GRAD_NORMS, strict=True))
    assert run.series("loss", "eval").to_dict() == {40: 1.25}
    assert run.series("epoch").iloc[-1] == 2.0
    row = run.metrics[(run.metrics["metric"] == "loss") & (run.metrics["step"] == 10)].iloc[0]
    assert row["source"].endswith(".wandb") and row["line"] > 0 and row["wall_time"] > 1.7e9
    assert run.meta["wandb"]["step_metric"] == "train/global_step"


def test_console_records_give_events_once(runs: dict[str, Path]):
    run = analyze(runs["crash"]).run
    events = run.events
    oom = events[events["kind"] == "oom"]
    assert len(oom) == 1  # files/output.log holds the same text and is not read a second time
    assert oom.iloc[0]["step"] == 80 and oom.iloc[0]["source"].endswith(".wandb") and oom.iloc[0]["line"] > 0
    assert "2.00 GiB" in oom.iloc[0]["message"]
    assert any("OutOfMemoryError" in m for m in events.loc[events["kind"] == "exception", "message"])
    ended = events[events["message"].str.contains("exited with code 1")]
    assert list(ended["kind"]) == ["exception"]
    assert any(s.path.endswith("files/output.log") and s.status == "superseded" for s in run.sources)
    assert not any("output.log" in p.path for p in run.problems)  # a plain copy: no line on stderr
    assert not run.has("loss", "summary")  # printed dicts are rounded copies of the history: not read


def test_config_reaches_the_derived_settings(runs: dict[str, Path]):
    import wandb

    meta = analyze(runs["crash"]).run.meta
    assert meta["wandb"]["config"]["learning_rate"] == 2e-5
    assert (meta["precision"], meta["learning_rate"], meta["per_device_train_batch_size"]) == ("bf16", 2e-5, 8)
    assert (meta["max_steps"], meta["gradient_accumulation_steps"]) == (30, 2)
    assert meta["weights_dtype"] == "bfloat16" and meta["framework"] == "transformers"
    assert meta["versions"]["wandb"] == wandb.__version__
    assert meta["versions"]["python"] == ".".join(map(str, sys.version_info[:3]))
    assert meta["wandb"]["exit_code"] == 1 and meta["wandb"]["exit_record"] is True


def test_without_a_step_metric_w_and_b_step_is_the_axis(runs: dict[str, Path]):
    run = analyze(runs["healthy"]).run
    assert run.series("loss").to_dict() == {0: 1.0, 1: 0.5, 2: 1 / 3, 3: 0.25, 4: 0.2}
    assert run.series("nested.x").iloc[-1] == 4.5
    assert run.series("train_runtime", "summary").to_dict() == {4: 12.5}
    assert list(run.events["kind"]) == ["run_end"]
    assert run.meta["wandb"]["exit_code"] == 0 and run.meta["wandb"]["step_metric"] == "_step"
    stats = run.metrics[(run.metrics["split"] == "system") & (run.metrics["metric"] == "proc.memory.rssMB")]
    assert stats["step"].max() == 4 and stats["wall_time"].notna().all()  # the last row logged before them


def test_killed_run_has_no_exit_record(runs: dict[str, Path]):
    run = analyze(runs["killed"]).run
    steps = list(run.series("loss").index)
    assert 0 < len(steps) <= 400 and steps == list(range(1, len(steps) + 1))
    died = run.events[run.events["kind"] == "no_exit_record"]
    assert len(died) == 1 and "no W&B exit record" in died.iloc[0]["message"]
    assert died.iloc[0]["step"] == steps[-1]
    assert run.meta["wandb"]["exit_record"] is False and run.meta["wandb"]["exit_code"] is None


# --- broken logs ----------------------------------------------------------------------------------------


def history_offsets(data: bytes) -> list[int]:
    """Byte offsets of the history records of a log (found with the reader under test)."""
    from wandb.proto import wandb_internal_pb2 as pb

    records, _ = wandb_run.read_records(data, "x")
    return [o for o, payload in records if pb.Record.FromString(payload).HasField("history")]


def test_truncated_log_is_read_up_to_the_cut(runs: dict[str, Path], tmp_path: Path):
    data = log_file(runs["crash"]).read_bytes()
    fifth = history_offsets(data)[4]
    path = only_log(tmp_path, data[: fifth + 12])
    frames = wandb_run.parse_log(path, "run.wandb")
    assert train_loss_steps(frames) == [10, 20, 30, 40]
    problem = frames.problems[0]
    assert problem.where == f"byte {fifth}" and "truncated" in problem.message
    assert "no_exit_record" in set(frames.events["kind"])  # the exit record was cut off with the rest


def test_corrupted_chunk_is_skipped_with_its_offset(runs: dict[str, Path], tmp_path: Path):
    data = bytearray(log_file(runs["crash"]).read_bytes())
    third = history_offsets(bytes(data))[2]
    data[third + 20] ^= 0xFF
    frames = wandb_run.parse_log(only_log(tmp_path, bytes(data)), "run.wandb")
    assert train_loss_steps(frames) == [10, 20, 40, 50, 60, 70, 80]
    assert [(p.where, "CRC" in p.message) for p in frames.problems] == [(f"byte {third}", True)]
    assert "exited with code 1" in " ".join(frames.events["message"])  # the records after it are read


def test_corrupt_chunk_header_skips_the_rest_of_its_block(runs: dict[str, Path], tmp_path: Path):
    data = bytearray(log_file(runs["killed"]).read_bytes())
    offsets = [o for o in history_offsets(bytes(data)) if o < 32768]
    data[offsets[-3] + 4 : offsets[-3] + 6] = b"\xff\xff"  # the chunk's length field
    frames = wandb_run.parse_log(only_log(tmp_path, bytes(data)), "run.wandb")
    assert frames.problems[0].where == f"byte {offsets[-3]}" and "corrupt chunk header" in frames.problems[0].message
    steps = set(train_loss_steps(frames))
    assert len(steps) > 10 and max(steps) > 100  # the blocks after it are read


@pytest.mark.parametrize(
    "data, message",
    [(b"", "file is empty"), (b"\x00" * 10, "no `:W&B` header"), (b"not a log at all", "no `:W&B` header")],
)
def test_empty_or_foreign_file(tmp_path: Path, data: bytes, message: str):
    path = only_log(tmp_path, data)
    [(_, result)] = wandb_run.parse_group([(path, "run-abc123.wandb")])
    assert isinstance(result, InputError) and message in result.problem.message
    with pytest.raises(NothingReadable):
        analyze(path.parent)


def test_header_only_log(runs: dict[str, Path], tmp_path: Path):
    path = only_log(tmp_path, log_file(runs["crash"]).read_bytes()[:7])
    with pytest.raises(InputError, match="no readable record"):
        wandb_run.parse_log(path, "run.wandb")


def test_run_folder_files_are_claimed_by_the_w_and_b_reader(runs: dict[str, Path]):
    folder = runs["crash"]
    for path in (log_file(folder), folder / "files" / "output.log", folder / "logs" / "debug.log"):
        assert detect(path) is wandb_run, path
    assert not console.sniff(log_file(folder), log_file(folder).read_bytes()[:8192])


def test_run_folder_without_its_log_reads_the_sidecars(tmp_path: Path):
    files = tmp_path / "wandb" / "run-20240101_000000-xyz789" / "files"
    files.mkdir(parents=True)
    (files / "config.yaml").write_text(
        textwrap.dedent("""\
        _wandb:
          value:
            cli_version: 0.17.0
            python_version: 3.10.12
        learning_rate:
          desc: null
          value: 0.0001
        per_device_train_batch_size:
          value: 4
        gradient_accumulation_steps:
          value: 8
        fp16:
          value: true
        """)
    )
    (files / "wandb-metadata.json").write_text(
        json.dumps(
            {
                "python": "3.10.12",
                "program": "train.py",
                "args": ["--lr", "1e-4"],
                "cuda": "12.1",
                "gpu": "NVIDIA A100-SXM4-80GB",
                "gpu_count": 8,
                "email": "someone@example.com",
                "host": "node7",
                "username": "someone",
            }
        )
    )
    (files / "wandb-summary.json").write_text(
        '{"train/loss": 1.25, "train/global_step": 300, "_step": 30, "_wandb": {"runtime": 99}, "eval/loss": NaN}'
    )
    (files / "output.log").write_text(OOM + "\n")
    run = analyze(tmp_path).run
    assert {s.format for s in run.sources} == {"wandb"} and len(run.sources) == 2
    summary = run.metrics[run.metrics["split"] == "summary"].set_index("metric")
    assert summary.loc["train/loss", "value"] == 1.25 and math.isnan(summary.loc["eval/loss", "value"])
    assert set(summary["step"]) == {300}
    assert list(run.events["kind"]) == ["oom"]
    meta = run.meta
    assert (meta["precision"], meta["learning_rate"], meta["gradient_accumulation_steps"]) == ("fp16", 1e-4, 8)
    assert meta["env"] == {"gpu": "NVIDIA A100-SXM4-80GB", "gpu_count": 8}
    assert meta["versions"]["wandb"] == "0.17.0" and meta["versions"]["cuda"] == "12.1"
    assert "someone" not in json.dumps(meta["wandb"]) and "node7" not in json.dumps(meta["wandb"])


def test_config_yaml_is_never_executed(tmp_path: Path):
    files = tmp_path / "wandb" / "run-20240101_000000-xyz789" / "files"
    files.mkdir(parents=True)
    marker = tmp_path / "executed"
    (files / "config.yaml").write_text(f"x: !!python/object/apply:os.system ['touch {marker}']\n")
    [(_, result)] = wandb_run.parse_group([(files / "config.yaml", "files/config.yaml")])
    assert isinstance(result, InputError) and "invalid YAML" in result.problem.message
    assert not marker.exists()


# --- real public runs -----------------------------------------------------------------------------------


def test_real_offline_run_with_cuda_oom():
    report = analyze(artifact("011"))
    run = report.run
    loss = run.series("loss")
    assert len(loss) == 1372 and (loss.index[0], loss.index[-1]) == (1, 1372)
    assert loss.iloc[0] == 0.643 and loss.iloc[-1] == 0.3244
    oom = run.events[run.events["kind"] == "oom"]
    assert len(oom) == 1 and oom.iloc[0]["step"] == 1372 and "8.28 GiB" in oom.iloc[0]["message"]
    # The label's onset is 1373, the step that failed; events carry the last step logged before them.
    assert report.verdict == "oom" and report.findings[0].onset_step == 1372
    meta = run.meta
    assert meta["versions"]["torch"] == "2.6.0+cu124" and meta["versions"]["transformers"] == "4.57.1"
    assert meta["versions"]["wandb"] == "0.21.0" and meta["env"]["gpu"] == "NVIDIA GeForce RTX 4090"
    assert meta["learning_rate"] == 5e-05 and meta["precision"] == "fp32"
    assert meta["wandb"]["exit_code"] == 1 and meta["wandb"]["history_rows"] == 1372
    gpu = run.metrics[(run.metrics["split"] == "system") & (run.metrics["metric"] == "gpu.1.memoryAllocated")]
    assert len(gpu) > 10 and gpu["step"].between(0, 1372).all() and gpu["wall_time"].notna().all()
    assert [s.path.rsplit("/", 1)[-1] for s in run.sources] == ["run-42la265j.wandb"]  # output.log is empty


def test_real_synced_run_with_sidecars():
    run = analyze(artifact("012")).run
    assert list(run.series("loss").index) == list(range(10))
    eval_loss = run.series("loss", "eval")
    assert eval_loss.idxmin() == 1 and eval_loss.iloc[-1] == 0.45560616753896077  # rising after epoch 2
    assert list(run.events["kind"]) == ["run_end"]
    assert run.meta["wandb"]["config"]["learning_rate"] == 1e-05 and run.meta["wandb"]["config"]["epochs"] == 10
    assert run.meta["versions"]["transformers"] == "4.34.0" and run.meta["versions"]["torch"] == "2.0.1+cu118"
    assert any(s.path.endswith("files/output.log") and s.status == "superseded" for s in run.sources)


def test_real_lone_summary_json():
    path = artifact("013") / "wandb-summary.json"
    assert detect(path) is wandb_run
    [(_, frames)] = wandb_run.parse_group([(path, "wandb-summary.json")])
    assert not isinstance(frames, InputError)
    values = dict(zip(frames.metrics["metric"], frames.metrics["value"], strict=True))
    assert values["val_acc"] == 0.8935999870300293 and values["test_loss"] == 0.36893990635871887
    assert set(frames.metrics["step"]) == {704} and set(frames.metrics["split"]) == {"summary"}  # trainer/global_step
    assert "_runtime" not in values and "trainer/global_step" not in values


# --- W&B UI CSV export ----------------------------------------------------------------------------------

EXPORT = (
    '"Step","exp-1 - train/loss","exp-1 - train/loss__MIN","exp-1 - train/loss__MAX",'
    '"exp-2 - train/loss","exp-2 - train/loss__MIN","exp-2 - train/loss__MAX","exp-1 - _step"\n'
    '"10","2.5","2.4","2.6","3.5","3.5","3.5","0"\n'
    '"20","","","","3.25","3.25","3.25","1"\n'
    '"30","NaN","NaN","NaN","3.0","3.0","3.0","2"\n'
)


def test_csv_export_first_run_kept(tmp_path: Path):
    path = tmp_path / "wandb_export_2024-05-01.csv"
    path.write_text(EXPORT)
    assert detect(path) is wandb_csv
    report = analyze(path)
    loss = report.run.series("loss")
    assert list(loss.index) == [10, 30] and loss.iloc[0] == 2.5 and math.isnan(loss.iloc[1])
    assert set(report.run.metrics["metric"]) == {"loss"}
    note = next(p for p in report.run.problems if "runs in one export" in p.message)
    assert note.level == "note" and "`exp-2`" in note.message
    assert report.run.meta["wandb_csv"][path.name]["run"] == "exp-1"


def test_csv_export_epoch_axis_and_bad_cells(tmp_path: Path):
    path = tmp_path / "chart.csv"
    path.write_text('epoch,"run - eval/loss","",\n0.5,"1.5",""\n1.0,"oops",""\n1.5,"1.25",""\n')
    frames = wandb_csv.parse(path, "chart.csv")
    assert list(frames.metrics["step"]) == [0, 2] and set(frames.metrics["split"]) == {"eval"}
    assert {p.message.split(";")[0] for p in frames.problems} >= {"1 cell(s) that are not numbers skipped"}
    assert any("not a whole-number step" in p.message for p in frames.problems)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "file is empty"),
        ('"Step","r - loss"\n', "no rows"),
        ('"Step","r - loss__MIN"\n"1","2"\n', "no `<run> - <metric>`"),
    ],
)
def test_csv_export_unreadable(tmp_path: Path, text: str, message: str):
    path = tmp_path / "export.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        wandb_csv.parse(path, "export.csv")


# --- W&B API (recorded rows, no network) ----------------------------------------------------------------

ROWS: list[dict[str, Any]] = [  # shaped like Run.scan_history() output
    {
        "_step": 0,
        "_runtime": 3.5,
        "_timestamp": 1.7e9,
        "train/global_step": 10,
        "train/loss": 2.5,
        "train/grad_norm": 1.0,
        "eval/loss": None,
    },
    {
        "_step": 1,
        "_runtime": 7.0,
        "_timestamp": 1.7e9 + 3.5,
        "train/global_step": 20,
        "train/loss": float("nan"),
        "train/grad_norm": "NaN",
        "eval/loss": None,
    },
    {
        "_step": 2,
        "_runtime": 9.0,
        "_timestamp": 1.7e9 + 5.5,
        "train/global_step": 20,
        "train/loss": None,
        "train/grad_norm": None,
        "eval/loss": 1.75,
        "media": {"_type": "image-file", "path": "x.png"},
    },
]
CONFIG = {
    "learning_rate": {"value": 3e-4, "desc": None},
    "per_device_train_batch_size": 4,
    "gradient_accumulation_steps": 1,
    "fp16": True,
    "_wandb": {"value": {"cli_version": "0.22.0"}},
}


def test_api_rows_to_frames():
    frames = wandb_run.api_frames(
        ROWS, CONFIG, {"train_runtime": 9.0, "_wandb": {"runtime": 9}}, "wandb://ent/proj/run1", state="crashed"
    )
    m = frames.metrics
    loss = m[(m["metric"] == "loss") & (m["split"] == "train")]
    assert list(loss["step"]) == [10, 20] and math.isnan(loss["value"].iloc[1])
    assert list(m.loc[m["metric"] == "grad_norm", "value"].isna()) == [False, True]
    assert m.loc[(m["split"] == "eval"), ["step", "value"]].values.tolist() == [[20, 1.75]]
    assert list(loss["wall_time"]) == [1.7e9, 1.7e9 + 3.5] and list(loss["line"]) == [1, 2]
    assert m.loc[m["split"] == "summary", "metric"].tolist() == ["train_runtime"]
    assert frames.meta["training_args"]["learning_rate"] == 3e-4 and frames.meta["versions"]["wandb"] == "0.22.0"
    assert list(frames.events["kind"]) == ["signal"]


class FakeRun:
    def __init__(self) -> None:
        self.config, self.summary_metrics, self.state = CONFIG, {"train_runtime": 9.0}, "finished"

    def scan_history(self) -> list[dict[str, Any]]:
        return ROWS


def test_cli_reads_a_wandb_url_through_the_api(monkeypatch: pytest.MonkeyPatch):
    import wandb

    class Api:
        def __init__(self, timeout: int) -> None:
            pass

        def run(self, path: str) -> FakeRun:
            assert path == "ent/proj/run1"
            return FakeRun()

    monkeypatch.setattr(wandb, "Api", Api)
    done = CliRunner().invoke(app, ["run", "wandb://ent/proj/run1", "--format", "json"])
    report = json.loads(done.stdout)
    assert report["run"]["signals"]["train/loss"]["count"] == 2
    assert report["run"]["meta"]["precision"] == "fp16" and report["run"]["path"] == "wandb://ent/proj/run1"


def test_cli_api_failure_is_one_line_and_exit_2(monkeypatch: pytest.MonkeyPatch):
    import wandb

    def refuse(timeout: int) -> None:
        raise ConnectionError("Max retries exceeded with url: /graphql\nmore detail")

    monkeypatch.setattr(wandb, "Api", refuse)
    done = CliRunner().invoke(app, ["run", "wandb://ent/proj/run1"])
    assert done.exit_code == 2
    assert done.stderr.strip() == (
        "error: cannot fetch W&B run ent/proj/run1: ConnectionError: Max retries exceeded with url: /graphql"
    )
    done = CliRunner().invoke(app, ["run", "wandb://only-two/parts"])
    assert done.exit_code == 2 and "expected wandb://entity/project/run_id" in done.stderr


def test_several_runs_in_one_folder_analyze_the_newest(runs: dict[str, Path], tmp_path: Path):
    # A script run twice into one output_dir leaves two run folders under wandb/: never merge them.
    wandb_dir = tmp_path / "wandb"
    wandb_dir.mkdir()
    for name in ("healthy", "crash"):
        shutil.copytree(runs[name], wandb_dir / runs[name].name)
    starts = {name: analyze(runs[name]).run.metrics["wall_time"].min() for name in ("healthy", "crash")}
    newest = max(starts, key=lambda name: starts[name])
    run = analyze(tmp_path).run
    read = {s.path.split("/")[1] for s in run.sources if s.status == "read"}
    superseded = {s.path.split("/")[1] for s in run.sources if s.status == "superseded"}
    assert read == {runs[newest].name}
    assert runs[min(starts, key=lambda name: starts[name])].name in superseded
    assert all("only the newest" in p.message for p in run.problems if p.level == "note" and "W&B" in p.message)
