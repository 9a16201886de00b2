"""OpenMMLab's json log (`*.log.json`): a header record whose strings hold the environment and the config
(escaped line breaks, numbers in prose), then one record per logging interval that names its split in
`"mode"` and counts `epoch` and `iter`; in the exact output of an mmseg 0.30 run (benchmarks/new_real_logs/2650)."""

from __future__ import annotations

from tests.ingest.console_series import series

HEADER = (
    '{"env_info": "sys.platform: linux\\nPython: 3.9.0 (default, Nov 15 2020, 14:28:56) [GCC 7.3.0]\\nCUDA '
    'available: True\\nGPU 0,1,2,3,4,5,6,7: Tesla P100-SXM2-16GB\\nPyTorch: 1.12.1", "config": "norm_cfg = '
    "dict(type='SyncBN', requires_grad=True)\\noptimizer = dict(type='SGD', lr=0.01, momentum=0.9, "
    "weight_decay=0.0005)\\nlr_config = dict(policy='poly', power=0.9, min_lr=0.0001, by_epoch=False)\\nrunner = "
    "dict(type='IterBasedRunner', max_iters=800)\\nloss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, "
    'loss_weight=1.0)", "seed": 1476633190}\n'
)
TRAIN = (
    '{{"mode": "train", "epoch": {epoch}, "iter": {it}, "lr": {lr}, "memory": 12316, "data_time": 0.1182, '
    '"decode.loss_ce": {ce}, "decode.acc_seg": 98.04587, "aux.loss_ce": -7e-05, "aux.acc_seg": 98.04587, '
    '"loss": {loss}, "time": 1.64399}}\n'
)
VAL = (
    '{"mode": "val", "epoch": 7, "iter": 65, "lr": 0.00775, "aAcc": 0.019, "mIoU": 0.0095, "mAcc": 0.5, '
    '"IoU.background": 0.0, "IoU.glomeruli": 0.019, "Acc.background": 0.0, "Acc.glomeruli": 1.0}\n'
)
RECORDS = (
    TRAIN.format(epoch=4, it=100, lr=0.00889, ce=0.0, loss=-7e-05)
    + TRAIN.format(epoch=7, it=200, lr=0.00775, ce=-0.0, loss=-0.0001)
    + VAL
    + TRAIN.format(epoch=10, it=300, lr=0.0066, ce=-0.00039, loss=-0.00099)
    + VAL.replace('"epoch": 7', '"epoch": 10')
)


def test_train_records_are_counted_by_their_iteration_and_the_header_is_no_record() -> None:
    found = series(HEADER + RECORDS)
    assert found["train/loss"] == [(100, -7e-05), (200, -0.0001), (300, -0.00099)]
    assert not any("seed" in name or "momentum" in name or "python" in name for name in found)
    assert "eval/m_iou" in found
