"""Archives are read member by member into a private folder in memory: hostile names refuse the archive."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from analyzer.triage.archive import ArchiveError, opened
from tests.conftest import SAMPLES
from tests.triage.conftest import tar_gz

STATE = (SAMPLES / "hf_healthy" / "trainer_state.json").read_bytes()


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "run/../../x", "C:/Windows/x", "..\\\\x"])
def test_hostile_member_names_refuse_the_archive(tmp_path: Path, name: str) -> None:
    for path in (tmp_path / "a.zip", tmp_path / "a.tar.gz"):
        if path.suffix == ".zip":
            with zipfile.ZipFile(path, "w") as zf:
                zf.writestr("run/trainer_state.json", STATE)
                zf.writestr(name, b"root:x:0:0\n")
        else:
            tar_gz(path, {"run/trainer_state.json": STATE, name: b"root:x:0:0\n"})
        with pytest.raises(ArchiveError, match="hostile member path"), opened(path):
            pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tar.gz", "a.zip"]  # nothing written beside


def test_links_are_never_created_and_the_copy_is_removed(tmp_path: Path) -> None:
    path = tmp_path / "links.tar"
    with tarfile.open(path, "w") as tf:
        info = tarfile.TarInfo("run/trainer_state.json")
        info.size = len(STATE)
        tf.addfile(info, io.BytesIO(STATE))
        link = tarfile.TarInfo("run/escape")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(link)
    with opened(path) as folder:
        assert (folder / "run" / "trainer_state.json").read_bytes() == STATE
        assert not (folder / "run" / "escape").exists() and not (folder / "run" / "escape").is_symlink()
        kept = folder
    assert not kept.exists()


def test_a_corrupt_or_oversized_archive_is_an_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"\x1f\x8b" + b"not gzip at all" * 10)
    with pytest.raises(ArchiveError, match="corrupt or unreadable"), opened(broken):
        pass
    cut = tar_gz(tmp_path / "cut.tar.gz", {"run/trainer_state.json": STATE * 20})
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])  # cut off mid-stream
    with pytest.raises(ArchiveError, match="corrupt or unreadable"), opened(cut):
        pass
    big = tar_gz(tmp_path / "big.tar.gz", {"run/trainer_state.json": STATE})
    with pytest.raises(ArchiveError, match="expands to more than"), opened(big, limit=100):
        pass
