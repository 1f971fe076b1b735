"""The built-in test clip: a synthetic "AI avatar on a green screen", with ground truth.

It is meant to be a fair test of a keyer, not a flat screen with a cut-out:

- the screen is a real-looking dark green (RGB ≈ (0.02, 0.50, 0.04), not the
  nominal #008000), lit unevenly (a gradient and a vignette, about ±15–20 %),
  with a soft cast shadow of the figure on it (65 % as bright, soft-edged,
  offset down and to the right);
- the figure sways and bobs; it has a skin-toned head, a dark navy shirt with
  a white collar, a LIME tie (hue ≈ 82°), a TEAL badge (hue ≈ 175°) and
  NEAR-BLACK hair whose outer edge is a band of fine strands with fractional
  coverage plus individual flyaway strands thinner than a pixel; every other
  outline is anti-aliased, and moving edges carry a mild motion blur;
- subject pixels near the silhouette receive green spill (screen light that
  fades with the distance inward from the edge), so despill matters;
- seeded Gaussian sensor noise (σ = 1.5/255): each frame reads a randomly
  offset window (and sign) of one seeded noise field a little larger than the
  frame, which costs nothing per frame; frames above 4K draw fresh noise.

Per frame the truth is ``alpha`` (coverage), ``foreground`` (the clean
subject colour, without spill; 0 where alpha is 0) and ``observed``:
``clip(alpha·(foreground + spill) + (1 − alpha)·screen + noise, 0, 1)``, where
``screen`` is the lit, shadowed screen and ``spill`` is
``SPILL_STRENGTH · exp(−d / SPILL_FALLOFF) ·`` the unshadowed screen light,
``d`` the distance inward from the silhouette (0 on the hair's strands).
Everything is a function of (spec, frame index): render any frame, in any order.
Sizes are in design units (pixels of a 1280×720 frame) scaled to the frame.

``write_sample`` encodes the observed frames to H.264 (yuv420p, BT.709
limited range, tagged) with a tone track for checking audio sync.

The flow: ``scene`` (the look and the spec), ``geometry`` (shapes, light, noise), ``figure``
(the avatar painted into a box), ``truth`` (a whole frame and its truth), ``encode`` (the
clip as a file).
"""

from .encode import AUDIO_RATE, audio_samples, bt709_frame, rgb_to_yuv420p, write_sample
from .geometry import frame_noise, lit_screen
from .scene import (
    COLLAR_RGB,
    HAIR_RGB,
    LIME_RGB,
    NOISE_SIGMA,
    SCREEN_RGB,
    SHIRT_RGB,
    SKIN_RGB,
    SPILL_STRENGTH,
    TEAL_RGB,
    SampleSpec,
    TruthFrame,
)
from .truth import render_truth, truth_frames

__all__ = [
    "AUDIO_RATE",
    "COLLAR_RGB",
    "HAIR_RGB",
    "LIME_RGB",
    "NOISE_SIGMA",
    "SCREEN_RGB",
    "SHIRT_RGB",
    "SKIN_RGB",
    "SPILL_STRENGTH",
    "TEAL_RGB",
    "SampleSpec",
    "TruthFrame",
    "audio_samples",
    "bt709_frame",
    "frame_noise",
    "lit_screen",
    "render_truth",
    "rgb_to_yuv420p",
    "truth_frames",
    "write_sample",
]
