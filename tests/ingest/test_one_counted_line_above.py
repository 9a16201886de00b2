"""Records that all sit under one counted line (the first row of Lightning's model summary, `0 | bert | ...`,
above the dicts a script pretty-prints) are no records of that step: each is one of its own, in printed order,
and an evaluation printed among them sits at the train record before it."""

from __future__ import annotations

from tests.ingest.console_series import series


def _pprinted(split: str, loss: float, acc: float) -> str:
    return f"{{'{split}_acc': {acc},\n '{split}_f1': {acc + 0.01},\n '{split}_loss': {loss}}}\n"


def _log() -> str:
    text = (  # Lightning's model summary: its first row (`0 | bert | ...`) is a counted line, at step 0
        "  | Name | Type                          | Params\n"
        "-------------------------------------------------------\n"
        "0 | bert | BertForSequenceClassification | 334 M \n"
        "-------------------------------------------------------\n"
        "334 M     Trainable params\n"
        "SLURM auto-requeueing enabled. Setting signal handlers.\nTraining: 0it [00:00, ?it/s]\n"
    )
    for epoch in range(3):
        for k in range(4):
            text += _pprinted("train", round(0.75 - 0.05 * (4 * epoch + k), 4), round(0.52 + 0.03 * (4 * epoch + k), 4))
        text += "Validation: 0it [00:00, ?it/s]\n" + _pprinted("val", round(0.25 + 0.01 * epoch, 4), 0.9)
    return text


def test_each_record_is_one_of_its_own() -> None:
    train = series(_log())["train/loss"]
    assert [step for step, _ in train] == list(range(1, 13))
    assert train[0][1] == 0.75 and train[-1][1] == 0.2


def test_an_evaluation_sits_at_the_train_record_before_it() -> None:
    assert [step for step, _ in series(_log())["eval/loss"]] == [4, 8, 12]
