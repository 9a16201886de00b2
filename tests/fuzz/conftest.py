"""Hypothesis profiles for the fuzz tests, and a per-reader count of the inputs tried.

`ci` (the default) keeps the whole folder to well under a minute on two cores, with a fixed seed so that a
CI run is reproducible; `long` is the fuzzing pass (`HYPOTHESIS_PROFILE=long`, see CONTRIBUTING.md), with
`FUZZ_EXAMPLES` examples per test (default 2000) and new random inputs each run.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from tests.fuzz.harness import TRIED

_SLOW_OK = [
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.filter_too_much,
    HealthCheck.large_base_example,
]
settings.register_profile(
    "ci", max_examples=12, deadline=None, derandomize=True, print_blob=True, suppress_health_check=_SLOW_OK
)
settings.register_profile(
    "long",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "2000")),
    deadline=None,
    print_blob=True,
    suppress_health_check=_SLOW_OK,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not TRIED:
        return
    terminalreporter.section("fuzz: inputs analyzed per reader")
    for reader in sorted({r for r, _ in TRIED}):
        outcomes = {o: n for (r, o), n in TRIED.items() if r == reader}
        detail = ", ".join(f"{o} {n}" for o, n in sorted(outcomes.items()))
        terminalreporter.write_line(f"{reader:20s} {sum(outcomes.values()):7d}  ({detail})")
