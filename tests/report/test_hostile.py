"""A log written to attack whoever opens the report: nothing of it may act in any output.

The run folder holds a console log whose exception message carries an image with an event handler,
a markdown link, a `</details>` that would break the layout, a script, a GitHub mention and issue
reference, a bare URL and `www.` address (GitHub autolinks both), and terminal escapes (an OSC 8
hyperlink, clear-screen, colour); a file whose name is HTML; a config.json whose values are HTML and a
markdown link. Every output is checked: the terminal, stderr, the markdown report, the HTML page
(markup and, in tests/report/test_html_browser.py, a real browser) and the JSON.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from tests.conftest import REPO

EVIL = (
    "boom <img src=x onerror=alert(1)> [click](http://evil.example) </details><script>alert(2)</script> "
    "![pixel](http://evil.example/p.png) @octocat #1 www.evil.example "
    "\x1b]8;;http://evil.example\x07link\x1b]8;;\x07 \x1b[2J\x1b[31mred\x07\u202eesrever"
)


def hostile_run(folder: Path) -> Path:
    """A run folder with the hostile texts (also used by the browser test)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        f"{{'loss': {2.5 - i * 0.05:.4f}, 'grad_norm': 1.0, 'learning_rate': 5e-05, 'epoch': {i / 20:.2f}}}"
        for i in range(1, 21)
    ]
    lines += [
        "Traceback (most recent call last):",
        '  File "train.py", line 10, in <module>',
        "    trainer.train()",
        f"RuntimeError: {EVIL}",
    ]
    (folder / "train.log").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "<img src=x onerror=alert(3)>.log").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "config.json").write_text(
        json.dumps(
            {
                "model_type": "<script>alert(5)</script>llama",
                "architectures": ["[x](http://evil.example)"],
                "torch_dtype": "float16",
            }
        ),
        encoding="utf-8",
    )
    return folder


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "analyzer", *args], capture_output=True, text=True, cwd=REPO, timeout=300
    )


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("hostile")
    run = hostile_run(base / "run")
    out = base / "out"
    out.mkdir()
    terminal = cli(str(run), "--no-color")
    markdown = cli(str(run), "-o", str(out / "report.md"), "-q")
    html = cli(str(run), "-o", str(out / "report.html"), "-q")
    as_json = cli(str(run), "--format", "json")
    for done in (terminal, markdown, html, as_json):
        assert done.returncode == 1, done.stderr  # the traceback is a finding
        assert "Traceback" not in done.stderr
    return {
        "terminal": terminal.stdout,
        "stderr": terminal.stderr + markdown.stderr,
        "markdown": (out / "report.md").read_text(encoding="utf-8"),
        "html": (out / "report.html").read_text(encoding="utf-8"),
        "json": as_json.stdout,
    }


def test_the_hostile_message_is_reported(outputs: dict[str, str]) -> None:
    # The finding still quotes the exception: escaped, not dropped.
    assert "RuntimeError: boom" in outputs["terminal"]
    assert "RuntimeError: boom" in outputs["markdown"]


def test_terminal_gets_no_escape_or_control_character(outputs: dict[str, str]) -> None:
    for name in ("terminal", "stderr"):
        bad = re.findall(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", outputs[name])
        assert not bad, (name, bad)


def test_markdown_renders_nothing_executable_or_linkable(outputs: dict[str, str]) -> None:
    text = outputs["markdown"]
    # Rendered as GitHub would (CommonMark + tables, raw HTML allowed): only the report's own tags.
    rendered = MarkdownIt("commonmark", {"html": True}).enable("table").render(text)
    assert "<script" not in rendered and not re.search(r"<[^>]+\son\w+\s*=", rendered)
    assert len(re.findall(r"<img\b", rendered)) == len(re.findall(r'<img src="report_files/', rendered))  # plots
    assert "<a " not in rendered
    assert rendered.count("<details>") == rendered.count("</details>")
    assert text.count("<details>") == text.count("</details>")
    # GitHub's own autolinks and references, which CommonMark lacks: each trigger is broken by a backslash.
    assert not re.search(r"(?<!\\)://evil", text) and not re.search(r"www(?!\\)\.evil", text)
    assert "\\@octocat" in text and "\\#1" in text and not re.search(r"(?<![\\`])@octocat", text)


def test_html_page_has_no_script_handler_or_foreign_link(outputs: dict[str, str]) -> None:
    page = outputs["html"]
    body = page.split("<body>", 1)[1]
    assert "<script" not in page.lower()
    assert not re.search(r"<[^>]+\son\w+\s*=", body)  # no event-handler attribute on any tag
    assert not re.search(r"<a\s", body)
    # Only the report's own plots, embedded as PNG data (one file to attach).
    assert re.findall(r"<img\b[^>]*>", body) == re.findall(r'<img src="data:image/png;base64,[^"]+" alt="[^"]*">', body)
    assert body.count("<details>") == body.count("</details>")


def test_json_keeps_the_text_as_data(outputs: dict[str, str]) -> None:
    doc = json.loads(outputs["json"])
    assert any("RuntimeError: boom" in f["message"] for f in doc["findings"])
    assert not re.search(r"[\x00-\x1f\x7f-\x9f]", outputs["json"].replace("\n", ""))
