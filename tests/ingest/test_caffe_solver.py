"""Caffe's solver output as Caffe 1.0 prints it (benchmarks/new_real_logs 3141, 4250, 6541): a number after `#` is an
ordinal (`Test net output #0`), never a measure; and the `Iteration N (r iter/s, ..), loss = x` records the hint leaves
to the generic reader are the train loss, not a summary beside the one `Iteration N, loss = x` line the hint reads at
the end; its `(11.67 iter/s, ..)` is a rate."""

from __future__ import annotations

import pytest

from tests.ingest.console_series import series


def _solver(first: int, last: int, every: int, end_on_display: bool = False) -> str:
    lines = []
    for k, it in enumerate(range(first, last + every if end_on_display else last, every)):
        loss = round(0.9 / (k + 1), 6)
        stamp = f"I0224 11:{51 + k // 60:02d}:{k % 60:02d}.922637 25595"
        lines += [
            f"{stamp} solver.cpp:331] Iteration {it}, Testing net (#0)",
            f"{stamp} solver.cpp:398]     Test net output #0: accuracy = {0.9 + k / 1000:.6g}",
            f"{stamp} solver.cpp:398]     Test net output #1: loss = {loss + 0.1:.6g} (* 1 = {loss + 0.1:.6g} loss)",
            f"{stamp} solver.cpp:219] Iteration {it} (11.6727 iter/s, 8.567s/100 iters), loss = {loss:.6g}",
            f"{stamp} solver.cpp:238]     Train net output #0: loss = {loss:.6g} (* 1 = {loss:.6g} loss)",
            f"{stamp} sgd_solver.cpp:105] Iteration {it}, lr = 0.00573211",
        ]
    lines.append(f"I0224 11:58:12.790951 25595 solver.cpp:311] Iteration {last}, loss = 0.018582")
    return "\n".join(lines) + "\n"


def test_an_ordinal_after_a_hash_is_no_metric() -> None:
    read = series(_solver(9400, 10400, 100))
    assert not any("net_output" in name for name in read)
    assert [v for _, v in read["eval/accuracy"]][:2] == [0.9, 0.901]


def test_a_counter_after_a_hash_is_still_a_counter() -> None:
    text = "".join(f"Epoch #{e}: test_reward: {100 + e}.0, loss: {1 / e:.4f}\n" for e in range(1, 8))
    read = series(text)
    assert [s for s, _ in read["train/loss"]] == list(range(1, 8))


@pytest.mark.parametrize("end_on_display", [False, True])
def test_the_solver_records_are_the_train_loss_beside_the_hints_last_line(end_on_display: bool) -> None:
    # the run may end on a display (the solver then prints that iteration twice, its display and its last line)
    read = series(_solver(9400, 10400, 100, end_on_display))
    loss = sorted(read["train/loss"])
    assert sorted({s for s, _ in loss}) == [*range(9400, 10400, 100), 10400]  # the records and the hint's last line
    assert loss[0][1] == 0.9
    # the solver's rate is a throughput named by its unit, not a counter named `iter`
    assert [v for _, v in read["train/iter_per_second"]][:1] == [11.6727] and "train/iter" not in read
