"""trainer_state.json: real files from public runs and from the real HF Trainer (sample_logs/)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from analyzer import analyze
from analyzer.errors import InputError, NothingReadable
from analyzer.ingest import hf_state, ingest
from tests.conftest import artifact, sample


def test_real_trainer_run_reads_every_row_once():
    report = analyze(sample("hf_healthy"))
    doc = json.loads((sample("hf_healthy") / "trainer_state.json").read_text())
    train_rows = [r for r in doc["log_history"] if "loss" in r]
    eval_rows = [r for r in doc["log_history"] if "eval_loss" in r]
    loss = report.run.series("loss")
    assert len(loss) == len(train_rows) == 60
    assert loss.iloc[0] == train_rows[0]["loss"]
    assert len(report.run.series("loss", "eval")) == len(eval_rows)
    summary = report.run.series("train_loss", "summary")
    assert summary.iloc[0] == doc["log_history"][-1]["train_loss"]
    assert report.run.meta["status"] == "completed"


def test_checkpoint_copies_are_superseded_not_double_counted():
    report = analyze(sample("hf_healthy"))
    states = [s for s in report.run.sources if s.format == "hf_trainer_state"]
    read = [s.path for s in states if s.status == "read"]
    assert read == ["trainer_state.json"]
    assert {s.path for s in states if s.status == "superseded"} == {
        "checkpoint-20/trainer_state.json",
        "checkpoint-40/trainer_state.json",
        "checkpoint-60/trainer_state.json",
    }
    assert report.run.metrics.duplicated(["split", "metric", "step", "rank"]).sum() == 0


def test_killed_run_uses_newest_checkpoint_and_is_stopped_early():
    report = analyze(sample("hf_killed"))
    assert [s.path for s in report.run.sources if s.format == "hf_trainer_state" and s.status == "read"] == [
        "checkpoint-40/trainer_state.json"
    ]
    assert "40 of max_steps 60" in report.run.meta["status_reason"]
    loss = report.run.metrics[(report.run.metrics["metric"] == "loss") & (report.run.metrics["split"] == "train")]
    assert set(loss.loc[loss["step"] <= 40, "source"]) == {"checkpoint-40/trainer_state.json"}
    # the run went on after the last checkpoint: steps 41-44 come from what was written later (the TensorBoard
    # events here: the kill lost the tail of the buffered stdout, so the console's dicts stop at 40)
    assert loss.loc[loss["step"] > 40, "step"].tolist() == [41, 42, 43, 44]
    later = {s.path: s.format for s in report.run.sources}
    assert {later[p] for p in set(loss.loc[loss["step"] > 40, "source"])} <= {"tensorboard", "console_log", "wandb"}
    assert report.run.meta["status"] == "crashed"


def test_bare_nan_tokens_are_values():
    report = analyze(artifact("005"))
    grad = report.run.series("grad_norm")
    assert math.isnan(grad[1]) and math.isnan(grad[2]) and math.isnan(grad[6])
    assert report.signals["train/grad_norm"]["nonfinite"] == 3
    assert report.signals["train/loss"] == {"count": 120, "first_step": 1, "last_step": 120, "nonfinite": 0}


def test_line_numbers_point_at_the_row_in_the_file():
    path = artifact("005") / "trainer_state.json"
    report = analyze(path)
    cite = report.run.cite("train", "grad_norm", 6)
    file, line = cite.rsplit(":", 1)
    assert file == "trainer_state.json"
    lines = path.read_text().splitlines()
    row = "\n".join(lines[int(line) - 1 : int(line) + 8])
    assert '"step": 6' in row and '"grad_norm": NaN' in row


def test_crlf_file_keeps_line_numbers():
    report = analyze(artifact("002"))
    assert report.run.meta.get("line_numbers") is None
    assert report.run.cite("train", "loss", 500) == "trainer_state.json:11"


def test_predict_rows_without_step_inherit_the_previous_step():
    report = analyze(artifact("002"))
    predict = report.run.series("loss", "predict")
    assert len(predict) == 10 and predict.index[0] == 549
    assert any(p.level == "note" and "without `step`" in p.message for p in report.run.problems)


def test_several_eval_sets_land_in_their_own_split(tmp_path: Path):
    # Row layout of a Trainer run with eval_dataset={"g0": ..., "g1": ...}: one log row per eval set.
    doc = {
        "global_step": 2,
        "max_steps": 2,
        "log_history": [
            {"epoch": 1.0, "grad_norm": 1.5, "learning_rate": 1e-05, "loss": 2.5, "step": 2},
            {
                "epoch": 1.0,
                "eval_g0_loss": 1.25,
                "eval_g0_runtime": 0.1,
                "eval_g0_samples_per_second": 10.0,
                "eval_g0_steps_per_second": 1.0,
                "step": 2,
            },
            {"epoch": 1.0, "eval_g1_loss": float("nan"), "eval_g1_runtime": 0.1, "step": 2},
            {"epoch": 1.0, "eval_loss": 1.0, "eval_mean_token_accuracy": 0.5, "eval_runtime": 0.2, "step": 2},
        ],
    }
    (tmp_path / "trainer_state.json").write_text(json.dumps(doc, indent=2, sort_keys=True))
    report = analyze(tmp_path)
    assert report.run.series("loss", "eval_g0").iloc[0] == 1.25
    assert np.isnan(report.run.series("loss", "eval_g1").iloc[0])
    assert report.run.series("mean_token_accuracy", "eval").iloc[0] == 0.5
    assert report.run.series("loss", "eval").iloc[0] == 1.0
    modes = {f.failure_mode: f for f in report.findings}
    assert modes["eval_loss_nan"].evidence["eval_set"] == "eval_g1"


def test_stopped_early_from_global_step_below_max_steps():
    report = analyze(artifact("016"))
    assert report.run.meta["status"] == "stopped_early"
    assert report.run.meta["max_steps"] == 252780


def test_other_training_history_is_reported_not_merged(tmp_path: Path, copy_sample):
    run = copy_sample("hf_healthy")
    other = run / "second_run"
    other.mkdir()
    killed = sample("hf_killed") / "checkpoint-20" / "trainer_state.json"
    (other / "trainer_state.json").write_text(killed.read_text())
    report = analyze(run)
    assert len(report.run.series("loss")) == 60
    notes = [p for p in report.run.problems if p.path == "second_run/trainer_state.json"]
    assert notes and "not analyzed" in notes[0].message


@pytest.mark.parametrize(
    "text, where",
    [
        ("", ""),
        ('{\n  "global_step": 3,\n  "log_history": [\n    {"loss": 1.0, "step": 1}', "line 4"),
    ],
)
def test_empty_and_truncated_files_are_located_errors(tmp_path: Path, text: str, where: str):
    path = tmp_path / "trainer_state.json"
    path.write_text(text)
    with pytest.raises(NothingReadable) as err:
        analyze(path)
    problem = err.value.problems[0]
    assert problem.path == "trainer_state.json"
    assert where in problem.where
    assert ("empty" in problem.message) if not text else ("truncated" in problem.message)


def test_truncated_real_file_names_line_and_column(tmp_path: Path):
    text = (sample("hf_healthy") / "trainer_state.json").read_text()
    path = tmp_path / "trainer_state.json"
    path.write_text(text[: len(text) // 2])
    with pytest.raises(InputError) as err:
        hf_state.load(path, "trainer_state.json")
    assert err.value.problem.where.startswith("line ")
    assert "truncated" in err.value.problem.message


def test_json_that_is_not_a_trainer_state(tmp_path: Path):
    path = tmp_path / "trainer_state.json"
    path.write_text('{"log_history": {"loss": 1}}')
    with pytest.raises(NothingReadable) as err:
        analyze(tmp_path)
    assert "no `log_history` list" in err.value.problems[0].message


def test_truncated_checkpoint_copy_does_not_hide_the_good_one(tmp_path: Path, copy_sample):
    run = copy_sample("hf_healthy")
    bad = run / "checkpoint-60" / "trainer_state.json"
    bad.write_text(bad.read_text()[:500])
    report = analyze(run)
    assert len(report.run.series("loss")) == 60
    failed = [s for s in report.run.sources if s.status == "failed"]
    assert [s.path for s in failed] == ["checkpoint-60/trainer_state.json"]


def test_content_detection_ignores_file_names(tmp_path: Path):
    (tmp_path / "nohup_state.out").write_bytes((sample("hf_healthy") / "trainer_state.json").read_bytes())
    assert len(analyze(tmp_path / "nohup_state.out").run.series("loss")) == 60
    assert ingest(tmp_path).frames[0][0] == "hf_trainer_state"


def test_byte_order_mark_is_tolerated(tmp_path: Path):
    data = (sample("hf_healthy") / "trainer_state.json").read_bytes()
    (tmp_path / "trainer_state.json").write_bytes(b"\xef\xbb\xbf" + data)
    assert len(analyze(tmp_path).run.series("loss")) == 60


def test_absurd_nesting_and_steps_are_located_errors(tmp_path: Path):
    (tmp_path / "trainer_state.json").write_text('{"log_history": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(NothingReadable) as err:
        analyze(tmp_path)
    assert "nested too deeply" in err.value.problems[0].message
    (tmp_path / "trainer_state.json").write_text(
        '{"log_history": [{"loss": 1.0, "step": 1e300}, {"loss": 0.5, "step": 2}]}'
    )
    report = analyze(tmp_path)
    assert report.run.series("loss").to_dict() == {2: 0.5}
    assert "out of range" in report.run.problems[0].message


def test_fifo_in_the_run_folder_is_not_read(tmp_path: Path, copy_sample):
    import os

    run = copy_sample("hf_healthy")
    os.mkfifo(run / "pipe")
    assert len(analyze(run).run.series("loss")) == 60
