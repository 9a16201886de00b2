"""A counter the data shows: a line that opens on a number named by a word no list knows, one more at every line,
counts the records (benchmarks/new_real_logs 6244: an MXNet Gluon script's `E:    1, TrL:      nan`; 6332: a Java
Q-learning loop's `after cycle=0 avg(utility)=..`)."""

from __future__ import annotations

import math

from analyzer.ingest.console import parse_text
from tests.ingest.console_series import series


def test_a_counter_named_by_one_letter_counts_the_records_and_its_nan_values_are_read() -> None:
    text = "".join(f"E: {e:4d}, TrL: {'nan':>8s}, VL: {'nan':>8s}\n" for e in range(3, 13))
    read = series(text)
    assert [s for s, _ in read["train/trl"]] == list(range(3, 13))  # the printed counter, not record order
    assert all(math.isnan(v) for _, v in read["train/trl"] + read["train/vl"])
    assert "train/e" not in read
    template = parse_text(text, "out.log").meta["console_log"]["out.log"]["templates"][0]
    assert template["step_axis"] == "step" and "`E`" in template["why"] and "one more at every line" in template["why"]


def test_a_counter_named_by_words_no_list_knows_is_the_step_of_values_no_list_knows() -> None:
    rows = [(0, 269.99705533176325, 0.35), (1, 266.9900995177197, 0.4), (2, 272.0648127101363, 0.55)]
    text = "".join(f"after cycle={c} avg(utility)={u} avg(num_wins)={w}\n" for c, u, w in rows)
    read = series(text)
    assert read["train/avg_num_wins"] == [(0, 0.35), (1, 0.4), (2, 0.55)]


def test_a_first_value_that_skips_is_no_counter() -> None:
    # `E` going 1, 2, 4: not one more at every line, so no counter is made of it (nor a record of the line)
    text = "".join(f"E: {e:4d}, TrL: {v}, VL: {v}\n" for e, v in ((1, 0.5), (2, 0.4), (4, 0.3), (5, 0.2)))
    assert "train/trl" not in series(text)
