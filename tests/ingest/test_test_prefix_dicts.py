"""`trainer.evaluate(test_set, metric_key_prefix="test")` logs the test set's results as a Trainer dict with
`test_` keys after training. The console reader had left that dict to the generic reader, which placed it at its
`epoch` while the Trainer's other dicts stood in record order: the test set's scores landed on an evaluation's
step as that evaluation's (an NDCG of 0 on the test set read as the validation score collapsing mid-run)."""

from __future__ import annotations

from tests.ingest.console_series import series

TRAIN = "{{'loss': {loss}, 'grad_norm': 0.7774, 'learning_rate': 0.00025, 'epoch': {e}.0}}\n"
EVAL = (
    "{{'eval_loss': {loss}, 'eval_ndcg_at_10': {ndcg}, 'eval_runtime': 3.204, 'eval_samples_per_second': 156.1, "
    "'eval_steps_per_second': 19.66, 'epoch': {e}.0}}\n"
)
TEST = (
    "{'test_loss': 0.0841, 'test_ndcg_at_10': 0.0, 'test_runtime': 6.426, 'test_samples_per_second': 155.6, "
    "'test_steps_per_second': 19.45, 'epoch': 4.0}\n"
)


def test_a_test_prefixed_dict_is_the_test_sets_record() -> None:
    text = "".join(
        TRAIN.format(loss=f"{0.12 - e / 100:.2f}", e=e)
        + EVAL.format(loss=f"{0.09 - e / 100:.2f}", ndcg=f"{0.4 + e / 10:.1f}", e=e)
        for e in range(1, 5)
    )
    read = series(text + TEST)
    assert [v for _, v in read["eval/ndcg_at_10"]] == [0.5, 0.6, 0.7, 0.8]  # no test value among them
    assert [v for _, v in read["test/ndcg_at_10"]] == [0.0]
    assert read["test/loss"][0][0] > read["eval/loss"][-1][0]  # after the last evaluation


def test_a_loop_s_own_json_line_with_a_test_loss_is_still_its_evaluation() -> None:
    # MAE's and DeiT's log.txt: one JSON line per epoch, the held-out set named `test` (no other eval set)
    text = "".join(
        f'{{"train_lr": 0.0001, "train_loss": {0.5 - e / 20:.2f}, "test_loss": {0.2 + e / 50:.2f}, '
        f'"test_acc1": {80 + e}.0, "epoch": {e}, "n_parameters": 85800194}}\n'
        for e in range(6)
    )
    read = series(text)
    assert [v for _, v in read["eval/loss"]] == [0.2, 0.22, 0.24, 0.26, 0.28, 0.3]
