"""The rule engine: located schema errors, typed check parameters, the condition grammar, several
detections in one rule, and that a rule file cannot run code."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer import analyze
from analyzer.rules import load_rules
from analyzer.rules.conditions import ConditionError, evaluate, parse, positive_names
from analyzer.rules.schema import RuleError, load_rule
from tests.conftest import sample

VALID = """\
id: my-rule
failure_mode: loss_nan
severity: error
confidence: 0.5
title: A title
check: nonfinite_train_loss
falsepositives: [none known]
references: [https://example.org]
"""


def write(tmp_path: Path, text: str, name: str = "rule.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("replace", "by", "line", "message"),
    [
        ("failure_mode: loss_nan", "failure_mode: lost", 2, "unknown failure_mode `lost`"),
        ("severity: error", "severity: loud", 3, "severity must be one of"),
        ("confidence: 0.5", "confidence: 1.5", 4, "between 0 and 1"),
        ("id: my-rule", "id: My Rule", 1, "kebab-case"),
        (
            "check: nonfinite_train_loss",
            "check: nonfinite_train_loss\nparams: {floor: 1}",
            7,
            "has no parameter `floor`",
        ),
        ("references: [https://example.org]", "references: []", 8, "`references` must be a non-empty list"),
        ("title: A title", "title: A title\nwhen_ever: 1", 6, "unknown key `when_ever`"),
        (
            "check: nonfinite_train_loss",
            "check: series_compare\nparams: {op: '=>'}",
            7,
            "parameter `op` of `series_compare` must be one of ==, !=, <, <=, >, >=",
        ),
        (
            "check: nonfinite_train_loss",
            "check: signal_event\nparams: {kind: jump}",
            7,
            "parameter `kind` of `signal_event` must be one of spike, level_shift_up",
        ),
    ],
)
def test_schema_errors_are_located(tmp_path: Path, replace: str, by: str, line: int, message: str) -> None:
    with pytest.raises(RuleError) as err:
        load_rule(write(tmp_path, VALID.replace(replace, by)))
    assert err.value.line == line and message in err.value.message


def test_parameter_types_and_the_yaml_exponent_trap(tmp_path: Path) -> None:
    text = VALID.replace("check: nonfinite_train_loss", "check: divergence\nparams:\n  min_rise: 0.2\n  blowup: 1.0e6")
    with pytest.raises(RuleError) as err:
        load_rule(write(tmp_path, text))
    assert err.value.line == 9 and "must be float" in err.value.message and "1.0e+6" in err.value.message
    ok = load_rule(write(tmp_path, text.replace("1.0e6", "1.0e+6")))
    assert ok.detect["main"].params == {"min_rise": 0.2, "blowup": 1e6}


def test_rule_files_cannot_execute_code(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = VALID + f"description: !!python/object/apply:os.system ['touch {marker}']\n"
    with pytest.raises(RuleError, match="invalid YAML"):
        load_rule(write(tmp_path, text))
    assert not marker.exists()


def test_condition_grammar() -> None:
    names = ["spike_a", "spike_b", "nan"]
    tree = parse("1 of spike_* and not nan", names)
    assert evaluate(tree, {"spike_b"}, names) is True
    assert evaluate(tree, {"spike_b", "nan"}, names) is False
    assert evaluate(parse("all of spike_*", names), {"spike_a"}, names) is False
    assert evaluate(parse("all of them", names), set(names), names) is True
    assert evaluate(parse("(spike_a or nan) and spike_b", names), {"nan", "spike_b"}, names) is True
    assert positive_names(parse("spike_a and not nan", names), names) == {"spike_a"}
    for bad, why in [
        ("spike_a and", "ends early"),
        ("nope", "unknown detection"),
        ("1 of x*", "matches no"),
        ("(nan", "parenthesis"),
        ("nan nan", "unexpected"),
        ("nan; import os", "unexpected text"),
    ]:
        with pytest.raises(ConditionError, match=why):
            parse(bad, names)


def test_two_detections_joined_by_a_condition(tmp_path: Path) -> None:
    text = VALID.replace(
        "check: nonfinite_train_loss\n",
        """detect:
  nan: {check: nonfinite_train_loss}
  zero_nan: {check: zero_loss_with_nonfinite_grad_norm}
condition: "nan or zero_nan"
""",
    ).replace("id: my-rule", "id: nan-either-way")
    write(tmp_path, text)
    rules, problems = load_rules([tmp_path])
    assert "nan-either-way" in {r.id for r in rules}
    assert not problems
    report = analyze(sample("hf_nan_loss_filtered"), rules_dirs=[tmp_path])
    mine = [f for f in report.findings if f.rule_id == "nan-either-way"]
    assert len(mine) == 1 and mine[0].onset_step is not None
    negated = text.replace('condition: "nan or zero_nan"', 'condition: "nan and not zero_nan"').replace(
        "nan-either-way", "nan-alone"
    )
    (tmp_path / "rule.yaml").write_text(negated)
    report = analyze(sample("hf_nan_loss_filtered"), rules_dirs=[tmp_path])
    assert not [f for f in report.findings if f.rule_id == "nan-alone"]  # the filter hid the NaN: zero_nan fired


def test_every_builtin_rule_is_complete() -> None:
    rules, problems = load_rules()
    assert not problems, problems
    for rule in rules:
        assert rule.falsepositives and rule.references and rule.description, rule.id
        assert all(c.get("fix") for c in rule.causes), rule.id


def _user_rule(tmp_path: Path, rule_id: str, detect: str, condition: str | None = None) -> Path:
    text = VALID.replace("id: my-rule", f"id: {rule_id}").replace("check: nonfinite_train_loss\n", detect)
    if condition:
        text += f'condition: "{condition}"\n'
    folder = tmp_path / rule_id
    folder.mkdir()
    write(folder, text)
    return folder


def test_generic_value_test_and_event_pattern(tmp_path: Path) -> None:
    zero = _user_rule(
        tmp_path, "zero-for-five", "check: value_test\nparams: {metric: loss, op: '==', value: 0, min_run: 5}\n"
    )
    found = [
        f for f in analyze(sample("hf_labels_all_masked"), rules_dirs=[zero]).findings if f.rule_id == "zero-for-five"
    ]
    assert len(found) == 1 and found[0].onset_step == 1 and found[0].evidence["fraction"] == 1.0
    assert not [f for f in analyze(sample("hf_healthy"), rules_dirs=[zero]).findings if f.rule_id == "zero-for-five"]
    saves = _user_rule(
        tmp_path,
        "third-save",
        "check: event_present\nparams: {kinds: [checkpoint], pattern: 'checkpoint-\\d0$', min_count: 3}\n",
    )
    hit = [f for f in analyze(sample("hf_healthy"), rules_dirs=[saves]).findings if f.rule_id == "third-save"]
    assert len(hit) == 1 and hit[0].onset_step == 20 and hit[0].evidence["count"] == 3


def test_generic_signal_event_on_a_trainer_log(tmp_path: Path) -> None:
    # LLaMA-Factory's trainer_log.jsonl (new schema) with a falling loss and one spike at step 300.
    run = tmp_path / "run"
    run.mkdir()
    rows = []
    for step in range(1, 501):
        loss = 2.0 + 1.5 * 0.995**step + 0.01 * ((step * 7919) % 13 - 6)
        loss += 3.0 if step == 300 else 0.0
        rows.append(
            f'{{"current_steps": {step}, "total_steps": 500, "loss": {loss:.4f}, "lr": 1e-05, '
            f'"epoch": {step / 500:.2f}, "percentage": {step / 5:.2f}, "elapsed_time": "0:00:{step % 60:02d}", '
            f'"remaining_time": "0:00:00"}}'
        )
    (run / "trainer_log.jsonl").write_text("\n".join(rows) + "\n")
    spikes = _user_rule(
        tmp_path, "any-spike", "check: signal_event\nparams: {metric: loss, kind: spike, min_ratio: 1.5}\n"
    )
    found = [f for f in analyze(run, rules_dirs=[spikes]).findings if f.rule_id == "any-spike"]
    assert len(found) == 1 and found[0].onset_step == 300 and found[0].evidence["count"] == 1
    builtin = {f.rule_id: f for f in analyze(run).findings}
    assert builtin["loss-spike"].onset_step == 300


def test_every_mistake_of_a_file_is_reported_with_its_line(tmp_path: Path) -> None:
    text = (
        VALID.replace("severity: error", "severity: loud")
        .replace("confidence: 0.5", "confidence: 1.5")
        .replace("check: nonfinite_train_loss", "check: divergence\nparams: {blowup: 1.0e6, floor: 3}")
        + "causes:\n  - {id: a, title: A, prior: 2}\n  - {id: a, title: B}\n"
    )
    with pytest.raises(RuleError) as err:
        load_rule(write(tmp_path, text))
    found = [(e.line, e.message.split(" (")[0]) for e in err.value.errors]
    assert found == [
        (3, "severity must be one of info, warning, error, critical"),
        (4, "confidence must lie between 0 and 1"),
        (7, "parameter `blowup` of `divergence` must be float"),
        (7, "check `divergence` has no parameter `floor`"),
        (11, "cause `a`: prior must lie between 0 and 1"),
        (12, "duplicate cause id `a`"),
    ]
    assert err.value is err.value.errors[0]  # the exception itself is the first mistake
    rules, problems = load_rules([tmp_path])
    assert "my-rule" not in {r.id for r in rules} and len(problems) == 6


def test_a_user_rule_compares_two_series(tmp_path: Path) -> None:
    """The generic series_compare check in a user's own rule folder (what `--rules DIR` loads)."""
    write(
        tmp_path,
        VALID.replace("id: my-rule", "id: eval-far-above-train")
        .replace("failure_mode: loss_nan", "failure_mode: overfitting")
        .replace("severity: error", "severity: warning")
        .replace(
            "check: nonfinite_train_loss",
            "check: series_compare\nparams: {a: eval/loss, b: train/loss, op: '>', value: 1.5, min_points: 3}",
        ),
    )
    finding = next(
        f
        for f in analyze(sample("hf_overfit_tiny_train"), rules_dirs=[tmp_path]).findings
        if f.rule_id == "eval-far-above-train"
    )
    assert finding.onset_step == 30 and finding.evidence["first"]["ratio"] > 1.5 and finding.evidence["points"] >= 3
    healthy = analyze(sample("hf_healthy"), rules_dirs=[tmp_path])
    assert "eval-far-above-train" not in {f.rule_id for f in healthy.findings}


def test_a_malformed_needs_list_is_reported_with_its_place(tmp_path: Path) -> None:
    from analyzer.rules import load_rules

    rule = tmp_path / "r.yaml"
    rule.write_text(
        "id: r\nfailure_mode: loss_nan\nseverity: error\ntitle: t\ncheck: nonfinite_train_loss\n"
        "causes:\n  - {id: c, title: c, needs: {precision: fp16}}\n"
    )
    rules, problems = load_rules([tmp_path])
    assert not [r for r in rules if r.id == "r"]
    assert any("needs" in str(p) for p in problems)
