"""LLaMA-Factory trainer_log.jsonl: real files, old and new schemas, broken lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer import analyze
from analyzer.errors import NothingReadable
from analyzer.ingest.llamafactory import parse_duration
from tests.conftest import artifact, case

# Rows as published (docs/formats.md §2.1): old schema with explicit nulls and `learning_rate`,
# old schema with a string `throughput`.
OLD_NULLS = (
    '{"current_steps": 5, "total_steps": 8712, "loss": 1.7484, "eval_loss": null, "predict_loss": null, '
    '"reward": null, "learning_rate": 4.999995936372264e-05, "epoch": 0.0, "percentage": 0.06, '
    '"elapsed_time": "0:03:29", "remaining_time": "4 days, 5:06:09"}'
)
OLD_THROUGHPUT = (
    '{"current_steps": 10, "total_steps": 8660, "loss": 2.4977, "learning_rate": 5.773672055427253e-07, '
    '"epoch": 0.004618937644341801, "percentage": 0.12, "elapsed_time": "0:00:24", '
    '"remaining_time": "5:58:33", "throughput": "0.00", "total_tokens": 0}'
)


def test_new_schema_lr_and_elapsed_time():
    report = analyze(artifact("014") / "trainer_log.jsonl")
    run = report.run
    assert len(run.series("loss")) == 202
    assert run.series("learning_rate").iloc[-1] == pytest.approx(1.980392156862745e-07)
    assert run.series("rewards/accuracies").iloc[-1] == 1.0
    last = run.metrics[(run.metrics["metric"] == "loss") & (run.metrics["step"] == 202)].iloc[0]
    assert last["wall_time"] == 2 * 3600 + 30 * 60 + 48
    assert run.meta["clock"] == "elapsed"
    assert run.meta["status"] == "stopped_early" and "202 of total_steps 5100" in run.meta["status_reason"]


def test_old_schema_nulls_and_final_null_record():
    report = analyze(case("037") / "trainer_log.jsonl")
    loss = report.run.series("loss")
    assert list(loss.index) == [3200, 3210, 3220, 3230]  # the final record's loss is null, not 0
    assert report.run.series("learning_rate").iloc[0] == pytest.approx(1.4439610072863874e-08)
    assert report.run.meta["status"] == "completed"
    assert report.verdict == "healthy"


def test_old_schema_string_throughput_and_explicit_nulls(tmp_path: Path):
    path = tmp_path / "trainer_log.jsonl"
    path.write_text(OLD_NULLS + "\n" + OLD_THROUGHPUT + "\n")
    run = analyze(path).run
    assert run.series("loss").to_dict() == {5: 1.7484, 10: 2.4977}
    assert run.series("throughput").iloc[0] == 0.0
    assert not run.has("loss", "eval")


def test_merged_with_trainer_state_keeps_grad_norm_and_exact_values():
    report = analyze(artifact("015"))
    run = report.run
    assert len(run.series("loss")) == 48
    assert run.has("grad_norm")
    sources = {s.path: s.status for s in run.sources}
    assert sources["trainer_state.json"] == "read" and sources["trainer_log.jsonl"] == "read"
    assert run.meta["duplicates"]["across_sources"] > 0
    assert set(run.metrics.loc[run.metrics["metric"] == "loss", "source"]) == {"trainer_state.json"}


def test_cut_last_line_is_reported_and_the_rest_read(tmp_path: Path):
    path = tmp_path / "trainer_log.jsonl"
    path.write_text(OLD_NULLS + "\n" + OLD_THROUGHPUT[:60])
    report = analyze(path)
    assert len(report.run.series("loss")) == 1
    problem = report.run.problems[0]
    assert problem.where.startswith("line 2") and "cut off" in problem.message


def test_no_readable_rows(tmp_path: Path):
    path = tmp_path / "trainer_log.jsonl"
    path.write_text('{"current_steps": "x", "total_steps": 3}\n')
    with pytest.raises(NothingReadable):
        analyze(path)


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("0:00:24", 24),
        ("9 days, 21:39:23", 9 * 86400 + 21 * 3600 + 39 * 60 + 23),
        ("1 day, 0:00:01.5", 86401.5),
        ("soon", float("nan")),
    ],
)
def test_parse_duration(text: str, seconds: float):
    value = parse_duration(text)
    assert value == seconds or (value != value and seconds != seconds)


def test_logged_nan_is_kept_and_text_that_is_no_number_is_skipped(tmp_path: Path):
    rows = [
        '{"current_steps": 1, "total_steps": 3, "loss": 2.5, "note": "warmup", "grad_norm": "1.5"}',
        '{"current_steps": 2, "total_steps": 3, "loss": NaN, "note": "x", "grad_norm": "nan"}',
        '{"current_steps": 3, "total_steps": 3, "loss": 2.1, "grad_norm": true}',
    ]
    (tmp_path / "trainer_log.jsonl").write_text("\n".join(rows) + "\n")
    run = analyze(tmp_path / "trainer_log.jsonl").run
    loss, grad = run.series("loss"), run.series("grad_norm")
    assert list(loss.index) == [1, 2, 3] and loss[1] == 2.5 and loss[2] != loss[2] and loss[3] == 2.1
    assert list(grad.index) == [1, 2, 3] and grad[1] == 1.5 and grad[2] != grad[2] and grad[3] == 1.0
    assert not run.has("note")
