"""A loss nobody named `loss` whose every part ran away diverged; a GAN's generator climbing while its discriminator
falls did not. A line printed once with dozens of settings and one `avg_loss: 0` is a settings dump, no record."""

from __future__ import annotations

from pathlib import Path

from analyzer import analyze
from tests.ingest.console_series import series

# DeepFaceLab's SAE trainer (new log 3490): `[time][#iteration][ms] src_loss:.. dst_loss:..`
DFL = "[02:4{m}:23][#0{it}][4251ms] src_loss:{s} dst_loss:{d}\n"


def _log(tmp_path: Path, rows: list[tuple[float, float]]) -> Path:
    log = tmp_path / "train.log"
    log.write_text("".join(DFL.format(m=i % 10, it=61370 + 10 * i, s=s, d=d) for i, (s, d) in enumerate(rows)))
    return log


def test_every_part_of_the_loss_running_away_is_a_divergence(tmp_path: Path) -> None:
    rows = [(0.286, 0.137), (0.211, 0.101), (0.221, 0.176), (0.228, 0.171)]
    rows += [(18.271, 40.176), (19.5572, 40.248), (17.217, 39.314), (18.575, 40.589)]
    report = analyze(_log(tmp_path, rows))
    assert report.verdict == "divergence"
    assert next(f for f in report.findings if f.failure_mode == "divergence").onset_step == 61410


def test_one_part_climbing_while_the_other_falls_is_no_divergence(tmp_path: Path) -> None:
    # a GAN's generator loss rises as its discriminator wins: the parts pull apart, no objective ran away
    rows = [(0.7 + 0.4 * i, max(0.7 - 0.09 * i, 0.01)) for i in range(8)]
    assert "divergence" not in {f.failure_mode for f in analyze(_log(tmp_path, rows)).findings}


def test_a_settings_dict_printed_once_is_no_record() -> None:
    # RWKV-PEFT's args dict at the top of its train_log.txt (new log 3462): paths, flags and sizes beside `avg_loss: 0`
    settings = {"load_model": "/models/rwkv-5.pth", "wandb": "", "grad_cp": False}
    settings |= {f"setting_{i}": i for i in range(30)} | {"avg_loss": 0, "n_layer": 24, "lora_r": 8}
    assert "train/loss" not in series(repr(settings) + "\n")
    # numbers only, printed once: a record all the same (rlkit's statistics of one epoch)
    stats = {f"trainer/q{i}_mean": 1.5 + i for i in range(25)} | {"trainer/qf1_loss": 1.36e19}
    assert series(repr(stats) + "\n")["train/loss"] == [(1, 1.36e19)]  # the one loss of the record is it
