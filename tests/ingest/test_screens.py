"""The literal screen in front of the event and fact signatures never hides a line a signature matches."""

from __future__ import annotations

import re
from pathlib import Path

from analyzer.ingest.grammars import Screen, active_grammars, required_literals
from tests.conftest import CASES

SAMPLES = Path(__file__).parents[2] / "sample_logs"


def test_required_literals_of_common_shapes() -> None:
    assert required_literals(re.compile(r"\btorch(?:==|\s+)(?P<v>\d+\.\d+)")) == ("torch",)
    assert required_literals(re.compile(r"(?:exit ?code|returncode)\s*[:=]?\s*(?:-9|137)\b")) == (
        "exit",
        "returncode",
    )
    assert required_literals(re.compile(r"(?i:NaN detected)")) == ("nan detected",)
    assert required_literals(re.compile(r"\d+ [a-z]+")) == ()  # nothing every match must contain
    assert required_literals(re.compile(r"(?:ab)?cd")) == ()  # an optional group is not required


def test_a_pattern_without_literals_is_tried_on_every_line() -> None:
    screen = Screen.build([("oom",), ()])
    assert list(screen.candidates("nothing here")) == [1]
    assert list(screen.candidates("an oom line")) == [0, 1]


def test_the_screen_keeps_every_line_a_signature_matches() -> None:
    grammars = active_grammars()
    events, facts = grammars.screens()
    files = sorted(SAMPLES.glob("*/*.out")) + (sorted(CASES.glob("*/stdout.log")) if CASES.is_dir() else [])
    checked = 0
    for path in files:
        for line in path.read_text(errors="replace").splitlines():
            low = line.lower()
            for screen, entries in ((events, grammars.events), (facts, grammars.meta)):
                chosen = set(screen.candidates(low))
                for i, entry in enumerate(entries):
                    if entry.pattern.search(line):
                        checked += 1
                        assert i in chosen, (path.name, line[:120], entry.pattern.pattern[:80])
    assert checked > 50
