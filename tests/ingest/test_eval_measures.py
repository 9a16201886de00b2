"""Evaluation measures named the usual way (Dice, PSNR, SSIM, recall, NDCG...) are metrics in a line with no
counter, like an accuracy; a counter's word inside a file path (`.../epoch_49.pth`) is no counter; a loss's value at
one point of the run (`final_loss`, `best_loss`) is not the split's loss."""

from __future__ import annotations

from tests.ingest.console_series import series

# EMCAD's segmentation loop: a train line every 50 iterations, an evaluation line and a checkpoint path per epoch.
TRAIN = "iteration {s}, epoch {e} : loss : {loss:.6f}, lr: 0.000800\n"
EVAL = "Testing performance in val model: mean_dice : {dice:.6f}, best_dice : 0.000000\n"
SAVE = "save model to model_pth/pvt_v2_b2_EMCAD_loss_mutation_Run1_lr0.0008_224_s2222/epoch_{e}9.pth\n"


def _log() -> str:
    out = []
    for e in range(5):
        out.append(TRAIN.format(s=50 * (e + 1), e=e, loss=3.0 / (e + 1)))
        out.append(EVAL.format(dice=0.1 * e))
        out.append(SAVE.format(e=e))
    return "".join(out)


def test_a_dice_score_on_a_line_of_its_own_is_an_eval_metric() -> None:
    read = series(_log())
    assert [v for _, v in read["eval/mean_dice"]] == [0.0, 0.1, 0.2, 0.3, 0.4]


def test_a_path_with_an_epoch_in_its_file_name_is_no_record() -> None:
    assert not any("save" in name or "model_pth" in name for name in series(_log()))


def test_a_final_loss_is_not_the_train_loss() -> None:
    text = (
        "{'global_steps': 853, 'eval_loss': 4.0307, 'eval_mlm_accuracy': 0.3826}\n"
        "{'global_steps': 1705, 'eval_loss': 3.7206, 'eval_mlm_accuracy': 0.4190}\n"
        "{'e2e_time': 5131.66, 'training_sequences_per_second': 477.4, 'final_loss': 0.0, 'raw_train_time': 5124.4}\n"
    )
    assert "train/loss" not in series(text)


def test_a_known_measure_printed_twice_is_read() -> None:
    line = "20-07-28 20:02:43.941 - INFO: <epoch:{e:3d}, iter: {i:>7,}> psnr: {p:.4e}. ssim: {s}\n"
    rows = [(99, 5000, 29.862, 0.81), (199, 10000, 30.981, 0.84)]
    read = series("".join(line.format(e=e, i=i, p=p, s=s) for e, i, p, s in rows))
    assert [v for _, v in read["train/psnr"]] == [29.862, 30.981]
