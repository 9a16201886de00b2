"""Write tests/data/lightning/csvlogger_tiny/ with the real Lightning CSVLogger (needs torch and lightning).

    python tests/data/lightning/make.py            # regenerates tests/data/lightning/csvlogger_tiny/
    python tests/data/lightning/make.py OUT_DIR    # writes OUT_DIR/ instead (the live test does this)

A tiny LightningModule trained for 2 epochs of 6 batches on CPU: train_loss logged on_step and on_epoch,
val_loss per epoch, a `probe` that logs NaN at step 2 and inf at step 4, and a tuple hyperparameter (which
CSVLogger writes as a `!!python/tuple` tag). The logger writes OUT_DIR/lightning_logs/version_0/metrics.csv
and hparams.yaml; this script adds OUT_DIR/expected.json: the train losses the module computed (float(loss)
per step, in order) and the versions that produced the files.
"""

from __future__ import annotations

import json
import math
import platform
import shutil
import sys
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.loggers import CSVLogger


class Tiny(L.LightningModule):
    def __init__(self, lr=0.05, betas=(0.9, 0.999), precision="bf16-mixed", batch_size=8):
        super().__init__()
        self.save_hyperparameters()
        self.layer = torch.nn.Linear(4, 1)
        self.seen: list[float] = []

    def training_step(self, batch, i):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.layer(x), y)
        self.log("train_loss", loss, on_step=True, on_epoch=True)
        self.seen.append(float(loss))
        if self.global_step in (2, 4):
            self.log("probe", math.nan if self.global_step == 2 else math.inf, on_step=True)
        return loss

    def validation_step(self, batch, i):
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self.layer(x), y))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


def main(out: Path) -> None:
    shutil.rmtree(out / "lightning_logs", ignore_errors=True)  # else CSVLogger writes version_1
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    data = torch.utils.data.TensorDataset(torch.randn(48, 4), torch.randn(48, 1))
    loader = torch.utils.data.DataLoader(data, batch_size=8)
    model = Tiny()
    trainer = L.Trainer(
        max_epochs=2,
        logger=CSVLogger(out, name="lightning_logs"),
        log_every_n_steps=1,
        accelerator="cpu",
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
    )
    trainer.fit(model, loader, loader)
    expected = {
        "train_loss": model.seen,
        "lightning": L.__version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    (out / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "csvlogger_tiny")
