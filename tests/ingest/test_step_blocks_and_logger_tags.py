"""Shapes first seen in benchmarks/new_real_logs 464-548: a trainer's block of `| > name: value (mean)`
lines under a step header (Coqui/Mozilla TTS), a logger's `(module:lineno) LEVEL:` tag with a plain module
name (ParallelWaveGAN's format), an eval set a user named `validate` (XGBoost evals), checkpoint and
early-stopping sentences, split words after a verb, units glued to numbers, the DCGAN example's counters,
federated rounds, loss names with digits."""

from __future__ import annotations

from analyzer.ingest.console import parse_text
from tests.ingest.console_series import series

BLOCK = (
    "   --> STEP: {s}/405 -- GLOBAL_STEP: {g}\n"
    "     | > loss_disc: {d}  ({dm})\n"
    "     | > loss_gen: {l}  ({lm})\n"
    "     | > amp_scaler: 512.00000  (512.00000)\n"
    "     | > grad_norm_0: 2.71000  (3.10000)\n"
    "     | > current_lr_0: 0.00019\n"
    "     | > step_time: 0.75520  (0.56876)\n"
    "\n"
)


def test_a_block_under_a_step_header_is_one_record_with_its_running_means() -> None:
    text = BLOCK.format(s=394, g=246024, d="2.41000", dm="2.40000", l="33.10000", lm="33.00000")
    text += BLOCK.format(s=395, g=246025, d="nan", dm="nan", l="nan", lm="nan")
    read = series(text)
    assert read["train/loss_gen"][0] == (246024, 33.1)
    assert read["train/loss_gen_avg"][0] == (246024, 33.0)
    assert [s for s, _ in read["train/loss_disc"]] == [246024, 246025]
    assert read["train/current_lr_0"] == [(246024, 0.00019), (246025, 0.00019)]


def test_the_block_is_read_when_the_paste_holds_only_the_record_that_went_nan() -> None:
    text = BLOCK.format(s=395, g=246025, d="nan", dm="nan", l="nan", lm="nan") + "Traceback (most recent call last):\n"
    read = series(text)
    assert [s for s, _ in read["train/loss_gen"]] == [246025]
    assert all(v != v for _, v in read["train/loss_gen"])  # NaN kept


def test_a_logger_tag_with_a_plain_module_name_is_no_metric() -> None:
    line = "2022-05-12 14:56:20,955 (train:487) INFO: (Steps: {s}) train/generator_loss = {v}.\n"
    read = series("".join(line.format(s=s, v=v) for s, v in ((1000, 3.2), (2000, 2.9), (3000, 2.7))))
    assert read == {"train/loss": [(1000, 3.2), (2000, 2.9), (3000, 2.7)]}  # the one loss-like name is the loss
    # a counter in brackets with no log level after it is still read
    counted = series("".join(f"(epoch:{e}) loss: 0.{9 - e}\n" for e in range(4)))
    assert counted["train/loss"] == [(0, 0.9), (1, 0.8), (2, 0.7), (3, 0.6)] and "train/epoch" in counted


def test_an_eval_set_named_validate_is_the_eval_split() -> None:
    text = "".join(f"[{i}]\ttrain-rmse:{17 - i:.5f}\tvalidate-rmse:{18 - i:.5f}\n" for i in range(5))
    frames = parse_text(text, "xgb.log")
    read = series(text)
    assert "eval/loss" in read and "train/validate_rmse" not in read
    assert len(frames.metrics)


def test_a_checkpoint_line_saying_the_value_improved_gives_the_new_value() -> None:
    # Keras 2 `fit(verbose=2)` with ModelCheckpoint: the last epoch's own line was cut from the paste (new log 428)
    epochs = [(47, 1.3992, 1.9730), (48, 1.3719, 2.4108)]
    text = "".join(
        f"Epoch {e}/20000\nEpoch 000{e}: val_loss did not improve\n - 498s - loss: {t} - val_loss: {v}\n"
        for e, t, v in epochs
    )
    text += (
        "Epoch 49/20000\nEpoch 00049: val_loss improved from 1.59240 to 1.58877, saving model to "
        "ssd300_weights_epoch-49_loss-1.3484_val_loss-1.5888.h5\n"
    )
    read = series(text)
    assert read["eval/loss"] == [(47, 1.973), (48, 2.4108), (49, 1.58877)]
    assert read["train/loss"] == [(47, 1.3992), (48, 1.3719)]  # nothing read from the file name


def test_an_early_stopping_line_gives_the_eval_value_of_its_epoch() -> None:
    rows = [("inf", 6.556138), (6.556138, 6.542342), (6.542342, 6.501895)]
    text = "".join(
        f"Epoch: {e} cost time: 61.2\nEpoch: {e}, Steps: 1410 | Train Loss: {7 - e / 10:.7f}\n"
        f"Validation loss decreased ({a} --> {b}).  Saving model ...\n"
        for e, (a, b) in enumerate(rows, 1)
    )
    read = series(text)
    assert read["eval/loss"] == [(1, 6.556138), (2, 6.542342), (3, 6.501895)]


def test_a_split_word_before_a_number_with_a_unit_is_no_objective() -> None:
    # CLUT-Net's line (new log 487): `Test:24.80dB` is a PSNR, and the loss is the one loss-function name, `l1`
    line = "E {e}/400 B 2250 PSNR:{p}dB l1:{l1} cos:0.001  epoch:53.4s Test:{t}dB 08.13s best:25.10dB 159.\n"
    rows = [(349, 31.82, 0.021, 24.80), (350, 23.87, 0.057, 24.72), (351, 25.84, 0.037, 24.91)]
    read = series("".join(line.format(e=e, p=p, l1=l1, t=t) for e, p, l1, t in rows))
    assert read["train/loss"] == [(349, 0.021), (350, 0.057), (351, 0.037)]
    # with no unit, a value named by its split alone is still that split's objective (CatBoost)
    catboost = series("".join(f"{i}:\tlearn: 0.{9 - i}\ttest: 0.{9 - i}5\tbest: 0.5 (3)\n" for i in range(4)))
    assert [v for _, v in catboost["train/loss"]] == [0.9, 0.8, 0.7, 0.6]
    assert [v for _, v in catboost["eval/loss"]] == [0.95, 0.85, 0.75, 0.65]


def test_a_split_word_after_a_verb_names_the_split() -> None:
    # 3D Gaussian splatting's evaluation lines (new log 514): `Evaluating test:` and `Evaluating train:`
    line = "[ITER {i}] Evaluating {s}: L1 {l} PSNR {p} [06/12 14:20:11]\n"
    rows = [(7000, "test", 0.4732, 5.39), (7000, "train", 0.4751, 5.34)]
    rows += [(30000, "test", 0.4721, 5.41), (30000, "train", 0.4712, 5.43)]
    read = series("".join(line.format(i=i, s=s, l=v, p=p) for i, s, v, p in rows))
    assert read["eval/loss"] == [(7000, 0.4732), (30000, 0.4721)]
    assert read["train/loss"] == [(7000, 0.4751), (30000, 0.4712)]


DCGAN = "[{e}/20][{b}/32]\tLoss_D: {d:.4f}\tLoss_G: {g:.4f}\tD(x): 0.9787\tD(G(z)): {z1:.4f} / {z2:.4f}\n"


def test_the_dcgan_example_counts_epochs_and_batches_and_its_fractions_are_no_counter() -> None:
    # PyTorch's DCGAN example line (new log 532): `[epoch/N][batch/M]`, then `D(G(z)): before / after`
    rows = [(0, 0, 1.801, 8.096), (0, 10, 7.529, 38.1), (0, 20, 0.0425, 58.4), (1, 0, 0.0, 56.7), (1, 10, 0.0, 56.9)]
    read = series("".join(DCGAN.format(e=e, b=b, d=d, g=g, z1=0.3617, z2=0.0005) for e, b, d, g in rows))
    assert [s for s, _ in read["train/loss_g"]] == [0, 10, 20, 32, 42]  # epoch x 32 + batch
    assert [v for _, v in read["train/d_g_z"]] == [0.3617] * 5  # the first of the two, not a step


def test_a_federated_round_counts_the_records_under_it() -> None:
    # TensorFlow Federated's tutorial loop (new log 548): `Round N` above each round's metrics
    rounds = [("nan", "1.388e10"), ("0.947", "0.899"), ("0.912", "0.656")]
    text = "".join(
        f"Round {r}\n\\Eval metrics: loss={e}, accuracy=0.750\n\tTrain metrics: loss={t}, accuracy=0.673\n"
        for r, (t, e) in enumerate(rounds)
    )
    read = series(text)
    assert [s for s, _ in read["train/loss"]] == [0, 1, 2]


def test_a_loss_named_by_a_word_with_digits_keeps_it() -> None:
    # StyleTTS2 (new log 513): `F0 Loss` and `S2S Loss` beside a bare `Loss` are losses of their own
    line = "INFO:2025-09-30 15:24:19,919: Epoch [47/60], Step [{s}/486], Loss: {v}, F0 Loss: {f}, S2S Loss: 0.5\n"
    read = series("".join(line.format(s=s, v=v, f=f) for s, v, f in ((10, 2.1, 0.3), (20, 2.0, 0.2))))
    assert [v for _, v in read["train/loss"]] == [2.1, 2.0]
    assert [v for _, v in read["train/f0_loss"]] == [0.3, 0.2]
    assert "train/s2s_loss" in read


def test_an_evaluation_under_stepped_train_lines_sits_at_the_step_the_log_was_at() -> None:
    # mmengine (new log 1805): train lines the hint places at epoch x iterations per epoch, and `Epoch(val)
    # [10][2/2]` after every tenth epoch: the eval's epoch, times its own two eval batches, is no train step.
    train = (
        "2023/06/11 19:36:53 - mmengine - INFO - Epoch(train)  [{e}][4/4]  lr: 2.5864e-05  eta: 0:30:48  time: 2.3225  "
        "data_time: 1.6554  memory: 2012  loss: {loss:.4f}  loss_cls: {loss:.4f}  loss_bbox: 0.0000\n"
    )
    val = (
        "2023/06/11 19:37:10 - mmengine - INFO - Epoch(val) [{e}][2/2]    coco/bbox_mAP: {ap:.4f}  coco/bbox_mAP_50: "
        "0.0040  coco/bbox_mAP_75: 0.0020  data_time: 0.5660  time: 0.8317\n"
    )
    text = ""
    for e in range(1, 31):
        text += train.format(e=e, loss=0.5 - e / 100)
        if e % 10 == 0:
            text += val.format(e=e, ap=e / 1000)
    read = series(text)
    assert [s for s, _ in read["train/loss"]][-1] == 120
    assert [s for s, _ in read["eval/coco_bbox_map"]] == [40, 80, 120]


def test_an_uncounted_evaluation_among_counted_steps_sits_on_their_axis() -> None:
    # build-nanogpt (new log 1529): `validation loss: 10.9499` with no counter, printed before step 0's line
    # and then every 250 steps; it was placed by record order (1, 2, 3, 4) beside steps 0-19072
    step = "step {s:5d} | loss: {v:.6f} | lr 8.3916e-07 | norm: 15.3438 | dt: 4738.40ms | tok/sec: 110646.69\n"
    text = ""
    for s in range(0, 751):
        if s % 250 == 0:
            text += f"validation loss: {11 - s / 100:.4f}\n"
        text += step.format(s=s, v=11 - s / 80)
    read = series(text)
    assert [s for s, _ in read["eval/loss"]] == [0, 249, 499, 749]
    assert read["train/loss"][0] == (0, 11.0)


def test_fairseqs_json_records_are_placed_by_their_num_updates() -> None:
    # fairseq's `--log-format json` (new log 1769): train_inner dicts carry the epoch and a fractional `update`,
    # and their global step as `num_updates`; the valid dicts, `valid_num_updates`: one axis for both
    inner = (
        '[2021-03-19 19:41:00,127][train_inner][INFO] - {{"epoch": {e}, "update": {e}.045, "loss": "{loss}", '
        '"ntokens": "3760.37", "nll_loss": "176.536", "num_updates": "{n}", "lr": "6.7125e-07", '
        '"gnorm": "792.967", "loss_scale": "1", "train_wall": "412", "wall": "1078"}}\n'
    )
    valid = (
        '[2021-03-19 19:51:14,750][valid][INFO] - {{"epoch": {e}, "valid_loss": "{loss}", "valid_ntokens": "3570.45",'
        ' "valid_wer": "100", "valid_num_updates": "{n}", "valid_best_wer": "100"}}\n'
    )
    text = "".join(
        inner.format(e=e, loss=1659.37 / e, n=200 * e) + valid.format(e=e, loss=720.711 / e, n=200 * e + 189)
        for e in range(1, 5)
    )
    read = series(text)
    assert [s for s, _ in read["train/loss"]] == [200, 400, 600, 800]
    assert [s for s, _ in read["eval/loss"]] == [389, 589, 789, 989]
    assert "train/num_updates" not in read


def test_step_counted_records_of_the_train_loss_come_before_an_epochs_summary_of_it() -> None:
    # Joey NMT (new log 1721): `Epoch 1: total training loss 813.29` at the end of each epoch (100 of them)
    # beside `Epoch 2 Step: 200 Batch Loss: 4.598` every 200 steps (78): the batch losses are the train loss,
    # the epoch's sum its summary, on the same step axis
    text = ""
    step = 0
    for epoch in range(1, 9):
        for _ in range(3):
            step += 50
            if step % 200 == 0:
                text += (
                    f"2020-05-12 16:48:35,873 Epoch {epoch:3d} Step: {step:8d} Batch Loss: {5 - step / 400:12.6f} "
                    "Tokens per Sec:     8992, Lr: 0.000200\n"
                )
        text += f"2020-05-12 16:48:23,262 Epoch {epoch:3d}: total training loss {813.29 - 20 * epoch:.2f}\n"
    read = series(text)
    assert [s for s, _ in read["train/loss"]] == [200, 400, 600, 800, 1000, 1200]
    assert len(read["train/loss_summary"]) == 8


def _dashed_table(rows: dict[str, str]) -> str:
    """OpenAI's logger (baselines, guided-diffusion): one `| name | value |` row per key between dashed lines."""
    return "-" * 29 + "\n" + "".join(f"| {k:<14} | {v:<8} |\n" for k, v in rows.items()) + "-" * 29 + "\n"


def test_names_with_an_at_sign_are_read_and_the_first_record_without_a_grad_norm_is_one_of_the_kind() -> None:
    first = {"samples": "32", "step": "0", "train_acc@1": "0", "train_acc@5": "0.0312", "train_loss": "6.94"}
    text = _dashed_table(first)
    for step, loss, grad in ((10, "6.93", "2.41"), (20, "6.94", "1.1"), (30, "6.92", "0.873")):
        text += _dashed_table(
            {
                "grad_norm": grad,
                "samples": str(32 * (step + 1)),
                "step": str(step),
                "train_acc@1": "0",
                "train_acc@5": "0",
                "train_loss": loss,
            }
        )
    read = series(text)
    assert sorted(read["train/loss"]) == [(0, 6.94), (10, 6.93), (20, 6.94), (30, 6.92)]  # step 0 is no `_summary`
    assert sorted(s for s, _ in read["train/acc@1"]) == [0, 10, 20, 30]
    assert min(read["train/acc@5"]) == (0, 0.0312)
