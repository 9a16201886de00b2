"""What the fuzz tests share: the seed runs of each reader, the mutations, and the one outcome check.

The outcome of analyzing any input must be clean: a report (healthy or with findings, whose problems name
the files they concern) or NothingReadable naming the files; never another exception, never more than
SECONDS of wall time or MEMORY bytes more address space (both enforced while `analyze` runs, so a hang or a
blow-up fails the example instead of stalling the suite).
"""

from __future__ import annotations

import collections
import contextlib
import gzip
import io
import os
import resource
import shutil
import signal
import struct
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st

from analyzer import analyze
from analyzer.errors import NothingReadable
from analyzer.report import render_json, render_markdown

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SEEDS = HERE / "seeds"
SAMPLES = REPO / "sample_logs"
REGRESSIONS = HERE / "regressions"

SECONDS = 20.0  # one small input analyzed; the seeds take well under a second
MEMORY = 2 << 30  # bytes of address space one analysis may add

# Inputs tried and their outcomes, per reader (printed at the end of a run: see conftest.py).
TRIED: collections.Counter[tuple[str, str]] = collections.Counter()


@dataclass(frozen=True)
class Seed:
    """A run folder built from real files (run-relative path -> source file) and which of them to mutate."""

    name: str
    files: tuple[tuple[str, Path], ...]
    targets: tuple[str, ...]
    codec: str = ""  # how the targets split into checksummed records (CODECS), for mutations under the checksums

    def build(self, root: Path) -> Path:
        """Copy the seed run into `root`; return it."""
        for rel, src in self.files:
            dest = root / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            if src.suffix == ".gz" and not rel.endswith(".gz"):
                dest.write_bytes(gzip.decompress(src.read_bytes()))
            else:
                shutil.copyfile(src, dest)
        return root

    def data(self, target: str) -> bytes:
        src = dict(self.files)[target]
        return (
            gzip.decompress(src.read_bytes())
            if src.suffix == ".gz" and not target.endswith(".gz")
            else src.read_bytes()
        )


def _folder(
    name: str, base: Path, targets: tuple[str, ...], under: str = "", only: tuple[str, ...] = (), codec: str = ""
) -> Seed:
    """A seed of every file under `base` (or only those named), placed under `under` in the run folder."""
    files = sorted(p for p in base.rglob("*") if p.is_file() and (not only or p.relative_to(base).as_posix() in only))
    placed = tuple(((Path(under) / p.relative_to(base)).as_posix(), p) for p in files)
    targets = tuple((Path(under) / t).as_posix() for t in targets)  # `targets` are named relative to `base`
    assert all(t in dict(placed) for t in targets), (name, targets)
    return Seed(name, placed, targets, codec)


def _with_state(seed: Seed) -> Seed:
    """The seed beside a trainer_state.json: a folder of settings only is NothingReadable (no metrics), so
    without it the mutated settings would never reach the report."""
    state = ("trainer_state.json", SEEDS / "hf_state_grpo" / "trainer_state.json")
    return Seed(seed.name, (*seed.files, state), seed.targets, seed.codec)


_WANDB = SAMPLES / "hf_killed" / "wandb" / "offline-run-20261122_114154-15dxxbi5"
_WANDB_DIR = f"wandb/{_WANDB.name}"
_TB_GPT2 = "runs/Jun29_06-31-19_6a29ce405cda"
_TB_TORCH = "runs/events.out.tfevents.1795356286.vm.3176.0"
_MLFLOW_RUN = "mlruns/1/ed05f9cd599442fe9a0c9222184710b8"

# Reader name (as in analyzer.ingest) -> its seeds. Every reader in analyzer/ingest has one.
READERS: dict[str, tuple[Seed, ...]] = {
    "hf_trainer_state": (
        _folder("hf_state_grpo", SEEDS / "hf_state_grpo", ("trainer_state.json",)),
        _folder("hf_state_llamafactory_cpt", SEEDS / "hf_state_llamafactory_cpt", ("trainer_state.json",)),
        _folder(
            "sample_hf_healthy_ckpt20",
            SAMPLES / "hf_healthy" / "checkpoint-20",
            ("trainer_state.json",),
            only=("trainer_state.json",),
        ),
    ),
    "llamafactory_jsonl": (_folder("llamafactory_phi4", SEEDS / "llamafactory_phi4", ("trainer_log.jsonl",)),),
    "tensorboard": (
        _folder(
            "tensorboard_gpt2",
            SEEDS / "tensorboard_gpt2",
            (
                f"{_TB_GPT2}/events.out.tfevents.1719642696.6a29ce405cda.1269.0",
                f"{_TB_GPT2}/events.out.tfevents.1719645922.6a29ce405cda.1269.2",
                f"{_TB_GPT2}/1719642696.8209522/events.out.tfevents.1719642696.6a29ce405cda.1269.1",
            ),
            codec="tfrecord",
        ),
        _folder(
            "tensorboard_t5",
            SEEDS / "tensorboard_t5",
            ("runs/events.out.tfevents.1742884204.DESKTOP-41L2EO3.107869.1",),
            codec="tfrecord",
        ),
        _folder(
            "sample_torch_plain",
            SAMPLES / "torch_lr_schedule_too_short",
            (_TB_TORCH,),
            only=(_TB_TORCH,),
            codec="tfrecord",
        ),
    ),
    "wandb_run": (
        _folder("sample_wandb_offline", _WANDB, ("run-15dxxbi5.wandb",), under=_WANDB_DIR, codec="wandb"),
        Seed(
            "wandb_sidecars",
            _folder("", _WANDB, (), under=_WANDB_DIR).files
            + _folder("", SEEDS / "wandb_kobert_files", (), under=f"{_WANDB_DIR}/files").files,
            (
                f"{_WANDB_DIR}/files/config.yaml",
                f"{_WANDB_DIR}/files/wandb-summary.json",
                f"{_WANDB_DIR}/files/output.log",
            ),
        ),
    ),
    "wandb_csv": (_folder("wandb_csv", SEEDS / "wandb_csv", ("wandb_export_hf_healthy.csv",)),),
    "mlflow_store": (
        _folder(
            "mlflow_keras",
            SEEDS / "mlflow_keras",
            (
                f"{_MLFLOW_RUN}/metrics/loss",
                f"{_MLFLOW_RUN}/meta.yaml",
                "mlruns/1/meta.yaml",
                f"{_MLFLOW_RUN}/params/opt_learning_rate",
                f"{_MLFLOW_RUN}/tags/mlflow.log-model.history",
            ),
        ),
        Seed("mlflow_sqlite", (("mlflow.db", SEEDS / "mlflow.db.gz"),), ("mlflow.db",)),
    ),
    "lightning_csv": (
        _folder("lightning_stuck", SEEDS / "lightning_stuck", ("metrics.csv", "hparams.yaml")),
        _folder(
            "lightning_tiny",
            REPO / "tests" / "data" / "lightning" / "csvlogger_tiny" / "lightning_logs",
            ("version_0/metrics.csv", "version_0/hparams.yaml"),
        ),
    ),
    "console": (
        _folder("console_llamafactory", SEEDS / "console_llamafactory", ("training_v3.log",)),
        _folder("console_lightning_rich", SEEDS / "console_lightning_rich", ("output.log", "wandb-summary.json")),
        _folder("sample_torch_plain_log", SAMPLES / "torch_lr_schedule_too_short", ("train.log",), only=("train.log",)),
        _folder("sample_nohup", SAMPLES / "hf_exception", ("nohup.out",), only=("nohup.out",)),
    ),
    "side_files": (  # model/generation/PEFT configs and *_results.json beside a run
        _with_state(
            _folder(
                "sample_hf_configs",
                SAMPLES / "hf_healthy",
                ("config.json", "generation_config.json", "all_results.json", "eval_results.json"),
                only=(
                    "config.json",
                    "generation_config.json",
                    "all_results.json",
                    "eval_results.json",
                    "train_results.json",
                ),
            )
        ),
        _with_state(
            _folder(
                "llamafactory_results", SEEDS / "llamafactory_phi4", ("all_results.json",), only=("all_results.json",)
            )
        ),
    ),
    "training_args": (
        _with_state(
            _folder(
                "sample_training_args",
                SAMPLES / "hf_healthy",
                ("training_args.bin",),
                only=("training_args.bin",),
                codec="torch_zip",
            )
        ),
    ),
}

# Byte strings that mean something to one format or another, spliced in by the mutations.
TOKENS = (
    b"\x00",
    b"\xff" * 8,
    b"\x80",
    b"\xef\xbb\xbf",
    b"NaN",
    b"-Infinity",
    b"1e309",
    b"-1",
    b"9" * 40,
    b"18446744073709551616",
    b"{",
    b"}",
    b"[",
    b"]",
    b'"',
    b",",
    b":",
    b"\n",
    b"\r",
    b"\r\n",
    b"\t",
    b"null",
    b"true",
    b"*a",
    b"&a ",
    b"!!python/object/apply:os.system",
    b"\x1b[2K",
    b"%",
    b"\\u0000",
    b"\xf0\x9f",
    b":W&B",
    b"PK\x03\x04",
)


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """One mutation of a real file: truncated, bits flipped, a range replaced, a range repeated, or any bytes."""
    n = len(data)
    kind = draw(st.sampled_from(("truncate", "flip", "splice", "repeat", "arbitrary")))
    if kind == "arbitrary" or n == 0:
        return draw(st.binary(max_size=4096))
    if kind == "truncate":
        return data[: draw(st.integers(0, n - 1))]
    if kind == "flip":
        flipped = bytearray(data)
        for pos, bit in draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, 7)), min_size=1, max_size=16)):
            flipped[pos] ^= 1 << bit
        return bytes(flipped)
    start = draw(st.integers(0, n))
    if kind == "repeat":
        end = draw(st.integers(start, min(n, start + 4096)))
        return data[:end] + data[start:end] * draw(st.integers(1, 3)) + data[end:]
    cut = draw(st.integers(0, min(256, n - start)))
    insert = draw(st.one_of(st.sampled_from(TOKENS), st.binary(max_size=64)))
    return data[:start] + insert + data[start + cut :]


# ---- records under checksums: a bit flip in a TensorBoard or W&B record fails its CRC and is skipped,
# and one in training_args.bin fails the zip's CRC, so these mutate a record and write the checksums again.


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC32C = _crc32c_table()


def _masked_crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    crc ^= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def tf_split(data: bytes) -> list[bytes]:
    records, pos = [], 0
    while pos + 12 <= len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        records.append(data[pos + 12 : pos + 12 + length])
        pos += 16 + length
    return records


def tf_join(records: list[bytes]) -> bytes:
    out = bytearray()
    for record in records:
        head = struct.pack("<Q", len(record))
        out += head + struct.pack("<I", _masked_crc32c(head)) + record + struct.pack("<I", _masked_crc32c(record))
    return bytes(out)


_WANDB_HEADER, _BLOCK, _CHUNK = 7, 32 * 1024, 7


def wandb_split(data: bytes) -> list[bytes]:
    from analyzer.ingest.wandb_run import read_records

    return [payload for _, payload in read_records(data, "seed")[0]]


def wandb_join(records: list[bytes]) -> bytes:
    out = bytearray(b":W&B" + struct.pack("<HB", 0xBEE1, 0))
    for record in records:
        first, left = True, record
        while True:
            room = _BLOCK - len(out) % _BLOCK
            if room < _CHUNK:
                out += bytes(room)
                continue
            part, left = left[: room - _CHUNK], left[room - _CHUNK :]
            kind = (1 if not left else 2) if first else (4 if not left else 3)  # FULL FIRST MIDDLE LAST
            out += struct.pack("<IHB", zlib.crc32(part, zlib.crc32(bytes((kind,)))), len(part), kind) + part
            first = False
            if not left:
                break
    return bytes(out)


def _zip_split(data: bytes) -> list[bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [archive.read(info) for info in archive.infolist()]


def _zip_join_like(original: bytes) -> Callable[[list[bytes]], bytes]:
    with zipfile.ZipFile(io.BytesIO(original)) as archive:
        names = [info.filename for info in archive.infolist()]

    def join(members: list[bytes]) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            for member_name, member in zip(names, members, strict=False):
                archive.writestr(member_name, member)
        return buffer.getvalue()

    return join


CODECS: dict[str, tuple[Callable[[bytes], list[bytes]], Callable[[bytes], Callable[[list[bytes]], bytes]]]] = {
    "tfrecord": (tf_split, lambda _original: tf_join),
    "wandb": (wandb_split, lambda _original: wandb_join),
    "torch_zip": (_zip_split, _zip_join_like),
}


@st.composite
def mutated_records(draw: st.DrawFn, data: bytes, codec: str) -> bytes:
    """The file with one record mutated (or records dropped or repeated) and every checksum right again."""
    split, join_like = CODECS[codec]
    records = split(data)
    assert records, "seed without records"
    i = draw(st.integers(0, len(records) - 1))
    kind = draw(st.sampled_from(("mutate", "mutate", "mutate", "drop", "repeat")))
    if kind == "mutate":
        records[i] = draw(mutated(records[i]))
    elif kind == "drop":
        del records[i : i + draw(st.integers(1, 8))]
    else:
        records[i:i] = [records[i]] * draw(st.integers(1, 3))
    return join_like(data)(records)


class TooSlow(Exception):
    """The analysis ran past its time bound (an Exception, so that hypothesis shrinks the input)."""


def _address_space() -> int:
    """Bytes of address space this process maps now (Linux), 0 when unknown."""
    try:
        return int(Path("/proc/self/statm").read_text().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


@contextlib.contextmanager
def bounded(seconds: float = SECONDS, memory: int = MEMORY) -> Iterator[None]:
    """Raise TooSlow after `seconds`, and MemoryError past `memory` more bytes of address space (Linux)."""

    def overtime(signum: int, frame: object) -> None:
        raise TooSlow(f"analysis still running after {seconds:g} s")

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    used = _address_space()
    limit = used + memory if used else resource.RLIM_INFINITY
    if hard != resource.RLIM_INFINITY and limit != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    previous = signal.signal(signal.SIGALRM, overtime)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    if limit != resource.RLIM_INFINITY:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def check_clean(path: Path, reader: str = "", seconds: float = SECONDS, memory: int = MEMORY, **kwargs: object) -> str:
    """Analyze `path` through the public API and render the report as the CLI would; the outcome's name.

    Anything but a report or NothingReadable propagates (the test fails with the traceback). Every problem
    must name its file."""
    started = time.perf_counter()
    with bounded(seconds, memory):
        try:
            report = analyze(path, **kwargs)  # type: ignore[arg-type]
        except NothingReadable as exc:
            assert exc.problems, "NothingReadable without a problem naming a file"
            assert all(p.path for p in exc.problems), exc.problems
            outcome = "nothing readable"
        else:
            render_json(report)
            render_markdown(report)
            assert all(p.path for p in report.run.problems), report.run.problems
            outcome = "findings" if report.findings else "healthy"
    assert time.perf_counter() - started < seconds
    if reader:
        TRIED[(reader, outcome)] += 1
    return outcome


def problems_of(path: Path, **kwargs: object) -> list[str]:
    """The problems of analyzing `path` as text (`file:where: message`), from the report or NothingReadable."""
    try:
        return [str(p) for p in analyze(path, **kwargs).run.problems]  # type: ignore[arg-type]
    except NothingReadable as exc:
        return [str(p) for p in exc.problems]
