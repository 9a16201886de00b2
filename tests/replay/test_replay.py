"""Replay on real Trainer runs: the issue's four CPU cases, the sampler, and the read-only promise."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from analyzer.api import analyze
from analyzer.replay.data import read_rows, step_indices
from analyzer.replay.runner import replay

Runs = Callable[[str], dict[str, Any]]


def verdict(result: dict[str, Any], cause: str) -> dict[str, Any]:
    return next(v for v in result["verdicts"] if v["cause"] == cause)


def run_replay(case: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return replay(case["run"], analyze(case["run"]), dataset=case["dataset"], **kwargs)


def test_trainer_sampler_reproduces_the_batches_the_trainer_fed(runs: Runs) -> None:
    case = runs("healthy")
    rows = read_rows(case["dataset"])
    assert len(case["recorded"]) == 8  # two epochs of 40 rows, batch 4, accumulation 2: 5 updates per epoch
    for step, recorded in case["recorded"].items():
        indices = step_indices(len(rows), step, 4, 2, "trainer", 42)
        assert [[rows[i]["input_ids"] for i in micro] for micro in indices] == recorded, step
    sequential = step_indices(len(rows), 1, 4, 2, "sequential", 42)
    assert [[rows[i]["input_ids"] for i in m] for m in sequential] != case["recorded"][1]


def test_all_labels_masked_is_confirmed_and_precision_refuted(runs: Runs) -> None:
    result = run_replay(runs("masked"))
    assert result["batch"]["supervised_tokens"] == 0
    assert verdict(result, "all-labels-masked")["verdict"] == "confirmed"
    assert verdict(result, "empty-inputs")["verdict"] == "refuted"
    assert verdict(result, "lora-fp16-peft-collapse")["verdict"] == "refuted"  # a precision cause: fp32 fails too
    assert result["checkpoint"] == "checkpoint-2" and result["step"] == 3  # onset 1 is before every checkpoint


def test_nan_in_one_batch_is_confirmed_and_the_first_op_named(runs: Runs) -> None:
    case = runs("nan_batch")
    result = run_replay(case)
    assert result["step"] == 4 and result["finding"] == "loss-becomes-nan"
    assert result["batch"]["nonfinite_labels"] == 1
    assert result["at_checkpoint"]["others_finite"] and not result["at_checkpoint"]["flagged_finite"]
    assert verdict(result, "bad-batch")["verdict"] == "confirmed"
    assert verdict(result, "fp16-overflow")["verdict"] == "refuted"
    assert verdict(result, "learning-rate-too-high")["verdict"] == "refuted"
    first = result["first_nonfinite"]
    assert first["phase"] == "forward" and "mse_loss" in first["op"], first
    # The batch before is clean: replaying step 3 names no bad batch.
    clean = run_replay(case, step=3)
    assert clean["batch"]["nonfinite_labels"] == 0
    assert verdict(clean, "bad-batch")["verdict"] != "confirmed"


def test_lr_pulse_replayed_at_the_scheduled_rate_shows_no_spike(runs: Runs) -> None:
    result = run_replay(runs("lr_pulse"))
    assert result["update_step"] == 12 and result["checkpoint"] == "checkpoint-10"
    by_name = {o["name"]: o for o in result["ablations"]}
    as_run, scheduled = by_name["as run"], by_name["scheduled lr"]
    assert as_run["lr"] == pytest.approx(1.0) and scheduled["lr"] == pytest.approx(0.01)
    assert as_run["symptom"] and as_run["next_loss"] > 2 * as_run["loss"]
    assert not scheduled["symptom"] and scheduled["next_loss"] < as_run["loss"] * 1.1
    assert result["logged"]["loss"] > 3 * result["ablations"][0]["loss"]  # the run's own jump at step 13
    assert verdict(result, "learning-rate-too-high")["verdict"] == "confirmed"


def tree_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(str(path.relative_to(folder)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def test_replay_writes_nothing_into_the_run(runs: Runs) -> None:
    case = runs("nan_batch")
    before = tree_hash(case["run"])
    run_replay(case)
    assert tree_hash(case["run"]) == before


def test_model_health_names_a_head_the_checkpoint_never_held(runs: Runs) -> None:
    pytest.importorskip("peft")
    lost = runs("lora_head_lost")
    result = run_replay(lost, step=3, base_model=lost["base"])
    assert result["health"]["architecture"] == "LlamaForSequenceClassification"
    assert [p["parameter"] for p in result["health"]["never_loaded"]] == ["score.weight"]
    saved = runs("lora_head_saved")
    healthy = run_replay(saved, step=3, base_model=saved["base"])
    assert healthy["health"]["never_loaded"] == []


def test_an_adapter_without_its_base_model_is_a_usage_error(runs: Runs) -> None:
    pytest.importorskip("peft")
    from analyzer.replay import ReplayError

    with pytest.raises(ReplayError, match="--base-model"):
        run_replay(runs("lora_head_lost"), step=3)


def test_eval_ablation_compares_batch_size_one_and_attention_implementations(runs: Runs, tmp_path: Path) -> None:
    from tests.replay.conftest import progression_rows, write_jsonl

    rows = progression_rows(16, seed=7)
    rows[0]["labels"] = [-100] * len(rows[0]["labels"])  # one row with nothing to score
    evals = write_jsonl(tmp_path / "eval.jsonl", rows)
    result = run_replay(runs("masked"), eval_dataset=evals)
    ev = result["eval"]
    assert ev["batch_size"] == 8 and ev["rows"] == 16
    assert ev["batched_nonfinite"] == 0  # the empty row is averaged away inside a batch of 8...
    assert ev["single_nonfinite"] == 1  # ...and alone it is 0/0
    assert ev["single_rows_with_labels_nonfinite"] == 0
    assert ev["attention"]["eager_nonfinite"] == 0 and ev["attention"]["sdpa_nonfinite"] == 0


def test_a_datasets_folder_reads_the_same_rows_as_jsonl(runs: Runs, tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    case = runs("healthy")
    rows = read_rows(case["dataset"])
    datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "ds"))
    assert read_rows(tmp_path / "ds") == rows


def test_an_fp16_overflow_is_named_and_fp32_replays_finite(runs: Runs) -> None:
    result = run_replay(runs("big_mlp"), step=3, overrides={"precision": "fp16"})
    assert result["settings"]["precision"] == "fp16" and result["settings"]["sources"]["precision"] == "given"
    by_name = {o["name"]: o for o in result["ablations"]}
    assert by_name["as run"]["symptom"] and not by_name["as run"]["applied"]  # skipped, as a GradScaler would
    assert not by_name["fp32"]["symptom"] and by_name["fp32"]["applied"]
    first = result["first_nonfinite"]
    assert first["phase"] == "forward" and first["module"].startswith("model.layers.0.mlp") and first["inputs_finite"]
    from analyzer.model import Cause, Finding
    from analyzer.replay.verdict import verdicts

    causes = [Cause(c, c, 0.5, "") for c in ("fp16-overflow", "bf16-deepspeed-instability", "learning-rate-too-high")]
    finding = Finding("loss-zero-grad-norm-nan", "loss_zero_grad_nan", "critical", 0.9, 3, "t", "m", causes=causes)
    judged = {v["cause"]: v["verdict"] for v in verdicts([finding], result)}
    assert judged == {
        "fp16-overflow": "confirmed",
        "bf16-deepspeed-instability": "refuted",  # the run is fp16
        "learning-rate-too-high": "refuted",  # a tenth of the rate overflows too
    }


def test_a_finding_the_run_does_not_have_is_a_usage_error(runs: Runs) -> None:
    from analyzer.replay import ReplayError

    case = runs("nan_batch")
    with pytest.raises(ReplayError, match=r"no finding 'loss-spike'.*loss-becomes-nan"):
        run_replay(case, rule_id="loss-spike")
    assert run_replay(case, rule_id="loss-becomes-nan")["step"] == 4
