"""Checks on adversarial training (GANs): a generator and a discriminator (critic) trained against each other.

Their losses are no objective that falls: each player's loss is the other's gain, and a healthy run keeps
both near an equilibrium. The failure a log shows plainly is the discriminator winning outright: its loss at 0
(it tells every real sample from every generated one with certainty), which leaves the generator a vanishing
gradient, so it stops improving whatever its own loss prints.
"""

from __future__ import annotations

import re

import numpy as np

from analyzer.model import Run
from analyzer.rules.checks import Detection, check, cite_point, finite, fmt

# The two players' series as loops name them: `D_real`/`D_fake` (pix2pix), `loss_D`/`errD`/`d_loss`, `dis_loss`,
# `disc_loss`; `G_GAN`, `loss_G`, `errG`, `g_loss`, `gen_loss`.
_D = re.compile(
    r"^(?:(?:loss|err)_?d(?:_\w+)?|d(?:is|isc|iscriminator)?_(?:loss|real|fake|\w*loss)|dis(?:c|criminator)?)$"
)
_G = re.compile(r"^(?:(?:loss|err)_?g(?:_\w+)?|g(?:en|enerator)?_(?:loss|gan|adv|\w*loss)|gen(?:erator)?)$")


def players(run: Run) -> tuple[list[str], list[str]]:
    """The train series of the discriminator and of the generator (both or the run is no GAN)."""
    names = [m for s, m in run.series_names() if s == "train"]
    return [m for m in names if _D.match(m.lower())], [m for m in names if _G.match(m.lower())]


@check("discriminator_wins")
def discriminator_wins(
    run: Run, *, floor: float = 0.01, most: float = 0.5, share: float = 0.25, min_points: int = 3
) -> Detection | None:
    """Every discriminator loss of a GAN (a generator's loss logged beside it) ends at about 0: under `floor`
    (a cross-entropy of 0.01 is a confidence of 99% on every sample) at `most` of its points (half: its median)
    from some point to the end, over the last `share` of them and `min_points` at least, after it had been above.
    A critic's loss that goes negative (WGAN) measures a distance, not a confidence, and is left alone; a loss at
    0 from its first point (a hinge loss whose margins hold) has lost nothing."""
    names, generators = players(run)
    if not names or not generators:
        return None
    onset: int | None = None
    said = []
    for name in names:
        loss = finite(run.series(name))
        values = loss.to_numpy()
        if len(values) < 2 * min_points or bool((values < 0).any()):
            return None
        under = (values < floor)[::-1]
        suffix = (np.cumsum(under) / np.arange(1, len(values) + 1))[::-1]  # the share under the floor from i on
        long_enough = np.arange(len(values), 0, -1) >= max(min_points, share * len(values))
        starts = np.flatnonzero((suffix >= most) & long_enough & (values < floor))
        if not len(starts) or starts[0] == 0 or bool((values[: starts[0]] < floor).all()):
            return None
        start = int(starts[0])
        step = int(loss.index[start])
        onset = step if onset is None else max(onset, step)
        said.append(cite_point(run, "train", name, step, float(values[start])))
    generator = finite(run.series(generators[0]))
    before, after = generator[generator.index < onset], generator[generator.index >= onset]
    rise = (
        f"; {generators[0]} went from {fmt(float(before.median()))} to {fmt(float(after.median()))} (medians)"
        if len(before) and len(after)
        else ""
    )
    return Detection(
        onset,
        f"the discriminator's loss ({', '.join(names)}) fell under {fmt(floor)} at step {onset} and stayed there to "
        f"the end (its median under it){rise}: it tells real from generated samples with certainty, "
        "and the generator gets no gradient",
        {"discriminator": names, "generator": generators[0], "floor": fmt(floor), "from": said},
    )
