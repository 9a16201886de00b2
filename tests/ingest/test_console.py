"""Console logs: the real bug-report logs against hand-read expectations, the real Trainer's
console against its own trainer_state.json, and bad inputs."""

from __future__ import annotations

import json
import math
import resource
from pathlib import Path

import pytest
import yaml

from analyzer import analyze
from analyzer.errors import NotARun, NothingReadable
from analyzer.ingest import console
from analyzer.ingest.grammars import GrammarError, load_grammars
from tests.conftest import CASES, artifact, case, sample

EXPECTED = yaml.safe_load((Path(__file__).parents[1] / "data" / "real_cases_expected.yaml").read_text())

# Where the analyzer deliberately differs from the hand count, and why.
OVERRIDES: dict[str, dict[str, object]] = {
    # Megatron prints `lm loss` only when it is >= 0: the record whose field vanished is read as NaN.
    "018": {"train_loss_lines": 3, "last": (3385, "nan")},
    # MMEngine / mmcv [epoch][i/n]: the analyzer uses the global iteration, (epoch - 1) * n + i.
    "026": {"first": (838, 1.5043), "last": (888, 63.1261)},
    "027": {"first": (44183, None), "last": (44283, None)},
}


def _same(actual: float, expected: object) -> bool:
    if expected == "nan":
        return math.isnan(actual)
    return expected is None or actual == pytest.approx(float(expected), abs=1e-12)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_console_logs_match_hand_reading(name: str):
    folder = case(name[:3])
    expected = EXPECTED[name]
    override = OVERRIDES.get(name[:3], {})
    try:
        run = analyze(folder / "stdout.log").run
    except NothingReadable:
        assert expected["train_loss_lines"] == 0 and not any(expected["events"].values())
        return
    loss = run.series("loss")
    assert len(loss) == override.get("train_loss_lines", expected["train_loss_lines"])
    for end, position in (("first", 0), ("last", -1)):
        want = expected[f"train_loss_{end}"]
        if want is None:
            continue
        step, value = override.get(end, (want["step"], want["value"]))  # type: ignore[misc]
        assert _same(float(loss.iloc[position]), value), f"{end} value"
        if step is not None:
            assert loss.index[position] == step, f"{end} step"
    assert len(run.series("loss", "eval")) == expected["eval_loss_lines"]
    kinds = set(run.events["kind"])
    events = expected["events"]
    assert ("oom" in kinds) == events["oom"]
    assert ("nccl_timeout" in kinds) == events["nccl_timeout"]
    assert ("dataloader_error" in kinds) == events["dataloader_error"]
    assert ("overflow_skip" in kinds) == (events["overflow_skips"] > 0)
    if events["traceback"]:  # raised while loading data (a torch.utils.data frame on its stack): the data
        # pipeline's failure, the same traceback
        messages = run.events.loc[run.events["kind"].isin(["exception", "dataloader_error"]), "message"]
        said = [m.removeprefix("raised while loading data: ") for m in messages]
        assert any(m.startswith(events["traceback"]) for m in said)


def test_every_case_is_covered():
    """Every console log of the corpus is hand-read in tests/data/console_reading_expected.yaml (the
    older real_cases_expected.yaml, with events, covers the first 41)."""
    if not CASES.is_dir():
        pytest.skip("../shared/real_logs/cases not available")
    logs = {p.parent.name for p in CASES.glob("*/stdout.log")}
    read = yaml.safe_load((Path(__file__).parents[1] / "data" / "console_reading_expected.yaml").read_text())
    assert logs - {entry["case"] for entry in read} == set()
    assert set(EXPECTED) <= logs


@pytest.mark.parametrize("name", ["hf_healthy", "hf_nan_loss_filtered", "hf_eval_nan", "hf_lr_too_high"])
def test_real_trainer_console_agrees_with_its_trainer_state(name: str):
    # transformers 5.x prints every float as a '.4g' string; the steps come from the progress bar.
    console = analyze(sample(name) / "nohup.out").run
    state = json.loads((sample(name) / "trainer_state.json").read_text())["log_history"]
    for split, key in (("train", "loss"), ("eval", "eval_loss")):
        series = console.series("loss", split)
        rows = {r["step"]: r[key] for r in state if key in r}
        assert list(series.index) == sorted(rows)
        for step, value in rows.items():
            assert _same(series[step], "nan" if math.isnan(value) else float(f"{value:.4g}"))
    # The samples' stdout (the dicts) is block-buffered apart from the bars on stderr, so the bars cannot place
    # the dicts; the printed epoch x the banner's update steps per epoch does, exactly.
    assert console.meta["console_log"]["nohup.out"]["step_axis"] == "epoch_x_steps"
    assert (console.events["kind"] == "run_end").any()
    assert console.series("train_loss", "summary").iloc[0] == pytest.approx(
        float(f"{state[-1]['train_loss']:.4g}"), rel=1e-3
    )


def test_console_only_run_is_diagnosed_like_the_full_folder():
    report = analyze(sample("hf_nan_loss_filtered") / "nohup.out")
    assert report.verdict == "loss_zero_grad_nan" and report.findings[0].onset_step == 23
    assert report.findings[0].evidence["onset"]["at"].startswith("nohup.out:")


def test_buffered_stdout_marks_the_step_axis_as_guessed(tmp_path: Path):
    bars = "".join(f"\r {i}%|#| {i}/10 [00:0{i}<00:01,  1.00it/s]" for i in range(1, 11))
    dicts = "".join(f"{{'loss': {2 - i / 10}, 'learning_rate': 1e-05, 'epoch': {i / 10}}}\n" for i in range(1, 6))
    path = tmp_path / "train.log"
    path.write_text(bars + "\n" + dicts)
    run = analyze(path).run
    assert run.meta["console_log"]["train.log"]["step_axis"] == "guessed"
    assert len(run.series("loss")) == 5


def test_user_grammar_adds_a_format_without_code(tmp_path: Path):
    grammar = tmp_path / "mine.yaml"
    grammar.write_text(
        "metrics:\n"
        "  - name: my_trainer\n"
        "    framework: mine\n"
        "    prefilter: 'it='\n"
        "    match: 'it=(?P<step>\\d+) obj=(?P<loss>{num})'\n"
    )
    log = tmp_path / "run.log"
    log.write_text("start\nit=1 obj=2.5\nit=2 obj=nan\n")
    report = analyze(log, grammar_files=[grammar])
    assert report.run.series("loss").index.tolist() == [1, 2]
    assert report.verdict == "loss_nan" and report.run.meta["framework"] == "mine"
    grammar.write_text("metrics:\n  - name: broken\n    match: '(unclosed'\n")
    with pytest.raises(GrammarError, match=r"mine.yaml: metrics\[0\]: bad regex"):
        load_grammars(grammar)


def test_events_keep_step_and_line(tmp_path: Path):
    path = tmp_path / "slurm-123.out"
    path.write_text(
        "iter 10: loss 2.5000, time 100.00ms, mfu 1.00%\n"
        "iter 20: loss 2.4000, time 100.00ms, mfu 1.00%\n"
        "Traceback (most recent call last):\n"
        '  File "train.py", line 300, in <module>\n'
        "    loss.backward()\n"
        "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. "
        "GPU 0 has a total capacity of 79.18 GiB\n"
    )
    run = analyze(path).run
    oom = run.events[run.events["kind"] == "oom"].iloc[0]
    assert (oom["step"], oom["line"]) == (20, 6) and "2.00 GiB" in oom["message"]
    exc = run.events[run.events["kind"] == "exception"].iloc[0]
    assert exc["line"] == 3 and "train.py:300 in <module>" in exc["message"]
    assert analyze(path).verdict == "oom"


def test_binary_garbage_is_not_a_log(tmp_path: Path):
    path = tmp_path / "nohup.out"
    path.write_bytes(bytes(range(256)) * 4000)
    with pytest.raises(NothingReadable) as err:
        analyze(path)
    assert "not recognised" in err.value.problems[0].message


def test_empty_and_bars_only_files(tmp_path: Path):
    (tmp_path / "empty.log").write_text("")
    with pytest.raises(NothingReadable):
        analyze(tmp_path / "empty.log")
    bars = "".join(f"\r{i}%|#| {i}/100 [00:01<00:10,  9.00it/s]" for i in range(100))
    (tmp_path / "bars.log").write_text(bars)
    with pytest.raises(NotARun, match="no training metric or event"):
        console.parse(tmp_path / "bars.log", "bars.log")
    with pytest.raises(NothingReadable):
        analyze(tmp_path / "bars.log")


def test_a_200_mb_single_line_is_read_in_bounded_memory(tmp_path: Path):
    path = tmp_path / "oneline.log"
    with path.open("w") as fh:
        for _ in range(200):
            fh.write("x" * (1 << 20))
        fh.write("\niter 5: loss 1.2500, time 1.00ms\n")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    run = analyze(path).run
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert run.series("loss").to_dict() == {5: 1.25}
    assert grown_mib < 100


def test_lightning_rich_bar_and_sanity_check_nan():
    report = analyze(artifact("013"))
    loss = report.run.series("loss")
    assert len(loss) == 2 * 1406 and loss.index[0] == 1 and loss.iloc[0] == 5.283 and loss.iloc[-1] == 0.714
    (finding,) = report.findings  # val_loss: nan in the sanity check before training is not a failure
    assert finding.failure_mode == "eval_loss_nan" and finding.severity == "info"
    assert report.verdict == "healthy"


def test_printed_config_dicts_are_not_metrics():
    # W&B's debug.log prints the run config as a Python dict with learning_rate and eval_* keys.
    logs = next(artifact("011").rglob("debug.log"))
    with pytest.raises(NotARun):
        console.parse(logs, "debug.log")


def test_bulk_path_keeps_steps_across_block_boundaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # Real tqdm.write order: the dict line, then the bar redrawn at the dict's step. logging_steps=5,
    # 3,000 logged steps, read in small blocks so many dicts sit at a block's end.
    from analyzer.ingest.console import lines

    monkeypatch.setattr(lines, "BLOCK", 4096)
    total = 15000
    out = []
    for step in range(5, total + 1, 5):
        out.append(f"{{'loss': {1 + step / total:.4f}, 'grad_norm': 0.5, 'learning_rate': 1e-05, 'epoch': 0.1}}\n")
        out.append(f"\r {100 * step // total}%|#| {step}/{total} [00:01<00:01,  9.00it/s]")
        if step % 1000 == 0:
            out.append("\n{'eval_loss': 1.5, 'eval_runtime': 1.0, 'epoch': 0.1}\n")
            out.append(f"\r {100 * step // total}%|#| {step}/{total} [00:01<00:01,  9.00it/s]")
    path = tmp_path / "train.log"
    path.write_text("".join(out))
    run = analyze(path).run
    loss = run.series("loss")
    assert list(loss.index) == list(range(5, total + 1, 5))
    assert loss[1000] == pytest.approx(1 + 1000 / total, abs=1e-4)
    assert list(run.series("loss", "eval").index) == list(range(1000, total + 1, 1000))
    assert run.meta["console_log"]["train.log"]["step_axis"] == "progress_bar"


def test_xtuner_iteration_lines(tmp_path: Path):
    # XTuner (MMEngine's iteration-based loop), lines as posted in InternLM/xtuner#658.
    log = tmp_path / "xtuner.log"
    log.write_text(
        "2024/05/07 12:12:19 - mmengine - INFO - Iter(train) [1010/2046]  lr: 1.0704e-04  eta: 0:56:54  "
        "time: 18.9265  data_time: 16.0600  memory: 15266  loss: 0.7775  grad_norm: 0.0009\n"
        "2024/05/07 12:12:48 - mmengine - INFO - Iter(train) [1020/2046]  lr: 1.0546e-04  eta: 0:56:17  "
        "time: 2.8955  data_time: 0.0172  memory: 15266  loss: 0.8473  grad_norm: 0.0009\n"
    )
    run = analyze(log).run
    assert run.series("loss").to_dict() == {1010: 0.7775, 1020: 0.8473}
    assert run.series("learning_rate").iloc[-1] == pytest.approx(1.0546e-04)
    assert run.series("grad_norm").iloc[0] == 0.0009 and not run.has("eta") and not run.has("data_time")
    assert run.meta["max_steps"] == 2046


def test_scheduler_cancellations_are_signal_events(tmp_path: Path):
    """SLURM's cancel lines (new and old layouts, as pasted in public bug reports) end the run with a
    signal event, so the crash rule names a scheduler kill instead of a silent death."""
    log = tmp_path / "slurm-494583.out"
    log.write_text(
        "{'loss': 2.1, 'grad_norm': 1.2, 'learning_rate': 2e-05, 'epoch': 0.1}\n"
        "{'loss': 2.0, 'grad_norm': 1.1, 'learning_rate': 2e-05, 'epoch': 0.2}\n"
        "srun: Job step aborted: Waiting up to 47 seconds for job step to finish.\n"
        "slurmstepd: error: *** JOB 494583 ON gpu-node17 CANCELLED AT 2024-04-20T09:09:37 DUE TO TIME LIMIT ***\n"
        "slurmstepd: *** JOB 830329 CANCELLED AT 2018-08-06T17:21:44 DUE TO TIME LIMIT on n447 ***\n"
        "slurmstepd: error: *** JOB 602025 ON compute-2-4 CANCELLED AT 2017-07-12T15:20:54 ***\n"
    )
    events = console.parse(log, log.name).events
    assert events[["kind", "message", "line"]].values.tolist() == [
        ["signal", "SLURM cancelled job 494583 due to TIME LIMIT (SIGTERM, then SIGKILL)", 4],
        ["signal", "SLURM cancelled job 830329 due to TIME LIMIT (SIGTERM, then SIGKILL)", 5],
        ["signal", "SLURM cancelled job 602025 (scancel or a signal)", 6],
    ]
    finding = analyze(log).findings[0]
    assert finding.rule_id == "training-crashed-with-exception" and finding.causes[0].id == "killed-externally"


def test_a_table_row_glued_to_its_bar_is_read_under_its_header(tmp_path: Path):
    """Columns named once by a header; each row is a bar's description: `0/9  1.2G  0.05 ...: 40%|..| 4/10`.
    Units after a value (1.2G) and an i/n counter cell take their column's name."""
    header = "   Epoch   gpu_mem      box      obj    total  targets  img_size\n"
    rows = "".join(
        f"     0/9      1.2G   {0.05 - i / 1000:.4f}   {0.02:.4f}   {0.07 - i / 1000:.4f}       {10 + i}       640: "
        f" {10 * i}%|##        | {i}/10 [00:0{i}<00:10,  1.00it/s]\n"
        for i in range(1, 6)
    )
    log = tmp_path / "train.log"
    log.write_text(header + rows)
    frames = console.parse(log, "train.log")
    box = frames.metrics[frames.metrics["metric"] == "box"]
    assert box["value"].round(4).tolist() == [0.049, 0.048, 0.047, 0.046, 0.045]
    assert box["step"].tolist() == [1, 2, 3, 4, 5]  # the bar's count
    assert set(frames.metrics["metric"]) >= {"gpu_mem", "box", "obj", "total", "targets", "img_size"}


def test_a_row_that_does_not_line_up_with_the_header_keeps_its_own_labels(tmp_path: Path):
    log = tmp_path / "train.log"
    log.write_text(
        "  name   loss   acc\n" + "".join(f"  step {i}  loss {1 / i:.3f}  acc 0.5 extra 3\n" for i in range(1, 6))
    )
    frames = console.parse(log, "train.log")
    assert "name" not in set(frames.metrics["metric"])
    assert len(frames.metrics[frames.metrics["metric"] == "loss"]) == 5


def test_bare_counter_value_lines_are_step_and_loss_when_no_loss_is_named(tmp_path: Path):
    log = tmp_path / "stdout.log"
    log.write_text("start\n" + "".join(f"{100 + 10 * i} {3 - i / 10:.4f}\n" for i in range(6)) + "110 nan\n"[:0])
    frames = console.parse(log, "stdout.log")
    loss = frames.metrics[frames.metrics["metric"] == "loss"]
    assert loss["step"].tolist() == [100, 110, 120, 130, 140, 150]
    why = frames.meta["console_log"]["stdout.log"]["templates"][0]["why"]
    assert "taken as step and loss" in why


@pytest.mark.parametrize("counter", ["iter ", "Epoch ", "[step "])
def test_a_counter_named_only_as_a_counter_and_one_number_are_step_and_loss(tmp_path: Path, counter: str):
    log = tmp_path / "stdout.log"
    log.write_text("".join(f"{counter}{1404 + i}: {4e-6 + i * 1e-7:.7f}\n" for i in range(6)))
    loss = console.parse(log, "stdout.log").metrics.query("metric == 'loss'")
    assert loss["step"].tolist() == list(range(1404, 1410))


def test_a_bare_number_then_a_rising_counter_are_loss_and_step(tmp_path: Path) -> None:
    """`print(loss.item(), i)`: the number first, the loop's counter after it."""
    log = tmp_path / "stdout.log"
    log.write_text("".join(f"{10.19 - i / 97:.15f}, {100 * i}\n" for i in range(8)))
    loss = console.parse(log, "stdout.log").metrics.query("metric == 'loss'")
    assert loss["step"].tolist() == [100 * i for i in range(8)]


def test_a_bare_number_then_a_counter_that_starts_again_are_losses_in_printed_order(tmp_path: Path) -> None:
    """Each epoch's batches counted from 0 with no header to say which epoch: the loss in record order."""
    text = "".join(f"{10.19 - (9 * e + b) / 500:.15f}, {100 * b}\n" for e in range(3) for b in range(9))
    frames = console.parse_text(text, "stdout.log")
    loss = frames.metrics.query("metric == 'loss'")
    assert len(loss) == 27 and loss["value"].is_monotonic_decreasing
    assert frames.meta["console_log"]["stdout.log"]["step_axis"] == "record"


@pytest.mark.parametrize(
    "line", ["{v:.15f}, {i}", "iter: {i} loss: {v:.4f}", "loss {v:.4f} at batch {i}", "[{i}] loss={v:.4f}"]
)
def test_a_counter_that_starts_again_under_epoch_headers_counts_the_epoch_s_batches(line: str) -> None:
    """`Epoch: N` above each epoch's lines, whose counter starts again from 0: epoch x (largest + 1) + counter (new
    log 4507: BERT4Rec's `10.1941, 0` ... `10.1862, 800` under `Epoch: 0`)."""
    rows = [
        f"Epoch: {e}\n" + "".join(line.format(v=10.19 - (9 * e + b) / 500, i=100 * b) + "\n" for b in range(9))
        for e in range(3)
    ]
    frames = console.parse_text("".join(rows), "stdout.log")
    loss = frames.metrics.query("metric == 'loss'")
    assert loss["step"].tolist() == [801 * e + 100 * b for e in range(3) for b in range(9)]
    assert frames.meta["console_log"]["stdout.log"]["step_axis"] == "batch_in_epoch"


@pytest.mark.parametrize("line", ["iter: {i} loss: {v:.4f}", "[{i}] loss={v:.4f}"])
def test_an_event_under_epoch_headers_takes_the_step_of_the_record_before_it(line: str) -> None:
    """The traceback after epoch 2's last record sits at that record's step, not at the header's epoch (2) nor at
    the counter as first read (800, a run relaunched at each header)."""
    rows = [
        f"Epoch: {e}\n" + "".join(line.format(i=100 * b, v=3 - e / 10 - b / 100) + "\n" for b in range(9))
        for e in range(3)
    ]
    crash = 'Traceback (most recent call last):\n  File "train.py", line 9, in <module>\nRuntimeError: boom\n'
    frames = console.parse_text("".join(rows) + crash, "stdout.log")
    assert frames.events.query("kind == 'exception'")["step"].tolist() == [801 * 2 + 800]


@pytest.mark.parametrize(
    "text",
    [
        "".join(f"epoch {i}: {i * 2 + 30.5}s\n" for i in range(8)),  # a unit after the number: a duration
        "".join(f"lr {i}: {i / 7:.3f}\n" for i in range(8)),  # a name that is no counter names the first number
        "".join(f"{i} {i * 2}\n" for i in range(3)),  # too few lines to call it a record
        "".join(f"{i % 3} {i / 7:.3f}\n" for i in range(8)),  # the first column does not rise
        "".join(f"{i} {i / 7:.3f}\n" for i in range(8)) + "".join(f"{i} {i / 9:.3f}\n" for i in range(8)),  # twice
        "".join(f"{i} {i / 7:.3f}\nval loss {i / 3:.3f}\n" for i in range(8)),  # a loss is named elsewhere
        "".join(f"{7 - i}, {i}\n" for i in range(8)),  # two whole numbers: which one counts is unknown
        "".join(f"{i / 7:.3f}, {(i * 5) % 7}\n" for i in range(8)),  # the second column jumps about: no counter
        "".join(f"{i / 7:.3f} {i}\n{i / 5:.3f} {i}\n" for i in range(8)) + "val loss 0.5 1\n",  # a loss named
    ],
)
def test_bare_pairs_are_not_a_loss_without_the_whole_evidence(tmp_path: Path, text: str):
    log = tmp_path / "stdout.log"
    log.write_text(text)
    try:
        frames = console.parse(log, "stdout.log")
    except Exception:  # nothing readable at all is fine here
        return
    train_loss = frames.metrics[(frames.metrics["metric"] == "loss") & (frames.metrics["split"] == "train")]
    assert train_loss.empty


def test_a_json_record_hard_wrapped_by_a_paste_is_joined(tmp_path: Path):
    """A paste wrapped at a fixed width cuts keys and numbers; the pieces are glued back until the braces
    balance, and the record's line is its first."""
    record = (
        '2024-01-01 10:00:00 | INFO | train | {"epoch": 3, "train_loss": "2.25", "train_nll_loss": "1.5", '
        '"train_lr": "1e-05", "train_num_updates": "912"}'
    )
    wrapped = "\n".join(record[i : i + 70] for i in range(0, len(record), 70))
    log = tmp_path / "train.log"
    log.write_text("start\n" + wrapped + "\nnext line 1\n")
    frames = console.parse(log, "train.log")
    loss = frames.metrics[(frames.metrics["metric"] == "loss") & (frames.metrics["split"] == "train")]
    assert loss["value"].tolist() == [2.25]
    assert loss["step"].tolist() == [912]  # `train_num_updates` is the global step
    assert loss["line"].tolist() == [2]


def test_a_record_that_never_closes_is_read_line_by_line(tmp_path: Path):
    log = tmp_path / "train.log"
    log.write_text("config: {'model': {'dim': 4,\n" + "".join(f"step {i} loss {1 / i:.3f}\n" for i in range(1, 30)))
    frames = console.parse(log, "train.log")
    loss = frames.metrics[frames.metrics["metric"] == "loss"]
    assert loss["step"].tolist() == list(range(1, 30))
    assert loss["line"].tolist() == list(range(2, 31))


def test_full_width_punctuation_and_an_unnamed_rising_counter(tmp_path: Path):
    """`次数：100, Loss：1.98` (a Chinese tutorial's print): full-width colons read as ASCII ones, and the
    rising whole number no ASCII word names is the step."""
    log = tmp_path / "train.log"
    rows = [f"训练次数：{100 * i}, Loss：{2 - i / 10:.4f}" for i in range(1, 6)]
    log.write_text("\n".join(["-------第 1 轮训练开始------", *rows, "整体测试集上的正确率: 0.39"]) + "\n")
    frames = console.parse(log, "train.log")
    loss = frames.metrics[(frames.metrics["metric"] == "loss") & (frames.metrics["split"] == "train")]
    assert loss["step"].tolist() == [100, 200, 300, 400, 500]
    assert loss["value"].round(4).tolist() == [1.9, 1.8, 1.7, 1.6, 1.5]


def test_an_unnamed_first_number_that_repeats_is_not_the_step_alone(tmp_path: Path):
    # It is the epoch of the unnamed batch counter beside it, which starts again where it goes up
    # (DeepRecommender's `[0,  1000] RMSE: ..`, new log 327); without such a partner the lines are records.
    log = tmp_path / "train.log"
    log.write_text("".join(f"{e} {i} Loss={1 / (e * 10 + i):.4f} Time=0.04\n" for e in (3, 4) for i in (1, 2, 3)))
    frames = console.parse(log, "train.log")
    assert frames.meta["console_log"]["train.log"]["templates"][0]["step_axis"] == "batch_in_epoch"
    assert sorted(set(frames.metrics["step"])) == [1, 2, 3, 5, 6, 7]  # epoch x (3 + 1) + batch
    log.write_text("".join(f"{e} {i} Loss={1 / (e * 10 + i):.4f} Time=0.04\n" for e in (3, 4) for i in (3, 1, 2)))
    frames = console.parse(log, "train.log")
    assert frames.meta["console_log"]["train.log"]["templates"][0]["step_axis"] == "record"


def test_one_pasted_line_of_pipe_separated_names_is_a_record(tmp_path: Path):
    log = tmp_path / "train.log"
    log.write_text("100000 | loss nan | lr 0.000000e+00 | 2006.12ms | mfu 1.68%\n")
    frames = console.parse(log, "train.log")
    loss = frames.metrics[frames.metrics["metric"] == "loss"]
    assert len(loss) == 1 and loss["value"].isna().all()


def test_a_settings_line_printed_once_is_no_record(tmp_path: Path):
    log = tmp_path / "train.log"
    log.write_text("config | lr 0.0003 | warmup 100 | weight_decay 0.1\n")
    with pytest.raises(NotARun):  # no loss among its fields: settings, not training
        console.parse(log, "train.log")


def test_the_chosen_grammars_reach_every_reader_of_console_text(tmp_path: Path):
    """User grammar files (and hints off) hold for console text read inside a reading: a file and the
    console records a W&B run keeps (console.parse_text) alike."""
    from analyzer.ingest.grammars import grammars, reading_with

    grammar = tmp_path / "mine.yaml"
    grammar.write_text(
        "metrics:\n  - name: my_trainer\n    framework: mine\n    match: 'it=(?P<step>\\d+) obj=(?P<loss>{num})'\n"
    )
    text = "it=7 obj=2.5\nit=8 obj=2.25\n"
    with reading_with(grammars([grammar])):
        frames = console.parse_text(text, "output.log")
    assert frames.meta["framework"] == "mine"
    assert frames.metrics.loc[frames.metrics["metric"] == "loss", "step"].tolist() == [7, 8]
    assert console.parse_text(text, "output.log").meta.get("framework") != "mine"  # outside: built-in set


def test_a_record_glued_to_a_half_drawn_bar_is_the_same_kind_of_record(tmp_path: Path):
    log = tmp_path / "train.log"
    rows = [f"step:{i} - train/loss:{2 - i / 10:.2f} - train/lr:0.0001" for i in range(1, 4)]
    glued = "Epoch 1/2:  10%|█████████            step:4 - train/loss:1.60 - train/lr:0.0001"
    log.write_text("\n".join([*rows, glued]) + "\n")
    frames = console.parse(log, "train.log")
    loss = frames.metrics[frames.metrics["metric"] == "loss"]
    assert loss["step"].tolist() == [1, 2, 3, 4]
    assert "loss_summary" not in set(frames.metrics["metric"])


def test_a_per_device_array_wrapped_by_numpy_is_read_as_rank_zeros_value(tmp_path: Path):
    log = tmp_path / "train.log"
    log.write_text(
        "Pass 0, batch 0, loss [9.210789  9.209968  9.2115755 9.210512  9.211608\n 9.21356  ]\n"
        "Pass 0, batch 100, loss [9.1 9.0 8.9 9.2]\n"
        "Pass 0, batch 200, loss [     nan 9.211133      nan      nan]\n"
        "  3%|███   | 1/29 [00:50<23:47\n"  # a bar cut inside its brackets: not an array
        "Pass 0, batch 300, loss [nan 9.2 nan nan]\n"
    )
    frames = console.parse(log, "train.log")
    loss = frames.metrics[frames.metrics["metric"] == "loss"]
    assert loss["value"].tolist()[:2] == [9.210789, 9.1] and loss["value"].iloc[2:].isna().all()
    assert loss["line"].tolist() == [1, 3, 4, 6]
