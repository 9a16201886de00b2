"""A run whose one eval set has a name (the Trainer's `metric_key_prefix="eval_test"` prints
`eval_test_loss`, new log 379) is judged on it by every eval rule, as a plain `eval_loss` is; with two
named eval sets and no plain one, neither stands for `eval`."""

from __future__ import annotations

from pathlib import Path

from analyzer.api import analyze

TRAIN = "{{'loss': {v}, 'learning_rate': 3e-05, 'epoch': {e}}}\n"
EVAL = "{{'{prefix}_loss': {v}, '{prefix}_runtime': 2.1, 'epoch': {e}}}\n"


def report(tmp_path: Path, prefixes: tuple[str, ...]) -> set[str]:
    rows = []
    for i, (t, v) in enumerate(((0.9, 0.80), (0.5, 0.78), (0.3, 0.85), (0.2, 0.97), (0.1, 1.12)), start=1):
        rows.append(TRAIN.format(v=t, e=float(10 * i)))
        rows += [EVAL.format(prefix=p, v=v, e=float(10 * i)) for p in prefixes]
    log = tmp_path / "train.log"
    log.write_text("".join(rows))
    return {f.failure_mode for f in analyze(log).findings}


def test_the_one_named_eval_set_is_the_eval_split(tmp_path: Path) -> None:
    assert "overfitting" in report(tmp_path, ("eval_test",))


def test_two_named_eval_sets_are_not_mixed(tmp_path: Path) -> None:
    assert "overfitting" not in report(tmp_path, ("eval_test", "eval_validation"))
