"""6c. The still hold: a matte that stands still where the picture does.

A still subject's matte still moves from frame to frame: camera noise and the codec's
re-quantisation move a partial pixel's colour by a level or two, and the clip ramps and the
colour model turn that into tens of levels of alpha, so a soft edge shimmers. A pixel keeps
the matte it showed while no matte within HOLD_REACH of it has moved further than
``still_hold`` from what that pixel shows. Anything that moves the subject moves some matte
around it by more (an edge sweeps whole levels across its neighbours), so a moving edge takes
this frame's matte at once: no lag and no ghost. The matte shown is never further than
``still_hold`` from this frame's own (and rounded to levels, as the output is). Plain screen
(0) and plain subject (what refinement makes of 1) pass through, so that the hold never changes a pixel that is wholly one or the
other, and a pixel that flickers between plain and almost plain stays plain.

The state is the matte each pixel shows, in uint8 levels: the output rounds a held pixel to
its level anyway, and the state then costs a byte a pixel to write each frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...core.params import KeyerParams
from .common import F32, levels
from .windows import window_reduce

# Pixels around a pixel whose change of matte lets it change too. Measured (a clip that
# slides a subject across the frame, a still camera clip): 1 left stale partial pixels just
# ahead of a slow edge; 2 and 3 hold the still clip alike (frame-to-frame change ÷4), and 3
# follows the slide a little closer, but a reach beyond the spill gate's default (2) widens
# every band's halo, and with it the incremental path's reach by a block (a third of the
# avatar clips' kept blocks lost).
HOLD_REACH = 2


@dataclass
class HoldState:
    """One call's hold: the previous frame's shown matte in levels (H×W uint8; None: there
    is none), and this frame's, out."""

    prev: np.ndarray | None = None
    next: np.ndarray | None = None


def hold_reach(p: KeyerParams) -> int:
    """Pixels of context the hold reads around a pixel: HOLD_REACH, or 0 with the hold off."""
    return HOLD_REACH if p.still_hold > 0 else 0


def hold_matte(
    alpha: np.ndarray, kept: np.ndarray | None, one: float, p: KeyerParams
) -> tuple[np.ndarray, np.ndarray]:
    """(The matte to show, its levels: the state for the next frame): ``kept``'s where
    nothing within HOLD_REACH moved further than ``still_hold``, this frame's ``alpha``
    rounded to levels elsewhere (everywhere without a previous frame); ``alpha`` itself with
    the hold off. ``kept``: the previous frame's levels of the same pixels; ``one``: a plain
    subject's matte (refine.refined_one).

    Rounded, as a held pixel shows its kept level: a pixel shows the same matte on a second
    frame of the same picture whether it is held then or not, so that a block the
    incremental path keeps is the block it would key.
    """
    if p.still_hold <= 0:
        return alpha, levels(alpha)
    plain = (alpha <= F32(0.0)) | (alpha >= F32(one))
    taken = levels(alpha)
    if kept is not None:
        held = kept.astype(F32) * F32(1.0 / 255.0)
        moved = window_reduce(np.abs(alpha - held), HOLD_REACH, np.maximum) > F32(p.still_hold)
        taken = np.where(moved | plain, taken, kept)
    shown: np.ndarray = np.where(plain, alpha, taken.astype(F32) * F32(1.0 / 255.0))
    return shown.astype(F32, copy=False), taken
