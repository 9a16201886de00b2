"""torchrun's elastic agent prints its SIGTERMs to the other ranks (warnings) before the line saying which rank died
and how (new log 4604: `failed (exitcode: -9)`, a SIGKILL): the crash finding leads with the most severe event, the
cause, and counts how often that one was seen, not the launcher's clean-up."""

from __future__ import annotations

from pathlib import Path

from analyzer import analyze

AGENT = "WARNING:torch.distributed.elastic.multiprocessing.api"
ROOT = (
    "ERROR:torch.distributed.elastic.multiprocessing.api:failed (exitcode: -9) local_rank: 4 (pid: 208585) of "
    "binary: /usr/bin/python3.10\n"
)


def test_the_crash_finding_leads_with_the_rank_that_was_killed(tmp_path: Path) -> None:
    cleanup = "".join(f"{AGENT}:Sending process {208581 + k} closing signal SIGTERM\n" for k in range(5))
    (tmp_path / "train.log").write_text("Setting ds_accelerator to cuda (auto detect)\n" + cleanup + ROOT)
    crash = next(f for f in analyze(tmp_path).findings if f.failure_mode == "crash")
    assert "SIGKILL" in crash.message and "SIGTERM" not in crash.message
    assert "times" not in crash.message  # seen once; the five SIGTERMs are not counted with it
