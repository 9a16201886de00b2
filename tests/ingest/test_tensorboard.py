"""TensorBoard event files: written by the real writers (torch, tensorboard, the HF callback), real public runs."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader
from tensorboard.compat.proto.event_pb2 import Event, SessionLog
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from analyzer import analyze
from analyzer.errors import InputError, NothingReadable
from analyzer.ingest import ingest
from analyzer.ingest import tensorboard as tb
from analyzer.ingest.base import read_head
from analyzer.model import Frames
from analyzer.normalize import deep_merge
from tests.conftest import artifact

torch_tb = pytest.importorskip("torch.utils.tensorboard")


def event_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("events.out.tfevents.*"), key=lambda p: tb._natural(p.name))


def read(folder: Path) -> list[tuple[str, Frames | InputError]]:
    """parse_group on every event file under a folder, sources relative to it."""
    return tb.parse_group([(p, p.relative_to(folder).as_posix()) for p in event_files(folder)])


def frames_of(folder: Path) -> Frames:
    ((_, result),) = read(folder)
    assert isinstance(result, Frames), result
    return result


def points(frames: Frames, metric: str, split: str = "train") -> dict[int, float]:
    m = frames.metrics
    sel = m[(m["metric"] == metric) & (m["split"] == split)]
    return dict(zip(sel["step"].tolist(), sel["value"].tolist(), strict=True))


def write_events(folder: Path, events: list[Event]) -> Path:
    """Events through tensorboard's own EventFileWriter (it adds the file_version record first)."""
    folder.mkdir(parents=True, exist_ok=True)
    writer = EventFileWriter(str(folder))
    for event in events:
        writer.add_event(event)
    writer.close()
    return event_files(folder)[-1]


def scalar_event(tag: str, step: int, value: Summary.Value, wall: float = 1_700_000_000.0) -> Event:
    value.tag = tag
    return Event(wall_time=wall + step, step=step, summary=Summary(value=[value]))


def test_masked_crc32c_matches_the_published_test_vector_and_tensorboard():
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

    assert tb.masked_crc32c(b"\x1a\x11CRC test, one two") == 0x5794D08A
    rng = random.Random(1)
    samples = [bytes(rng.randrange(256) for _ in range(rng.randrange(0, 300))) for _ in range(200)]
    samples += [samples[-1][:41]] * 40  # a group large enough for the vectorized path
    expected = np.array([masked_crc32c(s) for s in samples], dtype=np.uint32)
    assert [tb.masked_crc32c(s) for s in samples] == expected.tolist()
    matrix = np.frombuffer(b"".join(samples[-40:]), dtype=np.uint8).reshape(40, 41)
    assert (tb._crc_rows(matrix) == expected[-40:]).all()
    # stored checksums placed after each sample: the vectorized check agrees with the Python one
    lengths = np.array([len(s) for s in samples])
    framed = b"".join(s + int(c).to_bytes(4, "little") for s, c in zip(samples, expected.tolist(), strict=True))
    framed_starts = np.cumsum(np.concatenate(([0], lengths[:-1] + 4)))
    assert tb._data_crc_ok(tb._View.of(framed), framed_starts, lengths).all()


def test_torch_add_scalar_every_value_exact_as_float32_nan_inf_kept(tmp_path: Path):
    values = [0.5514, 0.1, 1 / 3, 1e-8, 12345.678, -2.5, math.nan, math.inf, -math.inf, 0.0]
    steps = [0, 1, 2, 3, 5, 8, 13, 2**40, 2**40 + 1, 2**40 + 2]
    with torch_tb.SummaryWriter(str(tmp_path)) as writer:
        for i, (step, value) in enumerate(zip(steps, values, strict=True)):
            writer.add_scalar("train/loss", value, step, walltime=1_700_000_000.25 + i)
            writer.add_scalar("train/learning_rate", 1e-4 * (i + 1), step)
    frames = frames_of(tmp_path)
    loss = frames.metrics[frames.metrics["metric"] == "loss"]
    assert loss["step"].tolist() == steps
    expected = np.array(values, dtype=np.float32).astype(np.float64)
    np.testing.assert_array_equal(loss["value"].to_numpy(), expected)  # NaN == NaN here, inf kept
    assert loss["value"].iloc[0] == 0.5514000058174133
    assert loss["wall_time"].tolist() == [1_700_000_000.25 + i for i in range(10)]
    assert loss["line"].tolist() == list(range(2, 22, 2))  # record numbers: record 1 is file_version
    assert points(frames, "learning_rate")[3] == float(np.float32(4e-4))
    assert frames.problems == []


def test_fast_decoder_agrees_with_tensorboards_loader(tmp_path: Path):
    rng = random.Random(7)
    tags = ["a", "x" * 7, "y" * 8, "z" * 9, "train/loss", "é/ünïcode", "t" * 16, "u" * 17, "long/" + "v" * 150]
    events = []
    for i in range(3000):
        step = rng.choice([0, i, -i, 2**62 + i, 127, 128, 16383, 16384])
        wall = rng.choice([0.0, 1_700_000_000.0 + i / 7])
        events.append(scalar_event(rng.choice(tags), step, Summary.Value(simple_value=rng.uniform(-1e6, 1e6)), wall))
        events[-1].wall_time = wall
    path = write_events(tmp_path, events)
    expected = []
    for record, event in enumerate(LegacyEventFileLoader(str(path)).Load(), start=1):
        for value in event.summary.value:
            expected.append(
                (record, value.tag, event.step, value.simple_value, event.wall_time if event.wall_time else math.nan)
            )
    frames = frames_of(tmp_path)
    m = frames.metrics.sort_values("line", kind="stable")
    got = list(zip(m["line"].tolist(), m["step"].tolist(), m["value"].tolist(), m["wall_time"].tolist(), strict=True))
    assert [(r, s, v) for r, _, s, v, _ in expected] == [(r, s, v) for r, s, v, _ in got]
    assert np.array_equal([w for *_, w in expected], [w for *_, w in got], equal_nan=True)
    by_tag = dict(zip(m["line"].tolist(), m["metric"].astype(str).tolist(), strict=True))
    assert {by_tag[r] for r, tag, *_ in expected if tag == "é/ünïcode"} == {"é/ünïcode"}
    assert {by_tag[r] for r, tag, *_ in expected if tag.startswith("long/")} == {"long/" + "v" * 150}


def tensor_value(dtype: str, plugin: bool = True, **fields: object) -> Summary.Value:
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars")) if plugin else None
    return Summary.Value(tensor=TensorProto(dtype=dtype, **fields), metadata=metadata)


def test_every_scalar_encoding_with_and_without_plugin_metadata(tmp_path: Path):
    bf16 = int(np.array([1.5], dtype=np.float32).view(np.uint32)[0] >> 16)
    half = int(np.array([0.333], dtype=np.float16).view(np.uint16)[0])
    cases = {
        "float_val": (tensor_value("DT_FLOAT", float_val=[0.1]), float(np.float32(0.1))),
        "double_val": (tensor_value("DT_DOUBLE", plugin=False, double_val=[0.1]), 0.1),
        "content_f32": (tensor_value("DT_FLOAT", tensor_content=np.float32(2.5).tobytes()), 2.5),
        "content_f64": (tensor_value("DT_DOUBLE", plugin=False, tensor_content=np.float64(0.1).tobytes()), 0.1),
        "content_f16": (tensor_value("DT_HALF", tensor_content=np.float16(0.333).tobytes()), float(np.float16(0.333))),
        "content_bf16": (tensor_value("DT_BFLOAT16", tensor_content=bf16.to_bytes(2, "little")), 1.5),
        "content_i32": (tensor_value("DT_INT32", tensor_content=np.int32(-7).tobytes()), -7.0),
        "content_i64": (tensor_value("DT_INT64", plugin=False, tensor_content=np.int64(2**40).tobytes()), 2.0**40),
        "half_val": (tensor_value("DT_HALF", half_val=[half]), float(np.float16(0.333))),
        "half_val_bf16": (tensor_value("DT_BFLOAT16", plugin=False, half_val=[bf16]), 1.5),
        "int_val": (tensor_value("DT_INT32", int_val=[42]), 42.0),
        "int64_val": (tensor_value("DT_INT64", int64_val=[-3]), -3.0),
        "simple_with_plugin": (
            Summary.Value(
                simple_value=0.75,
                metadata=SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars")),
            ),
            0.75,
        ),
    }
    skipped = {
        "vector": tensor_value(
            "DT_FLOAT", float_val=[1.0, 2.0], tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=2)])
        ),
        "string": tensor_value("DT_STRING", plugin=False, string_val=[b"x"]),
        "histogram": Summary.Value(histo=HistogramProto(min=0, max=1, num=3, bucket_limit=[1], bucket=[3])),
        "image": Summary.Value(image=Summary.Image(height=1, width=1, colorspace=1, encoded_image_string=b"png")),
    }
    events = [scalar_event(tag, 10 + i, value) for i, (tag, (value, _)) in enumerate(cases.items())]
    events += [scalar_event(tag, 50, value) for tag, value in skipped.items()]
    two = Summary(value=[Summary.Value(tag="pair/a", simple_value=1.0), Summary.Value(tag="pair/b", simple_value=2.0)])
    events.append(Event(wall_time=1.0, step=60, summary=two))
    write_events(tmp_path, events)
    frames = frames_of(tmp_path)
    for i, (tag, (_, expected)) in enumerate(cases.items()):
        assert points(frames, tag) == {10 + i: expected}, tag
    assert not frames.metrics["metric"].isin(list(skipped)).any()
    assert points(frames, "pair/a") == {60: 1.0} and points(frames, "pair/b") == {60: 2.0}
    assert frames.problems == []


def test_text_summaries_and_hparams_go_to_meta(tmp_path: Path):
    args = '{"learning_rate": 0.0003, "bf16": true, "fp16": false, "per_device_train_batch_size": 8, "seed": 1}'
    with torch_tb.SummaryWriter(str(tmp_path / "run")) as writer:
        writer.add_text("args", args)
        writer.add_text("notes", "plain words, {not json")
        writer.add_scalar("train/loss", 1.0, 1)
        writer.add_hparams({"lr": 0.01, "optimizer": "adamw", "amp": True}, {"hparam/loss": 0.5}, run_name="hp")
    results = read(tmp_path)
    assert len(results) == 2
    meta: dict[str, Any] = {}
    for _, frames in results:
        assert isinstance(frames, Frames)
        deep_merge(meta, frames.meta)
    assert meta["tensorboard"]["text"]["args"]["learning_rate"] == 0.0003
    assert meta["tensorboard"]["text"]["notes"] == "plain words, {not json"
    assert meta["tensorboard"]["hparams"] == {"lr": 0.01, "optimizer": "adamw", "amp": True}
    assert meta["training_args"] == {
        "learning_rate": 0.0003,
        "bf16": True,
        "fp16": False,
        "per_device_train_batch_size": 8,
        "seed": 1,
    }
    assert meta["tensorboard"]["settings"] == {"learning_rate": 0.01, "optim": "adamw"}
    run = analyze(tmp_path).run
    assert run.meta["precision"] == "bf16" and run.meta["learning_rate"] == 0.0003  # the args win over hparams
    assert run.series("hparam/loss").to_dict() == {0: 0.5}


def test_hparams_alone_give_the_settings(tmp_path: Path):
    with torch_tb.SummaryWriter(str(tmp_path)) as writer:
        writer.add_scalar("train/loss", 2.0, 1)
        writer.add_hparams({"lr": 0.02, "batch_size": 16, "precision": "bf16-mixed"}, {"hparam/loss": 2.0})
    run = analyze(tmp_path).run
    assert run.meta["learning_rate"] == 0.02 and run.meta["per_device_train_batch_size"] == 16
    assert run.meta["precision"] == "bf16" and run.meta["precision_source"] == "tensorboard hparams.precision"


def test_hf_trainer_callback_layout_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    transformers = pytest.importorskip("transformers")
    from transformers.integrations import TensorBoardCallback

    monkeypatch.chdir(tmp_path)
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path / "out"), learning_rate=3e-5, report_to=[], per_device_train_batch_size=2, use_cpu=True
    )
    state, control = transformers.TrainerState(), transformers.TrainerControl()
    model = type("Model", (), {"config": transformers.GPT2Config(n_layer=1)})()
    callback = TensorBoardCallback()
    callback.on_train_begin(args, state, control, model=model)
    losses = {10: 2.5, 20: 2.25, 30: math.nan, 40: 1.75}
    for step, value in losses.items():
        state.global_step = step
        callback.on_log(
            args, state, control, logs={"loss": value, "grad_norm": 1.0, "learning_rate": 3e-5, "epoch": step / 40}
        )
    callback.on_log(args, state, control, logs={"eval_loss": 2.0, "eval_runtime": 0.5, "epoch": 1.0})
    callback.on_log(
        args, state, control, logs={"train_runtime": 9.0, "train_loss": 2.1, "total_flos": 1.0, "epoch": 1.0}
    )
    callback.on_train_end(args, state, control)
    (run_dir,) = (tmp_path / "out" / "runs").iterdir()
    report = analyze(tmp_path / "out")
    run = report.run
    loss = run.series("loss")
    assert loss.index.tolist() == [10, 20, 30, 40] and math.isnan(loss[30]) and loss[40] == 1.75
    assert run.series("loss", "eval").to_dict() == {40: 2.0}
    assert run.series("train_loss", "summary").to_dict() == {40: pytest.approx(2.1)}
    assert run.meta["learning_rate"] == 3e-5 and run.meta["per_device_train_batch_size"] == 2
    assert run.meta["model"]["model_type"] == "gpt2" and run.meta["framework"] == "transformers"
    assert [s.format for s in run.sources] == ["tensorboard"]
    assert run.sources[0].path.startswith("runs/" + run_dir.name + "/events.out.tfevents.")
    assert run.cite("train", "loss", 40).startswith(run.sources[0].path + ":")


def test_resumed_run_purge_and_overlapping_file(tmp_path: Path):
    # docs/formats.md §3.6: A logs 0-9, B (a second file) 5-7, C (purge_step=6) 6-7.
    for steps, purge, offset in ((range(10), None, 0), (range(5, 8), None, 100), (range(6, 8), 6, 200)):
        with torch_tb.SummaryWriter(str(tmp_path), purge_step=purge, filename_suffix="") as writer:
            for step in steps:
                writer.add_scalar("train/loss", offset + step, step)
    assert len(event_files(tmp_path)) == 3, "one file per writer"
    run = analyze(tmp_path).run
    assert run.series("loss").to_dict() == {0: 0.0, 1: 1.0, 2: 2.0, 3: 3.0, 4: 4.0, 5: 105.0, 6: 206.0, 7: 207.0}
    restarts = run.events[run.events["kind"] == "restart"]
    assert restarts["step"].tolist() == [5, 6]
    assert restarts["severity"].tolist() == ["info", "info"]
    assert "went back from 9 to 5" in restarts["message"].iloc[0]
    assert "resumed at step 6 after step 9" in restarts["message"].iloc[1]
    files = [p.relative_to(tmp_path).as_posix() for p in event_files(tmp_path)]
    assert restarts["source"].tolist() == files[1:]
    counts = run.meta["tensorboard"]["files"]
    assert counts[files[0]] == {"records": 11, "scalars": 5, "purged": 2, "superseded": 3}  # 5-7 by B, 8-9 by C
    assert counts[files[1]]["scalars"] == 1 and counts[files[1]]["purged"] == 2
    assert run.cite("train", "loss", 5).startswith(files[1] + ":")


def test_second_file_continuing_without_purge_keeps_later_values(tmp_path: Path):
    for steps, offset in ((range(10), 0.0), (range(5, 13), 100.0)):
        with torch_tb.SummaryWriter(str(tmp_path)) as writer:
            for step in steps:
                writer.add_scalar("train/loss", offset + step, step)
    results = read(tmp_path)
    first, second = (frames for _, frames in results)
    assert isinstance(first, Frames) and isinstance(second, Frames)
    assert sorted(points(first, "loss")) == [0, 1, 2, 3, 4]
    assert sorted(points(second, "loss")) == list(range(5, 13))
    (restart,) = second.events.to_dict("records")
    assert restart["kind"] == "restart" and restart["step"] == 5 and "from 9 to 5" in restart["message"]


def test_session_log_start_inside_one_file_and_checkpoints(tmp_path: Path):
    def session(step: int, status: int, path: str = "") -> Event:
        return Event(wall_time=1.0 + step, step=step, session_log=SessionLog(status=status, checkpoint_path=path))

    events = [session(0, SessionLog.START)]  # a run's first session: nothing to resume
    events += [scalar_event("loss", step, Summary.Value(simple_value=float(step))) for step in range(8)]
    events.append(session(7, SessionLog.CHECKPOINT, "ckpt/model-7"))
    events.append(session(4, SessionLog.START))  # the process restarted from the step-4 checkpoint
    events += [scalar_event("loss", step, Summary.Value(simple_value=10.0 + step)) for step in range(4, 6)]
    write_events(tmp_path, events)
    frames = frames_of(tmp_path)
    assert points(frames, "loss") == {0: 0.0, 1: 1.0, 2: 2.0, 3: 3.0, 4: 14.0, 5: 15.0}
    checkpoint, restart = frames.events.to_dict("records")
    assert checkpoint["kind"] == "checkpoint" and checkpoint["step"] == 7 and "ckpt/model-7" in checkpoint["message"]
    assert restart["kind"] == "restart" and restart["step"] == 4 and restart["line"] == 12
    assert restart["message"].startswith("resumed at step 4 after step 7 (SessionLog START): 4 values")
    run = analyze(tmp_path).run
    assert run.series("loss").to_dict() == points(frames, "loss")
    assert run.events["kind"].tolist().count("restart") == 1


def record_offsets(data: bytes) -> list[int]:
    """Where each record of an event file starts (read from the lengths the writer put there)."""
    offsets = [0]
    while offsets[-1] < len(data):
        offsets.append(offsets[-1] + int.from_bytes(data[offsets[-1] : offsets[-1] + 8], "little") + 16)
    return offsets[:-1]


def test_big_records_between_scalars(tmp_path: Path):
    rng = np.random.default_rng(0)
    with torch_tb.SummaryWriter(str(tmp_path)) as writer:
        for step in range(3):
            writer.add_scalar("train/loss", float(step), step)
        writer.add_image("noise", rng.integers(0, 255, size=(3, 256, 256), dtype=np.uint8), 3)
        writer.add_text("notes", "n" * 100_000, 3)
        for step in range(3, 6):
            writer.add_scalar("train/loss", float(step), step)
    (path,) = event_files(tmp_path)
    data = bytearray(path.read_bytes())
    image, text = record_offsets(bytes(data))[4:6]
    assert text - image > 1 << 16, "the image record is one the walk steps over"
    frames = frames_of(tmp_path)
    assert points(frames, "loss") == {i: float(i) for i in range(6)} and frames.problems == []
    assert frames.meta["tensorboard"]["text"]["notes"] == "n" * 65536 + " [cut]"
    data[image + 5000] ^= 0xFF  # inside the image, which is skipped: not checksummed, not reported
    data[text + 5000] ^= 0x01  # inside the text, which is kept: its checksum is verified
    path.write_bytes(bytes(data))
    frames = frames_of(tmp_path)
    assert points(frames, "loss") == {i: float(i) for i in range(6)} and "notes" not in str(frames.meta)
    assert [(p.where, p.message) for p in frames.problems] == [
        (f"byte {text}", "record 6: data checksum mismatch (corrupt record); skipped")
    ]


def cut(path: Path, keep: int) -> None:
    path.write_bytes(path.read_bytes()[:keep])


def test_truncated_file_is_read_up_to_the_break(tmp_path: Path):
    with torch_tb.SummaryWriter(str(tmp_path)) as writer:
        for step in range(20):
            writer.add_scalar("train/loss", 1.0 / (step + 1), step)
    (path,) = event_files(tmp_path)
    size = path.stat().st_size
    cut(path, size - 3)  # inside the last record's data checksum
    frames = frames_of(tmp_path)
    assert sorted(points(frames, "loss")) == list(range(19))
    (problem,) = frames.problems
    offset = int(problem.where.removeprefix("byte "))
    assert problem.message.startswith(f"file ends mid-record at byte offset {offset} ")
    assert path.read_bytes()[offset : offset + 8] == (size - offset - 16).to_bytes(8, "little")  # the last record
    cut(path, offset + 5)  # inside the next header
    frames = frames_of(tmp_path)
    assert sorted(points(frames, "loss")) == list(range(19))
    assert frames.problems[0].where == f"byte {offset}"
    run = analyze(tmp_path).run
    assert len(run.series("loss")) == 19 and any("mid-record" in p.message for p in run.problems)
    cut(path, 5)
    ((_, error),) = read(tmp_path)
    assert isinstance(error, InputError) and error.problem.where == "byte 0"
    assert "ends mid-record at byte offset 0" in error.problem.message and "no complete record" in str(error)


def test_corrupt_records_are_reported_and_skipped(tmp_path: Path):
    with torch_tb.SummaryWriter(str(tmp_path)) as writer:
        for step in range(10):
            writer.add_scalar("train/loss", float(step), step)
    (path,) = event_files(tmp_path)
    data = bytearray(path.read_bytes())
    offsets = [*record_offsets(bytes(data)), len(data)]
    record4, record7 = offsets[3], offsets[6]  # records 4 and 7 hold steps 2 and 5
    data[offsets[4] - 1] ^= 0xFF  # the data checksum of record 4
    data[record7 + 20] ^= 0x01  # one byte of record 7's event
    path.write_bytes(bytes(data))
    frames = frames_of(tmp_path)
    assert sorted(points(frames, "loss")) == [0, 1, 3, 4, 6, 7, 8, 9]
    assert [(p.where, p.message) for p in frames.problems] == [
        (f"byte {record4}", "record 4: data checksum mismatch (corrupt record); skipped"),
        (f"byte {record7}", "record 7: data checksum mismatch (corrupt record); skipped"),
    ]
    data[record7 + 9] ^= 0x10  # record 7's header checksum: the framing stops there
    path.write_bytes(bytes(data))
    frames = frames_of(tmp_path)
    assert sorted(points(frames, "loss")) == [0, 1, 3, 4]
    assert frames.problems[-1].where == f"byte {record7}" and "corrupt header" in frames.problems[-1].message


def test_empty_file_lfs_pointer_and_not_an_event_file(tmp_path: Path):
    empty = tmp_path / "events.out.tfevents.1700000000.host.1.0"
    empty.touch()
    pointer = tmp_path / "sub" / "events.out.tfevents.1700000000.host.2.0"
    pointer.parent.mkdir()
    pointer.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:" + "0" * 64 + "\nsize 5295\n")
    assert tb.sniff(empty, read_head(empty)) and tb.sniff(pointer, read_head(pointer))
    results = dict(read(tmp_path))
    nothing = results[empty.name]
    assert isinstance(nothing, InputError) and nothing.problem.message == "file is empty"
    lfs = results["sub/" + pointer.name]
    assert isinstance(lfs, InputError)
    assert lfs.problem.message == "Git LFS pointer, not the event file: run git lfs pull"
    with pytest.raises(NothingReadable) as caught:
        analyze(tmp_path)
    assert {p.message for p in caught.value.problems} >= {"file is empty", lfs.problem.message}
    text = tmp_path / "notes.bin"
    text.write_bytes(b"\x00" * 40)
    assert not tb.sniff(text, read_head(text))


def test_sniff_on_content_not_name(tmp_path: Path):
    with torch_tb.SummaryWriter(str(tmp_path / "w")) as writer:
        writer.add_scalar("loss", 1.0, 1)
    (path,) = event_files(tmp_path)
    renamed = tmp_path / "renamed.bin"
    renamed.write_bytes(path.read_bytes())
    assert tb.sniff(renamed, read_head(renamed))
    other = tmp_path / "dataset.tfrecord"  # a valid TFRecord that is not an event file
    payload = b"\x0a\x05hello"
    header = len(payload).to_bytes(8, "little")
    other.write_bytes(
        header
        + tb.masked_crc32c(header).to_bytes(4, "little")
        + payload
        + tb.masked_crc32c(payload).to_bytes(4, "little")
    )
    assert not tb.sniff(other, read_head(other))
    ingested = ingest(renamed)
    assert [name for name, _ in ingested.frames] == ["tensorboard"]


def test_split_subfolders_keras_layout(tmp_path: Path):
    for folder, values in (("train", [3.0, 2.0, 1.5]), ("validation", [3.5, 2.5, 2.4])):
        events = [scalar_event("epoch_loss", epoch, Summary.Value(simple_value=v)) for epoch, v in enumerate(values)]
        events += [scalar_event("epoch_accuracy", epoch, Summary.Value(simple_value=0.5)) for epoch in range(3)]
        write_events(tmp_path / "logs" / folder, events)
    run = analyze(tmp_path).run
    assert run.series("loss").to_dict() == {0: 3.0, 1: 2.0, 2: 1.5}
    assert run.series("loss", "eval").to_dict() == {0: 3.5, 1: 2.5, 2: pytest.approx(2.4)}
    assert run.has("epoch_accuracy", "eval") and not run.events["kind"].eq("restart").any()


@pytest.mark.parametrize(
    ("tag", "folder", "expected"),
    [
        ("train/loss", "train", ("train", "loss")),
        ("eval/loss", "train", ("eval", "loss")),
        ("train/learning_rate", "x", ("train", "learning_rate")),
        ("epoch_loss", "validation", ("eval", "loss")),
        ("Loss/test", "train", ("test", "loss")),
        ("train/train_loss", "train", ("summary", "train_loss")),
        ("loss", "eval", ("eval", "loss")),
        ("epoch_accuracy", "train", ("train", "epoch_accuracy")),
    ],
)
def test_series_names(tag: str, folder: str, expected: tuple[str, str]):
    assert tb.series_name(tag, tb._SPLIT_NAMES.get(folder, "train")) == expected


def test_many_events_are_all_kept(tmp_path: Path):
    with torch_tb.SummaryWriter(str(tmp_path)) as writer:
        for step in range(500):
            writer.add_scalar("train/loss", 1.0 + step, step)
    (path,) = event_files(tmp_path)
    data = path.read_bytes()
    first = 12 + int.from_bytes(data[:8], "little") + 4  # records after file_version, copied 400 times
    path.write_bytes(data + data[first:] * 399)
    frames = frames_of(tmp_path)
    assert len(frames.metrics) == 200_000  # no sampling (EventAccumulator keeps 10,000 by default)
    assert frames.metrics["line"].iloc[-1] == 200_001


def test_real_hf_run_007_with_hparams_subfolder():
    folder = artifact("007")
    results = read(folder)
    assert [source.rsplit(".", 1)[-1] for source, _ in results] == ["0", "2", "1"]  # run folder, then hparams/
    main, evaluation, hparams_dir = (frames for _, frames in results)
    assert isinstance(main, Frames) and isinstance(hparams_dir, Frames) and isinstance(evaluation, Frames)
    loss = points(main, "loss")
    assert sorted(loss) == [500, 1000, 1500, 2000, 2500, 3000]
    assert loss[500] == pytest.approx(0.4742) and loss[3000] == pytest.approx(0.0081, abs=5e-5)
    assert points(main, "train_loss", "summary") == {3100: pytest.approx(0.0877245739)}
    assert points(evaluation, "loss", "eval") == {3100: pytest.approx(0.00622168509)}
    assert points(evaluation, "accuracy", "eval") == {3100: pytest.approx(0.999054)}
    assert main.meta["training_args"]["num_train_epochs"] == 100.0
    assert main.meta["model"]["model_type"] == "gpt2"
    assert hparams_dir.metrics.empty and hparams_dir.meta["tensorboard"]["hparams"]["learning_rate"] == 5e-05
    run = analyze(folder).run
    assert run.meta["precision"] == "fp32" and run.meta["learning_rate"] == 5e-05
    assert run.series("loss", "eval").to_dict() == {3100: pytest.approx(0.00622168509)}


def test_real_keras_tf2_v2_file_008():
    folder = artifact("008")
    results = [(s, r) for s, r in read(folder) if isinstance(r, Frames) and not r.metrics.empty]
    ((source, frames),) = results
    assert source.endswith("tensorboard_logs/train/events.out.tfevents.1628697775.DESKTOP-V1DB051.21044.31250.v2")
    loss = points(frames, "loss")
    assert sorted(loss) == list(range(10))
    assert loss[0] == pytest.approx(332.684174) and loss[9] == pytest.approx(234.8, abs=0.05)
    assert frames.problems == []


def test_real_tensorboard_reducer_runs_017():
    folder = artifact("017")
    results = dict(read(folder))
    assert len(results) == 9 and all(isinstance(r, Frames) for r in results.values())
    strict = results["runs/strict/run_1/events.out.tfevents.1622543341.janoshs-mbp.lan.86862.0"]
    assert isinstance(strict, Frames)
    foo = points(strict, "strict/foo")
    assert len(foo) == 100 and sorted(foo)[:2] == [0, 5] and max(foo) == 495
    assert foo[0] == pytest.approx(1.4962565898895264)
    lax = results["runs/lax/run_3/events.out.tfevents.1622543341.janoshs-mbp.lan.86862.5"]
    assert isinstance(lax, Frames) and len(points(lax, "lax/bar_4")) == 130
    dup = results["runs/duplicate_steps/run_1/events.out.tfevents.1622966509.janoshs-mbp.lan.86059.0"]
    assert isinstance(dup, Frames)
    rows = dup.metrics[dup.metrics["metric"] == "dup_steps/foo"]
    assert len(rows) == 210 and rows["step"].duplicated().sum() == 10  # steps 90-99 twice, all kept here


def test_real_hf_run_018_agrees_with_trainer_state():
    folder = artifact("018")
    results = read(folder)
    train, evaluation = (frames for _, frames in results)
    assert isinstance(train, Frames) and isinstance(evaluation, Frames)
    assert len(points(train, "loss")) == 430 and len(points(train, "grad_norm")) == 430
    assert points(evaluation, "rouge1", "eval") == {215337: pytest.approx(41.6324)}
    run = analyze(folder).run
    state = run.metrics[run.metrics["source"] == "trainer_state.json"]
    tb_loss = points(train, "loss")
    state_loss = state[(state["metric"] == "loss") & (state["split"] == "train")]
    assert len(state_loss) == 430
    for step, value in zip(state_loss["step"].tolist(), state_loss["value"].tolist(), strict=True):
        assert tb_loss[step] == float(np.float32(value))
    assert run.meta["per_device_train_batch_size"] == 4
