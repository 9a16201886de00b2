"""IPython's tracebacks (a notebook's cell output, pasted into half the bug reports): the header names the
exception first (`OutOfMemoryError    Traceback (most recent call last)`), frames are `Cell In[9], line 22`
and `File path:1633, in fn(...)`, with `--->` arrows and numbered source lines. A paste cut before the
closing `Type: message` line still says which exception it was (new log 343). A failed kernel assertion
(`Assertion `t >= 0 && t < n_classes` failed.`, ranks printing over each other) is a crash (new log 344)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.api import analyze
from analyzer.errors import NothingReadable
from analyzer.ingest.console import parse_text

HEADER = (
    "---------------------------------------------------------------------------\n"
    "OutOfMemoryError                          Traceback (most recent call last)\n"
    "Cell In[9], line 22\n"
    "     16 trainer = ModifiedTrainer(\n"
    "     17     model=model,\n"
    "---> 22 trainer.train()\n"
    "\n"
    "File ~/miniconda3/envs/t/lib/python3.10/site-packages/transformers/trainer.py:1633, in Trainer.train(self)\n"
    "   1630 inner_training_loop = find_executable_batch_size(\n"
    "-> 1633 return inner_training_loop(\n"
)


def events(text: str) -> list[tuple[str, str]]:
    read = parse_text(text, "cell.txt").events
    return list(zip(read["kind"].tolist(), read["message"].tolist(), strict=True))


def test_a_cut_notebook_traceback_is_the_exception_its_header_names() -> None:
    found = events(HEADER)
    assert ("oom", "CUDA out of memory") in found
    kinds = [k for k, _ in found]
    assert kinds.count("exception") == 1 and any("OutOfMemoryError" in m for _, m in found)


def test_a_whole_notebook_traceback_is_one_exception_with_its_message() -> None:
    found = events(HEADER + "\nOutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB\n")
    exceptions = [m for k, m in found if k == "exception"]
    assert len(exceptions) == 1 and exceptions[0].startswith("OutOfMemoryError: CUDA out of memory")
    assert "trainer.py:1633" in exceptions[0]
    assert any(k == "oom" for k, _ in found)


def test_a_failed_kernel_assertion_is_a_crash_even_when_ranks_interleave(tmp_path: Path) -> None:
    kernel = "/opt/pytorch/aten/src/ATen/native/cuda/Loss.cu:240: nll_loss_forward_reduce_cuda_kernel_2d: "
    text = (
        kernel + "block: [0,0,0], thread: [17,0,0] Assertion `t >= 0 && t < n_classes` failed.\n"
        ",0,0,0,0] Assertion `t >= 0 && t < n_classes], thread: [17` failed.\n"
    )
    found = events(text)
    assert [k for k, _ in found] == ["exception", "exception"]
    assert "t >= 0 && t < n_classes" in found[0][1]
    log = tmp_path / "rank0.log"
    log.write_text(text)
    assert "crash" in {f.failure_mode for f in analyze(log).findings}
    assert events("RuntimeError: CUDA error: device-side assert triggered\n")[0][0] == "exception"


def test_a_keyboard_interrupt_is_a_stop_by_hand_not_an_exception(tmp_path: Path) -> None:
    # fastai v2's table (a `time` column of clocks) in a Windows notebook, then the stop button (new log 359)
    text = (
        "epoch\ttrain_loss\tvalid_loss\taccuracy\ttime\n"
        + "".join(f"{e}\t{v}\t{v}\t0.958595\t00:03\n" for e, v in ((0, 0.61), (1, 0.52), (2, 0.47)))
        + "---------------------------------------------------------------------------\n"
        "KeyboardInterrupt                         Traceback (most recent call last)\n"
        "~\\AppData\\Local\\Temp\\ipykernel_13020\\4198329076.py in <module>\n"
        "----> 1 learn.fit_one_cycle(25, lr_max=1e-3)\n"
    )
    assert [k for k, _ in events(text)] == ["interrupt"]
    log = tmp_path / "cell.txt"
    log.write_text(text)
    report = analyze(log)
    assert report.run.series("loss").tolist() == [0.61, 0.52, 0.47]
    # said as a stop by hand (a warning, run-stopped-by-hand), never as an exception that crashed the run
    crashes = [f for f in report.findings if f.failure_mode == "crash"]
    assert [(f.rule_id, f.severity) for f in crashes] == [("run-stopped-by-hand", "warning")]
    assert "stopped by hand" in crashes[0].message


def test_a_pasted_trainer_state_cut_off_is_read_up_to_the_cut(tmp_path: Path) -> None:
    entry = (
        '    {{\n      "epoch": {e:.2f},\n      "learning_rate": 0.0002,\n      "loss": {v},\n      "step": {s}\n    }}'
    )
    values = ("1.1005", "1.0412", "nan", "nan")
    entries = ",\n".join(entry.format(e=0.05 * k, v=v, s=10 * k) for k, v in enumerate(values, start=1))
    text = '{\n  "best_metric": null,\n  "global_step": 750,\n  "log_history": [\n' + entries + ",\n    {\n"
    paste = tmp_path / "issue_paste.txt"
    paste.write_text(text)
    report = analyze(paste)
    assert report.run.series("loss").index.tolist() == [10, 20, 30, 40]
    assert "loss_nan" in {f.failure_mode for f in report.findings}
    assert any("read as printed text" in p.message for p in report.run.problems)
    named = tmp_path / "run" / "trainer_state.json"  # the format's own file, broken: said so, not guessed at
    named.parent.mkdir()
    named.write_text(text)
    with pytest.raises(NothingReadable):
        analyze(named.parent)


def test_a_failed_glog_check_is_a_crash(tmp_path: Path) -> None:
    text = (
        "I0610 17:15:20.109128  3575 solver.cpp:228] Iteration 150, loss = 1.15994e+06\n"
        "F0610 17:15:24.994758  3575 syncedmem.hpp:30] Check failed: error == cudaSuccess (11 vs. 0)  bad arg\n"
        "*** Check failure stack trace: ***\n"
    )
    found = events(text)
    assert found[0][0] == "exception" and "error == cudaSuccess" in found[0][1]  # glog's `F` prefix taken off
    log = tmp_path / "caffe.log"
    log.write_text(text)
    assert "crash" in {f.failure_mode for f in analyze(log).findings}
