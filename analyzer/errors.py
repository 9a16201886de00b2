"""Errors and read problems: data with a location, never a bare traceback."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """Something in an input that could not be read, with where it is.

    `where` is a human location inside the file ("line 12 column 5", "byte 4096",
    "log_history[41]") or empty when the whole file is concerned.
    """

    path: str
    message: str
    where: str = ""
    level: str = "error"  # "error": data was lost; "note": skipped on purpose

    def __str__(self) -> str:
        loc = f"{self.path}:{self.where}" if self.where else self.path
        return f"{loc}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "where": self.where, "message": self.message, "level": self.level}


class InputError(Exception):
    """An input file could not be read; carries the Problem that says where and why."""

    def __init__(self, path: str, message: str, where: str = "") -> None:
        self.problem = Problem(path=path, message=message, where=where)
        super().__init__(str(self.problem))


class NotARun(InputError):
    """A file a reader accepted holds nothing of a training run (text with no metric and no event): said as
    a note, not counted as read."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(path, message)
        self.problem = Problem(path=path, message=message, level="note")


class NothingReadable(Exception):
    """No file under the given path could be read (CLI exit code 3)."""

    def __init__(self, path: str, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: nothing readable")


class ContractError(AssertionError):
    """A parser produced frames that break the Run contract: a bug in the analyzer, not in the input."""


class WandbFetchError(Exception):
    """The W&B API could not be reached or refused the request (network, login, unknown run)."""
