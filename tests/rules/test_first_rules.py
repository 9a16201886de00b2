"""Each first rule: runs where it must fire (with its onset) and runs where it must stay silent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analyzer import analyze
from analyzer.rules import load_rules, matches
from tests.conftest import artifact, sample


def modes(path: Path, at_least: str = "warning") -> dict[str, int | None]:
    order = ["info", "warning", "error", "critical"]
    report = analyze(path)
    return {f.failure_mode: f.onset_step for f in report.findings
            if order.index(f.severity) >= order.index(at_least)}


def test_loss_zero_from_masked_labels_real_trainer():
    report = analyze(sample("hf_labels_all_masked"))
    finding = report.findings[0]
    assert (finding.rule_id, finding.onset_step) == ("loss-exactly-zero", 1)
    assert finding.evidence["pattern"] == "from_start" and finding.evidence["grad_norm_zero"] is True
    assert finding.causes[0].id == "all-labels-masked"
    assert report.verdict == "loss_zero"


def test_nan_hidden_by_logging_filter_real_trainer():
    report = analyze(sample("hf_nan_loss_filtered"))
    assert report.verdict == "loss_zero_grad_nan"
    finding = report.findings[0]
    assert finding.onset_step == 23 and finding.evidence["onset"]["grad_norm"] == "NaN"
    assert "loss_zero" not in modes(sample("hf_nan_loss_filtered"))  # not mistaken for masked labels
    # the curve was calm before the NaN: one batch, not the learning rate
    assert finding.evidence["before_onset"]["runup"] is False
    assert finding.causes[0].id == "bad-batch"


def test_loss_nan_unfiltered_real_trainer():
    found = modes(sample("hf_nan_loss_unfiltered"))
    assert found["loss_nan"] == 23
    assert "grad_norm_nan" not in found  # the NaN grad norm belongs to the NaN loss


def test_eval_loss_nan_with_finite_train_loss_real_trainer():
    report = analyze(sample("hf_eval_nan"))
    assert report.verdict == "eval_loss_nan"
    finding = report.findings[0]
    assert finding.onset_step == 10 and finding.evidence["pattern"] == "train_finite"
    assert finding.causes[0].id == "eval-batches-without-labels"


def test_eval_nan_after_training_broke_ranks_that_first():
    finding = next(f for f in analyze(sample("hf_nan_loss_filtered")).findings if f.failure_mode == "eval_loss_nan")
    assert finding.causes[0].id == "training-already-broken"


@pytest.mark.parametrize("name", ["hf_healthy"])
def test_healthy_samples_are_silent(name: str):
    report = analyze(sample(name))
    assert report.verdict == "healthy" and not report.findings


@pytest.mark.parametrize("prefix", ["001", "002", "003", "004", "005", "006", "007", "014", "015", "016"])
def test_real_public_runs_raise_no_nan_or_zero_alarm(prefix: str):
    found = modes(artifact(prefix))
    assert not {"loss_zero", "loss_zero_grad_nan", "loss_nan", "grad_norm_nan", "eval_loss_nan"} & set(found)


def test_grpo_zero_loss_is_normal():
    report = analyze(artifact("004"))
    assert report.run.meta["trainer_kind"] == "grpo"
    assert report.run.series("loss").iloc[0] == 0.0
    assert not report.findings


def test_early_fp16_nan_grad_norms_are_info_only():
    report = analyze(artifact("005"))
    (finding,) = report.findings
    assert finding.failure_mode == "grad_norm_nan" and finding.severity == "info"
    assert finding.evidence["nonfinite_steps"] == [1, 2, 6]
    assert report.verdict == "healthy"


def test_repeated_nan_grad_norm_with_finite_loss_fires(tmp_path: Path):
    doc = json.loads((artifact("005") / "trainer_state.json").read_text())
    for row in doc["log_history"][60:70]:
        if "grad_norm" in row:
            row["grad_norm"] = float("nan")
    (tmp_path / "trainer_state.json").write_text(json.dumps(doc, indent=2, sort_keys=True))
    report = analyze(tmp_path)
    assert report.verdict == "grad_norm_nan"
    assert report.findings[0].severity == "error" and report.findings[0].onset_step == 1


def test_loss_reaching_zero_after_a_finite_start(tmp_path: Path):
    doc = json.loads((sample("hf_healthy") / "trainer_state.json").read_text())
    for row in doc["log_history"]:
        if "loss" in row and row["step"] >= 50:
            row["loss"] = 0.0
    (tmp_path / "trainer_state.json").write_text(json.dumps(doc, indent=2, sort_keys=True))
    finding = analyze(tmp_path).findings[0]
    assert finding.failure_mode == "loss_zero" and finding.onset_step == 50
    assert finding.evidence["pattern"] == "after_finite_start"
    assert finding.causes[0].id == "loss-collapsed-or-rounded"


def test_every_rule_loads_and_names_a_taxonomy_mode():
    rules, problems = load_rules()
    assert not problems
    assert {r.failure_mode for r in rules} >= {"loss_zero", "loss_zero_grad_nan", "loss_nan", "grad_norm_nan",
                                               "eval_loss_nan"}
    for rule in rules:
        assert rule.falsepositives and rule.description


def test_a_broken_user_rule_is_located_and_does_not_stop_the_others(tmp_path: Path):
    (tmp_path / "bad.yaml").write_text("id: x\nfailure_mode: [unclosed\n")
    (tmp_path / "unknown-check.yaml").write_text(
        "id: y\nfailure_mode: loss_nan\nseverity: error\nconfidence: 0.5\ntitle: t\ncheck: nope\n"
        "falsepositives: [none]\nreferences: [somewhere]\n")
    rules, problems = load_rules([tmp_path])
    assert len(rules) >= 6
    assert any(p.path.endswith("bad.yaml") and "invalid YAML" in p.message for p in problems)
    assert any("unknown check `nope`" in p.message and p.where == "line 6" for p in problems)


@pytest.mark.parametrize("condition, actual, expected", [
    (">=0.7", "0.10.1", True), (">=0.7", "0.6.2", False), ("==2.5.0", "2.5.0+cu121", True),
    (">1e-3", 0.005, True), (">1e-3", 1e-4, False), (["bf16", "fp16"], "fp16", True), ("present", None, False),
    ("absent", None, True), ("FP16", "fp16", True),
])
def test_cause_conditions(condition: object, actual: object, expected: bool):
    assert matches(condition, actual) is expected
