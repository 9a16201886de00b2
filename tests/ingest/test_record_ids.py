"""Fields that say who printed a record and from where are no metrics: the attributes Python's logging writes into a
JSON log record (`lineno`, `process`, `thread`), an MLPerf MLLOG line's `lineno` (new log 1188), Lightning's
`v_num`. They had been series of their own (`train/lineno`)."""

from __future__ import annotations

from tests.ingest.console_series import series, values

JSON_LOGGER = (
    '{{"asctime": "2024-05-01 10:00:0{i}", "levelname": "INFO", "lineno": 88, "process": 4242, "thread": 1399, '
    '"step": {step}, "loss": {loss:.3f}}}\n'
)
MLLOG = (
    ':::MLLOG {{"namespace": "", "time_ms": 15929783{i:05d}, "key": "eval_accuracy", "value": {acc:.3f}, '
    '"metadata": {{"epoch_num": {i}, "lineno": 565, "file": "train.py"}}}}\n'
)


def test_a_json_log_record_s_source_line_process_and_thread_are_no_metrics() -> None:
    read = values("".join(JSON_LOGGER.format(i=i, step=10 * i, loss=2 - i / 10) for i in range(6)))
    assert sorted(read) == ["train/loss"]


def test_an_mllog_line_s_lineno_is_no_metric() -> None:
    read = values("".join(MLLOG.format(i=i, acc=0.1 + i / 20) for i in range(1, 7)))
    assert "eval/accuracy" in read and not any(name.endswith("lineno") for name in read)


def test_a_process_counter_printed_in_a_line_is_still_a_counter() -> None:
    """Kaldi's PyTorch recipe prints `Process 100/3161(3.16%) global average objf: ...` (new log 1625)."""
    line = "2020-01-31 16:17:44,072 INFO [train.py:102] Process {i}/3161({p:.6f}%) global average objf: {o:.6f}\n"
    read = series("".join(line.format(i=100 * k, p=100 * k / 3161, o=-1.2 + k / 10) for k in range(6)))
    assert [step for step, _ in read["train/global_average_objf"]] == [0, 100, 200, 300, 400, 500]
