"""A model's print (`print(model)`: `(bn1): BatchNorm2d(64, eps=1e-05, ...)` for every layer) holds the
architecture's numbers, no measurement; in the exact output of a ResNet-50 loop
(benchmarks/new_real_logs/2618) and a SinGAN run (1925)."""

from __future__ import annotations

from tests.ingest.console_series import series

RESNET = """ResNet(
  (conv1): Conv2d(3, 64, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3), bias=False)
  (bn1): BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
  (relu): ReLU(inplace=True)
  (layer1): Sequential(
    (0): Bottleneck(
      (conv1): Conv2d(64, 64, kernel_size=(1, 1), stride=(1, 1), bias=False)
      (bn1): BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
      (conv2): Conv2d(64, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)
      (bn2): BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
      (conv3): Conv2d(64, 256, kernel_size=(1, 1), stride=(1, 1), bias=False)
      (bn3): BatchNorm2d(256, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
    )
  )
  (classifier): Sequential(
    (0): Linear(in_features=2112, out_features=256, bias=True)
    (1): Dropout(p=0.6, inplace=False)
    (2): Linear(in_features=256, out_features=2, bias=True)
  )
)
"""
EPOCHS = "".join(
    f"Эпоха {e}/30\nTrain Loss: {t} | Val Loss: {v}\n{'-' * 60}\n"
    for e, (t, v) in enumerate([("0.5623", "0.3924"), ("0.4721", "0.4361"), ("0.4218", "0.3733")], 1)
)


def test_the_layers_of_a_printed_model_are_no_series() -> None:
    found = series(RESNET + EPOCHS)
    assert set(found) == {"train/loss", "eval/loss"}
    assert [v for _, v in found["train/loss"]] == [0.5623, 0.4721, 0.4218]
