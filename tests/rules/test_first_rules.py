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
    return {f.failure_mode: f.onset_step for f in report.findings if order.index(f.severity) >= order.index(at_least)}


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
    assert {r.failure_mode for r in rules} >= {
        "loss_zero",
        "loss_zero_grad_nan",
        "loss_nan",
        "grad_norm_nan",
        "eval_loss_nan",
    }
    for rule in rules:
        assert rule.falsepositives and rule.description


def test_a_broken_user_rule_is_located_and_does_not_stop_the_others(tmp_path: Path):
    (tmp_path / "bad.yaml").write_text("id: x\nfailure_mode: [unclosed\n")
    (tmp_path / "unknown-check.yaml").write_text(
        "id: y\nfailure_mode: loss_nan\nseverity: error\nconfidence: 0.5\ntitle: t\ncheck: nope\n"
        "falsepositives: [none]\nreferences: [somewhere]\n"
    )
    rules, problems = load_rules([tmp_path])
    assert len(rules) >= 6
    assert any(p.path.endswith("bad.yaml") and "invalid YAML" in p.message for p in problems)
    assert any("unknown check `nope`" in p.message and p.where == "line 6" for p in problems)


@pytest.mark.parametrize(
    "condition, actual, expected",
    [
        (">=0.7", "0.10.1", True),
        (">=0.7", "0.6.2", False),
        ("==2.5.0", "2.5.0+cu121", True),
        (">1e-3", 0.005, True),
        (">1e-3", 1e-4, False),
        (["bf16", "fp16"], "fp16", True),
        ("present", None, False),
        ("absent", None, True),
        ("FP16", "fp16", True),
        ("~index out of range", "IndexError: Index out of range in self", True),
        ("~^RuntimeError", "IndexError: x", False),
        ("~embedding", None, False),
    ],
)
def test_cause_conditions(condition: object, actual: object, expected: bool):
    assert matches(condition, actual) is expected


def test_crash_cause_is_named_from_the_exception_message():
    """A real IndexError from nn.Embedding (a token id past the table) ranks that cause first."""
    finding = analyze(sample("hf_vocab_mismatch_crash")).findings[0]
    assert (finding.rule_id, finding.onset_step) == ("training-crashed-with-exception", 23)
    assert finding.causes[0].id == "token-id-beyond-embedding"
    generic = analyze(sample("hf_exception")).findings[0]
    assert generic.causes[0].id == "code-or-config-error"


@pytest.mark.parametrize("name", ["hf_cpu_contention", "hf_slowdown"])
def test_throughput_from_wall_clock_when_no_speed_is_logged(name: str):
    """Without the logged steps_per_second, the steps per second come from the wall-clock times the
    Trainer's TensorBoard and W&B callbacks recorded (trainer_state.json has none; they are merged in)."""
    from analyzer.ingest import ingest
    from analyzer.normalize import build_run
    from analyzer.rules import curves

    run = build_run(sample(name), ingest(sample(name)))
    keep = ~run.metrics["metric"].astype(str).str.contains("per_second")
    run = type(run)(path=run.path, metrics=run.metrics[keep].reset_index(drop=True), events=run.events, meta=run.meta)
    detection = curves.throughput_drop(run, min_points=8, max_ratio=0.5)
    assert detection is not None and detection.onset_step == 30
    assert detection.evidence["series"] == "train/loss wall-clock"
    healthy = build_run(sample("hf_healthy"), ingest(sample("hf_healthy")))
    assert healthy.wall_times("loss").notna().sum() == 60  # the clocks are there, and stay silent
    assert curves.throughput_drop(healthy, min_points=8, max_ratio=0.5) is None


def _epoch_log(tmp_path: Path, train: list[float], val: list[float]) -> Path:
    """A short epoch log in the shape research scripts print (one line per epoch, train and val)."""
    log = tmp_path / "train.log"
    log.write_text(
        "".join(
            f"Epoch [{i + 1}/{len(train)}] | Train Loss: {t:.4f} | Valid Loss: {v:.4f}\n"
            for i, (t, v) in enumerate(zip(train, val, strict=True))
        )
    )
    return log


def test_overfitting_when_train_keeps_falling_and_eval_rises(tmp_path: Path):
    log = _epoch_log(
        tmp_path,
        [2.0, 1.5, 1.2, 1.0, 0.8, 0.6, 0.5, 0.4, 0.35, 0.3],
        [2.1, 1.7, 1.5, 1.4, 1.42, 1.5, 1.62, 1.75, 1.9, 2.05],
    )
    assert "overfitting" in modes(log)


def test_a_spike_that_did_not_recover_is_not_overfitting(tmp_path: Path):
    # The train loss jumps and decays only part of the way back: the eval loss rises because the model got
    # worse, which the spike/divergence rules name; it is not overfitting.
    log = _epoch_log(
        tmp_path,
        [2.0, 1.5, 1.2, 1.0, 0.9, 6.0, 3.5, 3.0, 2.8, 2.7],
        [2.1, 1.7, 1.5, 1.4, 1.35, 6.2, 3.8, 3.4, 3.2, 3.1],
    )
    found = modes(log)
    assert "overfitting" not in found and found, found


def _step_log(tmp_path: Path, rows: list[str]) -> Path:
    log = tmp_path / "train.log"
    log.write_text("".join(f"step {100 + 10 * i} | {row}\n" for i, row in enumerate(rows)))
    return log


def test_a_short_log_near_some_ln_k_is_not_stuck(tmp_path: Path):
    # 1.79 is within 1.5% of ln(6): on five points with nothing else saying "6 classes", that is what a
    # healthy language-model loss looks like mid-run.
    log = _step_log(tmp_path, [f"loss {v}" for v in (1.801, 1.795, 1.789, 1.786, 1.781)])
    assert "not_learning" not in modes(log)


def test_a_short_log_at_ln_k_with_accuracy_one_in_k_is_stuck(tmp_path: Path):
    log = _step_log(tmp_path, [f"loss {v} | acc {a}" for v, a in ((1.3862, 0.251), (1.3858, 0.249), (1.3866, 0.25))])
    finding = analyze(log).findings[0]
    assert finding.failure_mode == "not_learning" and finding.evidence["classes"] == 4
    assert finding.confidence < 0.8  # three points seen: less sure than on a long run


def test_the_verdict_is_the_root_of_the_chain_not_the_late_symptom(tmp_path: Path):
    # An absurd learning rate: the loss explodes a thousandfold, goes NaN a few steps later, and the
    # Trainer's logging filter then shows 0.0 with a NaN grad_norm. The verdict is the explosion (gradients
    # and loss from step 20), and the NaN and the hidden 0.0 follow from it.
    doc = json.loads((sample("hf_healthy") / "trainer_state.json").read_text())
    for row in doc["log_history"]:
        if "loss" not in row or "eval_loss" in row:
            continue
        step = row["step"]
        if 20 <= step < 26:
            row["loss"], row["grad_norm"] = 4.0 * 10 ** (step - 17), 1e6 * (step - 19)
        elif 26 <= step < 30:
            row["loss"], row["grad_norm"] = float("nan"), float("nan")
        elif step >= 30:
            row["loss"], row["grad_norm"] = 0.0, float("nan")
    (tmp_path / "trainer_state.json").write_text(json.dumps(doc, indent=2, sort_keys=True))
    report = analyze(tmp_path)
    serious = [f for f in report.findings if f.severity != "info"]
    assert report.verdict in ("grad_explosion", "divergence") and serious[0].caused_by is None  # both at step 20
    assert "not_learning" not in {f.failure_mode for f in serious}  # the explosion is no flat loss
    by_mode = {f.failure_mode: f for f in serious}
    assert by_mode["loss_zero_grad_nan"].caused_by is not None
    chain_ids = {serious[0].rule_id} | {f.rule_id for f in serious}
    assert all(f.caused_by in chain_ids for f in serious[1:] if f.onset_step is not None), [
        (f.failure_mode, f.onset_step, f.caused_by) for f in serious
    ]


def test_a_clock_since_the_start_is_not_a_slowing_step_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # `Time` is the time since the start (it grows with the epoch count): its inverse falls, and that is
    # no throughput drop. A time per epoch that doubles is one. (Generic reader: cellpose's hint reads
    # only the loss of these lines.)
    monkeypatch.setenv("ANALYZER_NO_GRAMMAR_HINTS", "1")
    log = tmp_path / "train.log"
    log.write_text(
        "".join(f"Epoch {e}, Time {e * 820.5 + (e % 3):.1f}s, Loss {0.6 - e / 1000:.4f}\n" for e in range(5, 125, 5))
    )
    assert "throughput_drop" not in modes(log)
    per_epoch = tmp_path / "per_epoch"
    per_epoch.mkdir()
    (per_epoch / "train.log").write_text(
        "".join(
            f"Epoch {e}, epoch time {(60.0 if e < 16 else 130.0) + (e % 3):.1f}s, Loss {0.6 - e / 1000:.4f}\n"
            for e in range(1, 25)
        )
    )
    assert "throughput_drop" in modes(per_epoch / "train.log")


def test_loss_parts_turning_inf_fire_when_no_loss_is_named(tmp_path: Path):
    log = tmp_path / "train.log"
    rows = [f"iteration {i}: value_loss {0.5 + i / 10:.3f} surrogate_loss 0.010 reward {i}.0" for i in range(1, 6)]
    log.write_text("\n".join([*rows, "iteration 6: value_loss inf surrogate_loss 0.010 reward 6.0"]) + "\n")
    found = modes(log)
    assert found.get("loss_nan") == 6


def test_several_computed_metrics_turning_nan_together_fire(tmp_path: Path):
    log = tmp_path / "train.log"
    rows = [f"it {i} | box {0.09 - i / 1000:.4f} | obj {0.1:.4f} | lr 0.01 | mem 6.5" for i in range(1, 6)]
    rows += [f"it {i} | box nan | obj nan | lr 0.01 | mem 6.5" for i in range(6, 8)]
    log.write_text("\n".join(rows) + "\n")
    assert modes(log).get("loss_nan") == 6


@pytest.mark.parametrize(
    "bad",
    [
        "box nan | obj {obj:.4f}",  # one metric alone: not enough without a loss name
        "box {box:.4f} | obj {obj:.4f} | lr nan",  # a schedule value is no computed number
    ],
)
def test_metric_nans_without_the_evidence_stay_silent(tmp_path: Path, bad: str):
    log = tmp_path / "train.log"
    rows = [f"it {i} | box {0.09 - i / 1000:.4f} | obj 0.1000 | lr 0.01" for i in range(1, 6)]
    rows += [f"it {i} | " + bad.format(box=0.08, obj=0.1) for i in range(6, 8)]
    log.write_text("\n".join(rows) + "\n")
    assert "loss_nan" not in modes(log)


def test_a_stop_on_a_nonfinite_loss_check_is_loss_nan(tmp_path: Path):
    log = tmp_path / "train.log"
    rows = [f"global step {i}: loss = {0.2 - i / 1000:.4f} (0.130 sec/step)" for i in range(100, 105)]
    rows.append(
        "Error reported to Coordinator: <class 'tensorflow.python.framework.errors_impl.InvalidArgumentError'>, "
        "LossTensor is inf or nan. : Tensor had NaN values"
    )
    log.write_text("\n".join(rows) + "\n")
    assert "loss_nan" in modes(log)


def test_a_warning_that_a_bad_loss_was_skipped_is_not_loss_nan(tmp_path: Path):
    log = tmp_path / "train.log"
    log.write_text("2019-06-13 02:30:01,545 (asr:302) WARNING: loss (=nan) is not correct\n" * 3)
    assert "loss_nan" not in modes(log)


def test_a_loss_that_jumps_a_million_fold_and_comes_back_is_a_spike_not_a_divergence(tmp_path: Path):
    log = tmp_path / "train.log"
    values = [0.11, 0.10, 0.12, 3.5e9, 0.06, 0.23, 0.09]
    log.write_text("\n".join(f"global step {100 + i}: loss = {v}" for i, v in enumerate(values)) + "\n")
    found = modes(log)
    assert "divergence" not in found
    assert found.get("loss_spike") == 103


def test_a_loss_that_explodes_and_falls_to_a_dead_constant_is_a_divergence(tmp_path: Path):
    log = tmp_path / "train.log"
    values = [2.1, 2.0, 1.9, 4.0e6, 0.0, 0.0, 0.0]
    log.write_text("\n".join(f"global step {100 + i}: loss = {v}" for i, v in enumerate(values)) + "\n")
    assert modes(log).get("divergence") == 103


def test_train_and_eval_climbing_together_is_a_divergence_not_overfitting(tmp_path: Path):
    # Both losses reach their best at epoch 4 and rise at every epoch after it by a few percent: the
    # model gets worse on the training data too, so this is no overfitting.
    log = _epoch_log(
        tmp_path,
        [1.59, 1.22, 1.12, 1.093, 1.104, 1.140, 1.186, 1.214, 1.237],
        [1.28, 1.04, 0.96, 0.948, 0.999, 1.042, 1.117, 1.118, 1.121],
    )
    found = modes(log)
    assert "overfitting" not in found
    assert found.get("divergence") == 5


@pytest.mark.parametrize(
    "train",
    [
        [2.0, 1.8, 1.7, 1.65, 1.62, 1.63, 1.64, 1.645, 1.66],  # four rises, no eval to corroborate
        [2.0, 1.8, 1.7, 1.650, 1.651, 1.652, 1.653, 1.654, 1.655],  # five rises in the last digits
        [2.0, 1.8, 1.7, 1.65, 1.75, 1.62, 1.70, 1.72, 1.74],  # the climb is broken by a fall
    ],
)
def test_a_short_climb_without_the_whole_evidence_is_no_divergence(tmp_path: Path, train: list[float]):
    log = _step_log(tmp_path, [f"loss {v}" for v in train])
    assert "divergence" not in modes(log)


def _ppo_log(tmp_path: Path, losses: list[float]) -> Path:
    log = tmp_path / "train.log"
    log.write_text(
        "".join(
            f"train | global iter: {i + 1:6d}/ 5000 | tot_loss: {v:.4f} | reward: 0.0116 | rev_kl: 0.0022\n"
            for i, v in enumerate(losses)
        )
    )
    return log


def test_an_rl_loss_jumping_by_orders_of_magnitude_and_back_is_a_spike(tmp_path: Path):
    found = modes(_ppo_log(tmp_path, [1.53, 1.48, 2442.9, 2.28, 1.9]))
    assert found.get("loss_spike") == 3


def test_an_rl_loss_swinging_around_zero_is_no_spike(tmp_path: Path):
    found = modes(_ppo_log(tmp_path, [0.004, -0.02, 0.03, -0.011, 0.05, 0.002, -0.04]))
    assert "loss_spike" not in found and "divergence" not in found


@pytest.mark.parametrize(("grad_norm", "fires"), [(1.2e12, True), (3.1e7, True), (85.0, False), (6.5e5, False)])
def test_one_pasted_line_with_an_absurd_grad_norm_is_an_explosion(tmp_path: Path, grad_norm: float, fires: bool):
    log = tmp_path / "train.log"
    log.write_text(
        "2021-01-03 10:02:15,629 - det - INFO - Epoch [1][500/58633]\tlr: 2.0e-02, time: 0.434, "
        f"loss_cls: 0.52, loss_bbox: 0.31, loss: 0.83, grad_norm: {grad_norm}\n"
    )
    assert ("grad_explosion" in modes(log)) is fires


def test_causes_the_run_contradicts_are_ruled_out_and_say_why():
    finding = next(f for f in analyze(sample("hf_labels_all_masked")).findings if f.rule_id == "loss-exactly-zero")
    ruled = {c.id: c.ruled_out for c in finding.causes if c.ruled_out}
    assert "precision is fp32" in ruled["lora-fp16-peft-collapse"]  # a full fp32 run: no LoRA-fp16 collapse
    assert "grad norm zero is true" in ruled["loss-collapsed-or-rounded"]  # a rounded loss still has gradients
    assert all(c.score == 0 for c in finding.causes if c.ruled_out)
    assert not finding.causes[0].ruled_out and finding.causes[-1].ruled_out  # ruled out last
    top = finding.causes[0]
    assert top.explain().startswith(f"prior {top.prior:.2f}") and abs(top.prior + sum(top.weights) - top.score) < 1e-9


def test_unknown_is_not_a_contradiction(tmp_path: Path):
    # A console log that never says its precision: the fp16 cause stays a candidate.
    log = tmp_path / "train.log"
    log.write_text("".join(f"step {i} loss {2 - i / 10:.2f}\n" for i in range(1, 6)) + "step 6 loss nan\n")
    finding = next(f for f in analyze(log).findings if f.rule_id == "loss-becomes-nan")
    assert not any(c.ruled_out for c in finding.causes)


def test_an_eval_rise_that_later_beat_its_best_is_withdrawn(tmp_path: Path):
    # The eval loss rose for three evaluations, then fell below its earlier best: no overfitting is left.
    log = _epoch_log(
        tmp_path,
        [2.0, 1.5, 1.2, 1.0, 0.8, 0.6, 0.5, 0.4, 0.35, 0.3],
        [2.1, 1.7, 1.5, 1.4, 1.5, 1.6, 1.55, 1.38, 1.3, 1.25],
    )
    assert "overfitting" not in modes(log, at_least="info")


def test_a_plateau_that_resumed_moving_is_withdrawn(tmp_path: Path):
    flat_then_falling = [3.0, 2.5, 2.1, 1.8] + [1.6] * 12 + [1.5, 1.35, 1.2, 1.05, 0.9, 0.8]
    log = _step_log(tmp_path, [f"loss {v}" for v in flat_then_falling])
    found = modes(log, at_least="info")
    assert "plateau" not in found and "not_learning" not in found


def test_a_cross_entropy_above_any_chance_level_is_a_divergence(tmp_path: Path):
    # A language model's loss of 1e5 (the run logs a perplexity: a token-level cross-entropy) is worse than a
    # uniform guess over any vocabulary, however flat it looks; the same numbers without a perplexity (an MSE
    # on unnormalised targets, say) say nothing.
    rows = [f"Step = {100 + i} ; Loss = {150000 + (i % 3) * 9000:.1f}" for i in range(8)]
    log = tmp_path / "train.log"
    log.write_text("Evaluation result for step 99: loss = 148890.7 ; perplexity = inf\n" + "\n".join(rows) + "\n")
    assert modes(log).get("divergence") == 100
    log.write_text("\n".join(rows) + "\n")
    assert "divergence" not in modes(log)


def test_one_crash_seen_in_two_sources_is_counted_once():
    # The console's traceback and W&B's exit record are the same crash: one, corroborated, not "2 times".
    finding = next(
        f for f in analyze(sample("hf_exception")).findings if f.rule_id == "training-crashed-with-exception"
    )
    assert finding.evidence["count"] == 1 and "times)" not in finding.message
    assert finding.evidence["first"]["at"].startswith("nohup.out:")
    assert [a["at"].split(":")[0].endswith(".wandb") for a in finding.evidence["also_in"]] == [True]


def test_a_paste_that_ends_on_a_first_exact_zero_loss_is_flagged_with_less_confidence(tmp_path: Path):
    log = tmp_path / "train.log"
    rows = [
        "{'loss': 3.5534, 'grad_norm': 1.41, 'learning_rate': 2.0e-06, 'epoch': 0.01}",
        "  1%|          | 10/1752 [00:29<1:22:01,  2.83s/it]",
    ]
    rows += [
        "{'loss': 0.0, 'grad_norm': 1.41, 'learning_rate': 4.3e-06, 'epoch': 0.01}",
        "  1%|          | 20/1752 [00:57<1:22:40,  2.86s/it]",
    ]
    log.write_text("\n".join(rows) + "\n")
    finding = next(f for f in analyze(log).findings if f.failure_mode == "loss_zero")
    assert finding.onset_step == 20 and finding.confidence == 0.6 and "log ends there" in finding.message


def test_a_single_zero_in_the_middle_of_a_log_is_not_flagged(tmp_path: Path):
    log = tmp_path / "train.log"
    log.write_text("".join(f"step {i} loss {v}\n" for i, v in enumerate([2.1, 1.9, 0.0, 1.8, 1.7, 1.6], start=1)))
    assert "loss_zero" not in modes(log)


def test_a_finding_speaks_the_logs_step_unit(tmp_path: Path):
    # Keras epoch lines: no global step exists, so the sentence says epochs, never a made-up step.
    log = tmp_path / "train.log"
    log.write_text(
        "".join(
            f"Epoch {i}/5\n413/413 [==============================] - 1s 2ms/step - loss: nan\n" for i in range(1, 6)
        )
    )
    finding = next(f for f in analyze(log).findings if f.rule_id == "loss-becomes-nan")
    assert "at epoch 1" in finding.message and "logged epochs" in finding.message and " step" not in finding.message


def test_the_step_unit_is_the_loss_records_axis_not_a_bar_that_counts_epochs(tmp_path: Path):
    # a tqdm bar over the epochs with `epoch: N loss: X` glued after it: the loss is counted in epochs
    log = tmp_path / "train.log"
    bar = " {p:>3}%|#         | {e}/40 [01:40<1:05:09, 100.24s/it]"
    log.write_text("".join(bar.format(p=e * 2, e=e) + f"epoch: {e} loss: nan\n" for e in (1, 6, 11, 16)))
    finding = next(f for f in analyze(log).findings if f.rule_id == "loss-becomes-nan")
    assert "logged epochs" in finding.message and " step" not in finding.message


def test_step_words_are_rewritten_only_where_they_name_the_axis():
    from analyzer.rules.engine import in_units

    message = "loss is NaN at step 5 (3 of 9 logged steps); grad_norm 0 from step 7, optimizer step skipped"
    assert in_units(message, "step") == message
    assert in_units(message, "record") == (
        "loss is NaN at record 5 (3 of 9 logged records); grad_norm 0 from record 7, optimizer step skipped"
    )


def test_a_loop_that_says_its_loss_was_not_finite_is_a_nan_loss(tmp_path: Path) -> None:
    # D-FINE's trainer skips the batch and logs it (new log 1163): no printed value is NaN; a field's `nan`
    # before the next field (`seg_loss: nan  loss: nan`) is a value, read as one, and no report
    log = tmp_path / "train.log"
    log.write_text(
        "".join(f"Epoch 227: step {s} loss={v}\n" for s, v in ((10, 1.62), (20, 1.58)))
        + "WARNING | __main__:train:669 - Skipping batch at iter 43167 (epoch 227, batch 0): non-finite loss\n"
        + "Epoch 227: step 30 loss=1.61\n"
    )
    found = [f for f in analyze(log).findings if f.failure_mode == "loss_nan"]
    assert found and "reported a non-finite loss" in found[0].message
    fields = "".join(f"step: {s}  vote_loss: nan  seg_loss: nan  loss: nan  lr: 0.00025\n" for s in (1, 2, 3))
    report = analyze(_write(tmp_path / "fields.log", fields))
    assert "loss_nan" in {f.failure_mode for f in report.findings}
    assert not report.run.events_of(["loss_nonfinite"]).shape[0]


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_non_finite_grad_norms_each_with_a_skipped_step_are_the_loss_scaler_at_work(tmp_path: Path) -> None:
    # MLPerf's GNMT (new log 1190): `Gradient norm: inf` then `Skipped batch, new scale: 512.0` at three steps
    # while the loss falls: no failure (info); the same grad norms without the scaler's lines are one
    def log(scaler: bool) -> str:
        out = []
        for step in range(1, 41):
            out.append(f"step {step} loss {9.0 - step / 10:.4f}\n")
            if step in (12, 20, 31):
                out.append(
                    "Gradient norm: inf\n"
                    + (f"Skipped batch, new scale: {2.0 ** (20 - step // 4)}\n" if scaler else "")
                )
        return "".join(out)

    grad = [f for f in analyze(_write(tmp_path / "a.log", log(True))).findings if f.failure_mode == "grad_norm_nan"]
    assert grad and all(f.severity == "info" for f in grad) and "loss scaler" in grad[0].message
    grad = [f for f in analyze(_write(tmp_path / "b.log", log(False))).findings if f.failure_mode == "grad_norm_nan"]
    assert grad and grad[0].severity != "info"


def test_bare_nans_a_loop_printed_are_a_nan_loss(tmp_path: Path) -> None:
    # AuxiliaryASR (new log 1107): each batch's loss printed alone, `nan`, glued after a bar or on its own line,
    # while the epoch's mean skips them; a `nan` inside a line is a field's value, not such a print
    text = "train/loss     : 7.69\n[train]:   0%|          | 0/5 [00:00<?, ?it/s]nan\nnan\nnan\ntrain/loss     : 7.71\n"
    found = [f for f in analyze(_write(tmp_path / "a.log", text)).findings if f.failure_mode == "loss_nan"]
    assert found and "non-finite" in found[0].message
    assert not analyze(_write(tmp_path / "b.log", "train/loss : 7.69\nratio nan here\ntrain/loss : 7.71\n")).findings
