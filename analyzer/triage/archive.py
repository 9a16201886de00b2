"""Archives of run folders (.tar.gz, .tgz, .tar, .zip): checked member by member, copied into memory only."""

from __future__ import annotations

import errno
import os
import shutil
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO

MAX_EXPANDED = 2 << 30  # an archive that expands past this is refused (a decompression bomb)


class ArchiveError(Exception):
    """An archive that is not read, and why (a hostile member path, corruption, too large)."""


def _safe_name(name: str) -> PurePosixPath:
    """The member's relative path, or ArchiveError when it would land outside the folder it is read into."""
    text = name.replace("\\", "/")
    path = PurePosixPath(text)
    if not text or path.is_absolute() or ".." in path.parts or (len(text) > 1 and text[1] == ":") or "\0" in text:
        raise ArchiveError(f"hostile member path {name!r} (absolute or leaving the archive): archive not read")
    return path


def _members(path: Path) -> Iterator[tuple[PurePosixPath, int, IO[bytes] | None]]:
    """(relative path, size, stream) of each regular member, after every name has been checked."""
    if path.name.lower().endswith(".zip"):
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            for info in infos:
                _safe_name(info.filename)
            for info in infos:
                if not info.is_dir():
                    with zf.open(info) as stream:
                        yield _safe_name(info.filename), info.file_size, stream
        return
    with tarfile.open(path, "r:*") as tf:
        members = tf.getmembers()
        for member in members:
            _safe_name(member.name)
        for member in members:
            if member.isfile():  # links, devices and FIFOs are never created: a link could point anywhere
                yield _safe_name(member.name), member.size, tf.extractfile(member)


def _scratch() -> str:
    """A RAM-backed folder when the system has one (/dev/shm), so the copy never touches a disk."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else tempfile.gettempdir()


@contextmanager
def opened(path: Path, limit: int = MAX_EXPANDED) -> Iterator[Path]:
    """The archive's members copied into a private in-memory folder, removed on exit.

    Every member name is checked before anything is copied: one absolute or `..` path refuses the whole
    archive. Only regular files are copied, under the checked name; the total is capped at `limit` bytes.
    The archive itself is only read."""
    folder = Path(tempfile.mkdtemp(prefix="analyze-triage-", dir=_scratch()))
    try:
        total = 0
        try:
            for name, size, stream in _members(path):
                total += size
                if total > limit:
                    raise ArchiveError(f"expands to more than {limit >> 20} MiB: archive not read")
                dest = folder.joinpath(*name.parts)
                if not dest.resolve().is_relative_to(folder.resolve()):
                    raise ArchiveError(f"hostile member path {str(name)!r}: archive not read")
                dest.parent.mkdir(parents=True, exist_ok=True)
                if stream is not None:
                    with dest.open("wb") as out:
                        shutil.copyfileobj(stream, out)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise ArchiveError(f"no room to read the archive into {_scratch()}: {exc.strerror}") from None
            raise ArchiveError(f"corrupt or unreadable archive: {type(exc).__name__}: {exc}") from None
        except (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
            raise ArchiveError(f"corrupt or unreadable archive: {type(exc).__name__}: {exc}") from None
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
