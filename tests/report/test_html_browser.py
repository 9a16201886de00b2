"""The report rendered to HTML by a standard markdown renderer, opened in a real headless Chromium.

Chromium loads the page, and a probe script added to a copy of it reports what the browser really shows:
every plot image decoded at its full width, the tables laid out, the folded sections present. A screenshot
of the page must show the plots' pixels. Skipped without Chromium unless ANALYZER_REQUIRE_BROWSER is set
(CI sets it after installing Debian's chromium package).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO, sample

_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--allow-file-access-from-files",
]
_PROBE = """<script>window.addEventListener("load", () => {
  const b = document.body;
  b.setAttribute("data-images", JSON.stringify([...document.images].map(i => i.complete ? i.naturalWidth : -1)));
  b.setAttribute("data-tables", document.querySelectorAll("table").length);
  b.setAttribute("data-details", document.querySelectorAll("details").length);
  b.setAttribute("data-h1", document.querySelector("h1").textContent);
});</script></body>"""


def chromium() -> str:
    found = os.environ.get("ANALYZER_CHROMIUM") or next(
        (p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None
    )
    if not found:
        if os.environ.get("ANALYZER_REQUIRE_BROWSER"):
            pytest.fail("ANALYZER_REQUIRE_BROWSER is set but no chromium was found")
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    return found


def browse(browser: str, tmp_path: Path, *args: str) -> str:
    profile = tmp_path / "profile"
    done = subprocess.run(
        [browser, *_FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("html") / "report.html"
    done = subprocess.run(
        [sys.executable, "-m", "analyzer", str(sample("gpu_fp16_overflow")), "-o", str(out), "-q"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert done.returncode == 1 and out.exists(), done.stderr  # 1: the run has findings
    assert not out.with_name("report_files").exists()  # one file: the plots are embedded
    return out


def test_chromium_shows_the_plots_and_tables(page: Path, tmp_path: Path) -> None:
    browser = chromium()
    probe = page.with_name("probe.html")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", _PROBE), encoding="utf-8")
    dom = browse(browser, tmp_path, "--virtual-time-budget=10000", "--dump-dom", probe.as_uri())
    body = re.search(r"<body([^>]*)>", dom)
    assert body, dom[:500]
    attrs = dict(re.findall(r'data-(\w+)="([^"]*)"', body.group(1).replace("&quot;", '"')))
    assert json.loads(attrs["images"]) == [800, 800, 800, 800]  # loss, grad_norm, learning rate, memory
    assert int(attrs["tables"]) >= 5 and int(attrs["details"]) >= 4
    assert attrs["h1"] == "Training run post-mortem: gpu_fp16_overflow"


def test_chromium_screenshot_has_the_plots_pixels(page: Path, tmp_path: Path) -> None:
    import matplotlib.image

    browser = chromium()
    shot = tmp_path / "shot.png"
    browse(browser, tmp_path, "--window-size=1100,1800", "--hide-scrollbars", f"--screenshot={shot}", page.as_uri())
    pixels = matplotlib.image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (1800, 1100)
    blue = np.abs(pixels - np.array([0x1F, 0x77, 0xB4]) / 255).max(axis=2) < 0.05  # matplotlib's first line colour
    red = np.abs(pixels - np.array([0xDC, 0x14, 0x3C]) / 255).max(axis=2) < 0.05  # the onset line (crimson)
    assert blue.sum() > 500 and red.sum() > 100, (blue.sum(), red.sum())  # no image: both 0


_TRAP = """<head><script>window.__ran = [];
["alert", "confirm", "prompt"].forEach(n => { window[n] = (...a) => window.__ran.push(n + ":" + a.join()); });
window.addEventListener("load", () => setTimeout(() => {
  document.body.setAttribute("data-ran", JSON.stringify(window.__ran));
  document.body.setAttribute("data-scripts", document.scripts.length);
  document.body.setAttribute("data-links", document.links.length);
}, 500));</script>"""


def test_chromium_runs_no_script_from_a_hostile_log(tmp_path: Path) -> None:
    """The hostile log of test_hostile.py, opened as a page: nothing it carries runs, even with a trap that
    records every alert/confirm/prompt call (the only script on the page is the trap itself)."""
    from tests.report.test_hostile import hostile_run

    browser = chromium()
    out = tmp_path / "report.html"
    done = subprocess.run(
        [sys.executable, "-m", "analyzer", str(hostile_run(tmp_path / "run")), "-o", str(out), "-q"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert done.returncode == 1 and out.exists(), done.stderr
    trapped = tmp_path / "trapped.html"
    trapped.write_text(out.read_text(encoding="utf-8").replace("<head>", _TRAP, 1), encoding="utf-8")
    dom = browse(browser, tmp_path, "--virtual-time-budget=10000", "--dump-dom", trapped.as_uri())
    body = re.search(r"<body([^>]*)>", dom)
    assert body, dom[:500]
    attrs = dict(re.findall(r'data-(\w+)="([^"]*)"', body.group(1).replace("&quot;", '"')))
    assert json.loads(attrs["ran"]) == []
    assert attrs["scripts"] == "1" and attrs["links"] == "0"
    assert "RuntimeError: boom" in dom  # the message is there, as text
