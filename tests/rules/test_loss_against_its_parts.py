"""A series named `loss` that climbs while the named parts of a loss fall is not a diverging loss: a total
of those parts cannot have climbed, so the loop stored some other quantity under that name (RTM3D's
reference log prints its box score as `loss`, new log 304). A loss that climbs with its parts is still a
divergence."""

from __future__ import annotations

from pathlib import Path

from analyzer.api import analyze

LINE = "Iter {i}: loss={0:.4f} cls_loss={1:.4f} reg_loss={2:.4f} lr=0.001\n"
ERRORS = "INFO: Epoch {i}: loss={0:.4f}, RMSE_E_per_atom={1:.1f} meV, RMSE_F={2:.1f} meV / A\n"


def modes(tmp_path: Path, rows: list[tuple[float, float, float]], line: str = LINE, every: int = 10) -> set[str]:
    """The failure modes found in a log of one `line` per row (the loss, then two other fields)."""
    log = tmp_path / "train.log"
    log.write_text("".join(line.format(*row, i=every * i) for i, row in enumerate(rows)))
    return {f.failure_mode for f in analyze(log).findings}


def test_a_loss_that_climbs_while_its_parts_fall_is_no_divergence(tmp_path: Path) -> None:
    rows = [(0.05, 2.1, 9.5), (0.13, 1.6, 6.2), (0.14, 1.4, 5.1), (0.12, 1.3, 4.9), (0.11, 1.2, 4.6)]
    assert "divergence" not in modes(tmp_path, rows)


def test_a_loss_that_climbs_with_its_parts_is_a_divergence(tmp_path: Path) -> None:
    rows = [(1.1, 0.5, 0.6), (3.2, 1.5, 1.7), (3.9, 1.9, 2.0), (4.1, 2.0, 2.1), (4.4, 2.1, 2.3)]
    assert "divergence" in modes(tmp_path, rows)


def test_a_loss_that_climbs_while_the_errors_beside_it_end_lower_is_no_divergence(tmp_path: Path) -> None:
    # MACE re-weights its loss terms when its SWA stage starts: the loss jumps 0.0018 -> 7.8 and stays, while the
    # energy and force errors printed beside it end below where they were
    early = [(0.05 - 0.003 * i, 9.0 - 0.2 * i, 300.0 - i) for i in range(12)]
    late = [(7.8 - 0.1 * i, 8.0 - 0.3 * i, 290.0 - 2 * i) for i in range(12)]
    assert "divergence" not in modes(tmp_path, early + late, ERRORS, every=2)
    worse = [(7.8 + 0.1 * i, 12.0 + 0.3 * i, 300.0 + 2 * i) for i in range(12)]  # the errors climb with it
    assert "divergence" in modes(tmp_path, early + worse, ERRORS, every=2)
