"""Lightning CSVLogger metrics.csv: files written by the real CSVLogger, two published runs, broken files."""

from __future__ import annotations

import importlib.util
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from analyzer import analyze
from analyzer.errors import InputError, NothingReadable
from analyzer.ingest import detect, lightning_csv
from analyzer.ingest.base import read_head
from tests.conftest import artifact

# Written once by the real CSVLogger (tests/data/lightning/make.py; README.md there says with which versions),
# so that these tests need neither torch nor lightning.
DATA = Path(__file__).resolve().parents[1] / "data" / "lightning"
TINY = DATA / "csvlogger_tiny"
VERSION = Path("lightning_logs") / "version_0"

WANDB_EXPORT = (
    '"Step","run-1 - train/loss","run-1 - train/loss__MIN","run-1 - train/loss__MAX"\n"10","2.5","2.4","2.6"\n'
)


def _check_csvlogger_run(folder: Path, seen: list[float]) -> None:
    """What make.py's run must read as: 12 steps of train_loss, 2 epochs, NaN/inf probe, the hparams."""
    run = analyze(folder).run
    loss = run.series("loss")
    assert len(seen) == 12 and list(loss.to_numpy()) == seen  # str(float) in the CSV reads back exactly
    assert list(loss.index) == list(range(12))
    assert list(run.series("loss_epoch").index) == [5, 11]  # the epoch aggregate of train_loss, kept apart
    assert list(run.series("loss", "eval").index) == [5, 11]
    probe = run.series("probe")  # Lightning repeats a step value on the later steps of the epoch
    assert list(probe.index) == [2, 3, 4, 5] and math.isnan(probe[2]) and math.isnan(probe[3])
    assert probe[4] == probe[5] == math.inf
    assert run.series("epoch").to_dict() == {s: float(s // 6) for s in range(12)}
    section = run.meta["lightning"]
    assert section["hparams"] == {"batch_size": 8, "betas": [0.9, 0.999], "lr": 0.05, "precision": "bf16-mixed"}
    assert section["settings"] == {
        "learning_rate": 0.05,
        "per_device_train_batch_size": 8,
        "precision": "bf16",
        "precision_source": "hparams.yaml:precision",
    }
    # derive_meta takes the Lightning settings when no Trainer file gives them
    assert (run.meta["learning_rate"], run.meta["per_device_train_batch_size"]) == (0.05, 8)
    assert (run.meta["precision"], run.meta["precision_source"]) == ("bf16", "hparams.yaml:precision")
    assert run.meta["framework"] == "lightning"
    assert run.meta["status"] == "unknown"  # a CSVLogger folder says nothing of how the run ended
    notes = [p for p in run.problems if p.path == "hparams.yaml"]
    assert len(notes) == 1 and notes[0].level == "note" and "python/tuple" in notes[0].message
    assert notes[0].where == "line 2"
    assert not [p for p in run.problems if p.path != "hparams.yaml" and not Path(p.path).is_absolute()]
    assert {s.path: (s.format, s.status) for s in run.sources} == {
        "metrics.csv": ("lightning_csv", "read"),
        "hparams.yaml": ("lightning_csv", "read"),
    }
    cited = run.metrics[(run.metrics["metric"] == "loss") & (run.metrics["split"] == "train")]
    assert list(cited["line"]) == list(range(2, 8)) + list(range(10, 16)) and set(cited["source"]) == {"metrics.csv"}


def test_committed_csvlogger_run_round_trips():
    expected = json.loads((TINY / "expected.json").read_text())
    seen = expected["train_loss"]
    assert seen[0] == 0.32315126061439514 and seen[-1] == 0.9138396382331848  # the committed values, pinned
    _check_csvlogger_run(TINY / VERSION, seen)
    run = analyze(TINY / VERSION).run
    assert run.series("loss", "eval").to_dict() == {5: 0.6601340174674988, 11: 0.6057692170143127}
    assert run.series("loss_epoch").to_dict() == {5: 0.8230481147766113, 11: 0.6650993227958679}


@pytest.fixture(scope="module")
def lightning_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[float]]:
    """The version folder the real CSVLogger writes now (make.py into a temporary folder), and the train losses
    the module computed. Only where lightning is installed (CI has no torch)."""
    if importlib.util.find_spec("lightning") is None or importlib.util.find_spec("torch") is None:
        pytest.skip("lightning is not installed")
    root = tmp_path_factory.mktemp("lightning")
    subprocess.run([sys.executable, str(DATA / "make.py"), str(root)], check=True, capture_output=True, timeout=300)
    return root / VERSION, json.loads((root / "expected.json").read_text())["train_loss"]


def _layout(folder: Path) -> list[list[str]]:
    """metrics.csv with every number replaced by `x`: the header, the epoch and step cells, which cells are
    empty, nan or inf."""
    rows = [line.split(",") for line in (folder / "metrics.csv").read_text().splitlines()]
    keep = {"epoch", "step"}
    return [rows[0]] + [
        [c if name in keep or c in ("", "nan", "inf", "-inf") else "x" for name, c in zip(rows[0], row, strict=True)]
        for row in rows[1:]
    ]


def test_live_csvlogger_matches_the_committed_files(lightning_run: tuple[Path, list[float]]):
    folder, seen = lightning_run
    _check_csvlogger_run(folder, seen)
    assert sorted(p.name for p in folder.iterdir()) == ["hparams.yaml", "metrics.csv"]
    # The committed copy still has the layout the installed Lightning writes (else rerun make.py).
    assert _layout(folder) == _layout(TINY / VERSION)
    assert (folder / "hparams.yaml").read_text() == (TINY / VERSION / "hparams.yaml").read_text()


def test_published_healthy_run():
    folder = artifact("009")
    run = analyze(folder).run
    loss = run.series("loss")
    assert len(loss) == 2814 and loss[49] == 7.628580570220947 and loss.iloc[-1] == pytest.approx(3.566, abs=1e-3)
    val = run.series("loss", "eval")
    assert len(val) == 10 and val.is_monotonic_decreasing  # label: val_loss falls every epoch
    assert val.iloc[0] == pytest.approx(4.13, abs=0.01) and val.iloc[-1] == 3.570486068725586
    assert val.index[-1] == 140739
    assert len(run.series("loss_epoch")) == 10 and run.series("loss_epoch").iloc[-1] == 3.687237024307251
    assert run.has("perplexity") and run.has("epoch_perplexity", "eval") and run.has("epoch_time")
    assert run.meta["lightning"]["hparams"]["num_epochs"] == 10
    assert run.meta["lightning"]["settings"]["learning_rate"] == 0.0002363235740126483
    assert not run.problems


def test_published_stuck_run():
    run = analyze(artifact("010")).run
    loss = run.series("loss")
    assert len(loss) == 220 and loss.index[0] == 49 and loss.index[-1] == 10999
    assert loss[49] == 7.6820597648620605
    assert loss.between(7.4, 7.9).all()  # label: stuck at 7.6-7.7 for every logged step
    assert not run.has("loss", "eval") and not run.has("loss_epoch")
    assert run.meta["lightning"]["columns"] == ["epoch", "step", "train_loss_step", "train_perplexity_step"]


@pytest.mark.parametrize(
    "head, claimed",
    [
        (b"epoch,step,train_loss_step\n0,49,7.6\n", True),
        (b"step,loss\n", True),  # header only
        (b"epoch,loss,val_loss\n0,1.2,1.3\n", False),  # Keras CSVLogger: no step column
        (WANDB_EXPORT.encode(), False),
        (b"Step,run-1 - train/loss\n10,2.5\n", False),
        (b"name,step,comment\nalice,3,hello\n", False),  # text cells
        (b"step,step,loss\n1,1,2.0\n", False),
        (b'{"step": 1}\n', False),
    ],
)
def test_sniff(tmp_path: Path, head: bytes, claimed: bool):
    path = tmp_path / "metrics.csv"
    path.write_bytes(head)
    assert lightning_csv.sniff(path, read_head(path)) is claimed


def test_hparams_yaml_is_claimed_only_beside_a_metrics_csv(tmp_path: Path):
    (tmp_path / "hparams.yaml").write_text("lr: 0.1\n")
    assert not lightning_csv.sniff(tmp_path / "hparams.yaml", read_head(tmp_path / "hparams.yaml"))
    (tmp_path / "metrics.csv").write_text("epoch,step,train_loss\n0,1,2.0\n")
    assert detect(tmp_path / "hparams.yaml") is lightning_csv
    assert detect(tmp_path / "metrics.csv") is lightning_csv


def _copy(folder: Path, dest: Path) -> Path:
    dest.mkdir()
    for name in ("metrics.csv", "hparams.yaml"):
        shutil.copy(folder / name, dest / name)
    return dest / "metrics.csv"


def test_cut_last_line_keeps_its_complete_cells(tmp_path: Path):
    path = _copy(artifact("010"), tmp_path / "run")
    text = path.read_text()
    path.write_text(text[: text.rindex(",") + 4])  # `0,10999,7.563084602355957,19` cut in its last cell
    run = analyze(tmp_path / "run").run
    assert run.series("loss")[10999] == 7.563084602355957
    assert 10999 not in run.series("train_perplexity").index
    problem = next(p for p in run.problems if "cut off" in p.message)
    assert problem.path == "metrics.csv" and problem.where == "line 221"


def test_corrupted_cells_and_rows_are_reported_and_skipped(tmp_path: Path):
    path = tmp_path / "metrics.csv"
    path.write_text(
        "epoch,step,train_loss_step,val_loss\n0,1,2.5,\n0,2,garbage,\n0,3,2.25\n0,x,2.0,\n0,4,nan,inf\n0,5,-inf,\n"
    )
    run = analyze(path).run
    loss = run.series("loss")
    assert list(loss.index) == [1, 4, 5] and loss[1] == 2.5 and math.isnan(loss[4]) and loss[5] == -math.inf
    assert run.series("loss", "eval")[4] == math.inf
    wheres = {p.message.split(";")[0]: p.where for p in run.problems}
    assert wheres == {
        "column `train_loss_step`: 1 cell(s) are not numbers": "line 3",
        "1 row(s) do not have the header's 4 cells": "line 4",
        "1 row(s) without a readable `step`": "line 5",
    }


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "file is empty"),
        ("epoch,step,train_loss_step\n", "no metric rows after the header"),
        ("epoch,step,train_lo", "ends inside its header line"),
    ],
)
def test_empty_header_only_and_cut_header(tmp_path: Path, text: str, message: str):
    path = tmp_path / "metrics.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        lightning_csv.parse(path, "metrics.csv")


def test_no_step_column_is_not_read_as_lightning(tmp_path: Path):
    path = tmp_path / "metrics.csv"
    path.write_text("epoch,loss\n0,1.0\n")
    with pytest.raises(InputError, match="no `step` column"):
        lightning_csv.parse(path, "metrics.csv")
    with pytest.raises(NothingReadable):
        analyze(tmp_path)


def test_hparams_object_tags_are_never_executed(tmp_path: Path):
    marker = tmp_path / "pwned"
    (tmp_path / "metrics.csv").write_text("epoch,step,train_loss\n0,1,2.0\n")
    (tmp_path / "hparams.yaml").write_text(
        f"cmd: !!python/object/apply:os.system ['touch {marker}']\n"
        "dtype: !!python/name:torch.float32 ''\n"
        "opt: !!python/object:argparse.Namespace {lr: 0.001, batch_size: 16}\n"
    )
    run = analyze(tmp_path).run
    assert not marker.exists()
    hparams = run.meta["lightning"]["hparams"]
    assert hparams == {"cmd": [f"touch {marker}"], "dtype": "torch.float32", "opt": {"lr": 0.001, "batch_size": 16}}
    assert run.meta["lightning"]["settings"]["learning_rate"] == 0.001  # nested hparams are searched too
    assert any(p.path == "hparams.yaml" and p.where == "line 1" for p in run.problems)


def test_broken_hparams_yaml_is_a_problem_not_a_failure(tmp_path: Path):
    (tmp_path / "metrics.csv").write_text("epoch,step,train_loss\n0,1,2.0\n")
    (tmp_path / "hparams.yaml").write_text("lr: [0.1\n")
    run = analyze(tmp_path).run
    assert run.series("loss")[1] == 2.0 and "hparams" not in run.meta["lightning"]
    assert any(p.path == "hparams.yaml" and "invalid YAML" in p.message for p in run.problems)


def test_series_names():
    keys = [
        "epoch",
        "step",
        "train_loss_step",
        "train_loss_epoch",
        "val_loss",
        "val_acc_epoch",
        "lr-AdamW",
        "lr-AdamW-momentum",
        "global_step",
        "time_per_step",
        "train_perplexity_step",
        "test/acc",
    ]
    assert lightning_csv.series_names(keys) == {
        "epoch": ("train", "epoch"),
        "train_loss_step": ("train", "loss"),
        "train_loss_epoch": ("train", "loss_epoch"),
        "val_loss": ("eval", "loss"),
        "val_acc_epoch": ("eval", "acc"),  # no `_step` partner: the epoch value is the series
        "lr-AdamW": ("train", "learning_rate"),
        "lr-AdamW-momentum": ("train", "lr-AdamW-momentum"),
        "global_step": ("train", "global_step"),
        "time_per_step": ("train", "time_per_step"),
        "train_perplexity_step": ("train", "perplexity"),
        "test/acc": ("test", "acc"),
    }


def test_large_file_reads_quickly(tmp_path: Path):
    path = tmp_path / "metrics.csv"
    rows = [f"{s // 1000},{s},{7.5 - s * 1e-6!r},{2000.0 - s * 1e-3!r}" for s in range(200_000)]
    path.write_text("epoch,step,train_loss_step,train_perplexity_step\n" + "\n".join(rows) + "\n")
    frames = lightning_csv.parse(path, "metrics.csv")
    assert len(frames.metrics) == 600_000
    assert frames.metrics["line"].max() == 200_001


def test_fast_and_line_by_line_readers_agree():
    text = (artifact("009") / "metrics.csv").read_text()
    text = text.replace(",7.364057540893555,", ",nan,").replace(",1859.385498046875,", ",x,")
    header = text.partition("\n")[0].split(",")
    fast = lightning_csv._fast_table(text, header)
    assert fast is not None
    lines = text.split("\n")[:-1]
    slow = lightning_csv._slow_table(lines, header, False, "metrics.csv", [])
    assert (fast[1] == slow[1]).all()
    for (fv, fok, ffilled), (sv, sok, sfilled) in zip(fast[0], slow[0], strict=True):
        assert (fok == sok).all() and (ffilled == sfilled).all()
        assert ((fv == sv) | (np.isnan(fv) & np.isnan(sv))).all()
