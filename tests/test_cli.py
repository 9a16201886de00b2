"""The `analyze` command as a user runs it: exit codes, formats, errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import artifact, sample, tree_digest


def analyze_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "analyzer", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_healthy_run_exits_0():
    done = analyze_cli(str(sample("hf_healthy")), "--no-color")
    assert done.returncode == 0, done.stderr
    assert "verdict: healthy" in done.stdout


def test_failed_run_exits_1_and_json_follows_the_contract():
    done = analyze_cli(str(sample("hf_nan_loss_filtered")), "--format", "json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)  # strict JSON: no bare NaN tokens
    assert report["verdict"] == "loss_zero_grad_nan"
    first = report["findings"][0]
    for key in ("rule_id", "failure_mode", "severity", "confidence", "onset_step", "message", "evidence", "causes"):
        assert key in first
    assert first["onset_step"] == 23
    signals = report["run"]["signals"]
    assert signals["train/loss"]["count"] == 60
    assert signals["train/grad_norm"]["nonfinite"] > 0
    assert set(signals["train/loss"]) == {"count", "first_step", "last_step", "nonfinite"}
    assert "meta" in report["run"]


def test_fail_on_threshold():
    assert analyze_cli(str(sample("hf_eval_nan")), "--fail-on", "critical").returncode == 0
    assert analyze_cli(str(sample("hf_eval_nan")), "--fail-on", "error").returncode == 1
    # an info finding (benign early fp16 NaN grad norms) does not fail the default threshold
    assert analyze_cli(str(artifact("005"))).returncode == 0


def test_single_file_works_like_a_folder():
    done = analyze_cli(str(sample("hf_labels_all_masked") / "trainer_state.json"), "-f", "json")
    assert done.returncode == 1
    assert json.loads(done.stdout)["verdict"] == "loss_zero"


def test_markdown_report_written_and_run_folder_untouched(tmp_path: Path):
    run = sample("hf_nan_loss_filtered")
    before = tree_digest(run)
    out = tmp_path / "report.md"
    done = analyze_cli(str(run), "-o", str(out))
    assert done.returncode == 1
    text = out.read_text()
    assert text.startswith("# Training run post-mortem")
    assert "loss_zero_grad_nan" in text and "onset step **23**" in text
    assert tree_digest(run) == before
    plots = sorted(p.name for p in (tmp_path / "report_files").iterdir())
    assert plots == ["grad_norm.png", "learning_rate.png", "loss.png"]
    assert "![Loss](report_files/loss.png)" in text
    assert f"plots in {tmp_path / 'report_files'}" in done.stderr


def test_no_plots_and_html_output(tmp_path: Path):
    out = tmp_path / "post-mortem.html"
    done = analyze_cli(str(sample("hf_healthy")), "-o", str(out), "--no-plots", "-q")
    assert done.returncode == 0, done.stderr
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>") and "<table>" in html and "<h1>Training run post-mortem" in html
    assert "<img" not in html and not (tmp_path / "post-mortem_files").exists()


def test_quiet_prints_the_verdict_line_only():
    done = analyze_cli(str(sample("hf_lr_too_high")), "-q", "--no-color")
    assert done.returncode == 1
    assert done.stdout.splitlines() == [f"verdict: divergence at step 2 → grad_explosion  {sample('hf_lr_too_high')}"]


def test_terminal_is_width_aware_and_plain_without_colour():
    import os

    wide = subprocess.run(
        [sys.executable, "-m", "analyzer", str(sample("hf_lr_too_high")), "--no-color"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "160"},
        timeout=120,
    )
    narrow = subprocess.run(
        [sys.executable, "-m", "analyzer", str(sample("hf_lr_too_high")), "--no-color"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "70"},
        timeout=120,
    )
    assert "most likely cause" in wide.stdout and "most likely cause" not in narrow.stdout
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 70
    assert "\x1b[" not in wide.stdout + narrow.stdout
    assert "train/loss" in wide.stdout and "▇" in wide.stdout  # the loss sparkline


@pytest.mark.parametrize("content", ["", '{\n  "log_history": [\n    {"loss": 1.0,', "not a log at all\n"])
def test_unreadable_input_is_one_line_error_exit_3(tmp_path: Path, content: str):
    path = tmp_path / "trainer_state.json"
    path.write_text(content)
    done = analyze_cli(str(path))
    assert done.returncode == 3
    assert "Traceback" not in done.stderr
    assert "trainer_state.json" in done.stderr.splitlines()[0]


def test_folder_with_nothing_readable_exit_3(tmp_path: Path):
    (tmp_path / "notes.txt").write_text("hello\n")
    done = analyze_cli(str(tmp_path))
    assert done.returncode == 3 and "nothing readable" in done.stderr and "Traceback" not in done.stderr


def test_unreadable_file_is_named(tmp_path: Path):
    (tmp_path / "trainer_state.json").symlink_to(tmp_path / "gone.json")
    done = analyze_cli(str(tmp_path))
    assert done.returncode == 3
    assert "trainer_state.json: broken link to " in done.stderr and "gone.json" in done.stderr


def test_missing_path_is_a_usage_error(tmp_path: Path):
    done = analyze_cli(str(tmp_path / "nope"))
    assert done.returncode == 2 and "no such file" in done.stderr


def test_formats_and_version():
    assert "hf_trainer_state" in analyze_cli("formats").stdout
    assert analyze_cli("--version").stdout.startswith("analyzer ")


def test_installed_package_runs_outside_the_checkout(tmp_path: Path):
    # From another folder the checkout is not importable: this runs the installed package, so data
    # files missing from the wheel (rules, grammars) fail here. Skipped for in-place imports.
    probe = subprocess.run(
        [sys.executable, "-c", "import analyzer; print(analyzer.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    if probe.returncode != 0:
        pytest.skip("analyzer is not installed in this environment")
    run = tmp_path / "run"
    run.mkdir()
    (run / "nohup.out").write_bytes((sample("hf_nan_loss_filtered") / "nohup.out").read_bytes())
    done = subprocess.run(
        [sys.executable, "-m", "analyzer", str(run), "-f", "json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["verdict"] == "loss_zero_grad_nan"


def test_rules_list_explain_and_check(tmp_path: Path):
    listed = analyze_cli("rules", "list")
    assert listed.returncode == 0
    ids = [line.split()[0] for line in listed.stdout.splitlines()]
    assert "loss-zero-grad-norm-nan" in ids and "loss-diverges" in ids and len(ids) == len(set(ids))
    doc = analyze_cli("rules", "explain", "loss-zero-grad-norm-nan")
    assert doc.returncode == 0 and doc.stdout.startswith("# ") and "## Likely causes" in doc.stdout
    assert analyze_cli("rules", "explain", "no-such-rule").returncode == 2
    assert analyze_cli("rules", "check").returncode == 0
    (tmp_path / "mine.yaml").write_text(
        "id: loss-diverges\nfailure_mode: divergence\nseverity: error\n"
        "confidence: 0.5\ntitle: t\ncheck: divergence\nparams: {ratio: high}\n"
        "falsepositives: [x]\nreferences: [y]\n"
    )
    checked = analyze_cli("rules", "check", str(tmp_path))
    assert checked.returncode == 1
    assert "mine.yaml:7: parameter `ratio` of `divergence` must be float" in checked.stdout


def test_text_without_metrics_is_never_healthy(tmp_path: Path):
    """A file of prose is read the same given directly or in its folder: exit 3, saying what was seen."""
    (tmp_path / "notes.log").write_text("starting the job on 4 nodes\nsee you in 3 days\n")
    for target in (tmp_path / "notes.log", tmp_path):
        done = analyze_cli(str(target))
        assert done.returncode == 3, done.stdout
        assert "notes.log: text with no training metric or event recognised (2 lines)" in done.stderr
        assert "healthy" not in done.stdout


def test_settings_alone_are_not_a_healthy_run(tmp_path: Path):
    (tmp_path / "config.json").write_text('{"model_type": "llama", "architectures": ["LlamaForCausalLM"]}')
    done = analyze_cli(str(tmp_path))
    assert done.returncode == 3 and "read only settings or text from: config.json" in done.stderr


def test_a_log_with_only_an_error_gets_its_finding(tmp_path: Path):
    (tmp_path / "err.log").write_text(
        'Traceback (most recent call last):\n  File "train.py", line 3, in <module>\n    step()\n'
        "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB\n"
    )
    done = analyze_cli(str(tmp_path / "err.log"), "-q")
    assert done.returncode == 1 and done.stdout.startswith("verdict: oom")


def test_inspect_shows_templates_fields_axis_and_unread_lines(tmp_path: Path):
    log = tmp_path / "train.log"
    log.write_text(
        "".join(
            f"Epoch [{e}/3] | Train Loss: {2 - e / 10:.4f} Acc: 0.{e}0 | Test Loss: {2.1 - e / 10:.4f}\n"
            for e in (1, 2, 3)
        )
        + "the job used 4 GPUs for 2 hours\n"
    )
    done = analyze_cli("inspect", str(log), "--format", "json", "--export", str(tmp_path / "m.csv"))
    assert done.returncode == 0, done.stderr
    entry = json.loads(done.stdout)["files"][0]
    template = entry["console"]["templates"][0]
    assert template["records"] == 3 and template["step_axis"] == "epoch"
    fields = {s["name"]: (s["split"], s["metric"]) for s in template["slots"] if s["role"] == "value"}
    assert fields == {"Train Loss": ("train", "loss"), "Acc": ("train", "acc"), "Test Loss": ("eval", "loss")}
    assert entry["console"]["prose_lines"] == 1
    assert entry["series"]["train/loss"] == {"points": 3, "first_step": 1, "last_step": 3}
    csv = (tmp_path / "m.csv").read_text().splitlines()
    assert csv[0] == "step,wall_time,split,metric,value,source,line,rank" and len(csv) > 9
    terminal = analyze_cli("inspect", str(log), "--no-color")
    assert "Train Loss -> train/loss" in terminal.stdout and "left unread as prose" in terminal.stdout


def test_inspect_shows_the_lines_a_grammar_hint_read(tmp_path: Path):
    # torchvision's MetricLogger format, read by a hint rather than the generic reader: inspect says which
    # hint, from which line, and which field became which series (it showed only the series before).
    log = tmp_path / "train.log"
    log.write_text(
        "".join(
            f"Epoch: [0]  [ {i}/5005]  eta: 4:26:15  lr: 0.1  loss: {6.9 - i / 1000:.4f} (6.9128)  "
            "acc1: 0.0000 (0.3009)  time: 2.5828  data: 0.0012  max mem: 3524\n"
            for i in range(134, 138)
        )
    )
    done = analyze_cli("inspect", str(log), "--format", "json")
    hints = json.loads(done.stdout)["files"][0]["console"]["hints"]
    assert [(h["hint"], h["lines"], h["first_line"]) for h in hints] == [("metric_logger", 4, 1)]
    assert hints[0]["fields"]["loss"] == "train/loss" and hints[0]["fields"]["lr"] == "train/learning_rate"
    terminal = analyze_cli("inspect", str(log), "--no-color")
    assert "hint metric_logger" in terminal.stdout and "loss -> train/loss" in terminal.stdout


def test_inspect_shows_the_runs_of_a_file_that_holds_several(tmp_path: Path):
    # two folds printed one after another: inspect says where each run is and which one the numbers summarise
    log = tmp_path / "cv.log"
    log.write_text(
        "".join(
            f"Fold {k}/2\n"
            + "".join(
                f"Epoch {e}/9 - train_loss: {(1 + k / 10) / e:.4f} - val_loss: {(1.1 + k / 10) / e:.4f}\n"
                for e in range(1, n)
            )
            for k, n in ((1, 6), (2, 10))
        )
    )
    done = analyze_cli("inspect", str(log), "--format", "json")
    runs = json.loads(done.stdout)["files"][0]["runs"]
    assert [(r["first_line"], r["last_line"], r["records"]) for r in runs["runs"]] == [(2, 6, 5), (8, 16, 9)]
    assert runs["analysed"] == 1
    terminal = analyze_cli("inspect", str(log), "--no-color")
    assert "2 runs one after another" in terminal.stdout and "run 2 is summarised" in terminal.stdout
