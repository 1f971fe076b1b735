"""Ground truth from real foregrounds: RGBA cutouts composited on the screens users have.

The built-in sample is ours, and defaults tuned on it could fail on anything else. These
clips start from photographs of people and an animal cut out with their real alpha
(benchmarks/media/, see SOURCES.md there: rembg's example outputs, MIT), plus synthetic
strands of known sub-pixel coverage, and composite them, exactly and with known truth,
on four screens. A cut-out's rims hold the room it was photographed in; the truth takes the
subject's own colour there (footage_subject.subject), as a green-screen shoot would see it.
The screens:

- ``avatar``: flat #008000, as an AI avatar service renders (a digital composite);
- ``studio``: a studio green at hue 146°, HSL saturation 0.53 (near chroma-key #00B140);
- ``muslin``: a dim, yellowish green muslin at hue 90°, saturation 0.25;
- ``blue``: a blue screen at hue 222° (keyed with ``screen="blue"``, as a user says it);
- ``pale muslin`` (issue 23's cases only, EXTRA_SCREENS): a pale, wrinkled muslin at hue 90°,
  saturation 0.20, lightness 0.55 (the shirt's shadow, SHADOW_RGB, is at lightness 0.54).

Each screen comes ``clean`` (evenly lit, no spill, no sensor noise: a digital composite) or
``camera`` (uneven light with a hue drift, screen light spilled onto the subject near its
edges, sensor noise). Every clip then goes through libx264 4:2:0 like the quality clips
(crf 23), so the keyer sees what a real stream gives it; one of issue 23's cases is encoded
lossless (crf 0), as a camera original keeps the sensor's grain. RGB becomes 4:2:0 through our
encoder (H.264's chroma siting), or, with ``chroma="center"``, through FFmpeg's swscale
(benchmarks.siting).

The subject drifts by a fraction of a pixel a frame, resampled premultiplied: the truth of
every frame is exact, and a static matte cannot hide behind a static scene. Issue 23's cases
(ISSUE23_SPECS) add a subject that does not move at all (``still``: flicker is then the
matte's own), one that slides SLIDE_PX a frame (``slide``: the lag of a moving edge), and two
looks of a real cutout: ``pale`` (its clothing made a shadowed white, pale_look) and
``hair spill`` (screen light spilled onto its partial pixels, HAIR_SPILL).

    python -m benchmarks.footage --out /tmp/chromakey-footage     # encode the clips
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.footage_subject import (  # noqa: E402
    F32,
    _place,
    cutout,
    straight,
    strands,
)
from chromakey.core.color import hsl_to_rgb  # noqa: E402
from chromakey.sample import TruthFrame, bt709_frame, rgb_to_yuv420p  # noqa: E402

CUTOUTS = ("girl-1", "girl-2", "girl-3", "animal-1")
CRF = 23
# In every clip's file name: raised whenever what a clip shows changes, so that a work folder's
# clips of an older truth are encoded again, not scored against the new one. 2: the cut-outs'
# colour read as premultiplied (footage_subject.read_cutout); 3: the photograph's room unmixed
# from their rims (footage_subject.subject).
TRUTH_VERSION = 3


@dataclass(frozen=True)
class Screen:
    """A backdrop in HSL; ``params`` is what a user tells the keyer about it (nothing for green)."""

    name: str
    hue: float
    sat: float
    light: float
    params: tuple[tuple[str, object], ...] = ()
    # Depth of the fabric's creases, as a share of the light (camera only): pale_muslin's folds.
    wrinkles: float = 0.0

    @property
    def rgb(self) -> np.ndarray:
        return hsl_to_rgb(F32(self.hue), F32(self.sat), F32(self.light))


SCREENS = {
    "avatar": Screen("avatar", 120.0, 1.0, 0.25),  # exactly #008000
    "studio": Screen("studio", 146.0, 0.53, 0.40),
    "muslin": Screen("muslin", 90.0, 0.25, 0.36),
    "blue": Screen("blue", 222.0, 0.72, 0.40, (("screen", "blue"),)),
}
# Screens only issue 23's cases use: kept out of SCREENS, whose every entry the calibration's
# tests sweep.
EXTRA_SCREENS = {
    "pale muslin": Screen("pale muslin", 90.0, 0.20, 0.55, wrinkles=0.12),
}


def screen_by_name(name: str) -> Screen:
    return SCREENS[name] if name in SCREENS else EXTRA_SCREENS[name]


@dataclass(frozen=True)
class FootageSpec:
    """One clip: a foreground (a cutout's name, or ``strands``) on a screen, clean or camera."""

    foreground: str
    screen: str
    camera: bool
    width: int = 1280
    height: int = 720
    frames: int = 24
    fps: int = 30
    seed: int = 0
    # The screen moved off its nominal colour: degrees of hue, and a factor on its lightness.
    hue_shift: float = 0.0
    light_scale: float = 1.0
    # How the foreground looks: "" (as photographed), "pale" (pale_look) or "hair spill".
    look: str = ""
    # How it moves: "drift" (sub-pixel drift and bob), "still" (not at all) or "slide"
    # (SLIDE_PX a frame to the right).
    motion: str = "drift"
    # libx264's crf: CRF smooths a camera's grain away as streams do; 0 is lossless, as a
    # camera original or a raw feed keeps it.
    crf: int = CRF
    # How RGB becomes 4:2:0 (YuvSpec.chroma_siting): "left", our encoder's H.264 siting, or
    # "center", FFmpeg's swscale (each chroma sample centred on its 2×2 block), as a file made
    # from an RGB render with ``ffmpeg -pix_fmt yuv420p`` is (benchmarks.siting).
    chroma: str = "left"

    @property
    def name(self) -> str:
        moved = f", hue {self.hue_shift:+g}°, light ×{self.light_scale:g}" if self.moved else ""
        if self.motion != "drift":
            moved += f", {self.motion}"
        if self.crf != CRF:
            moved += ", lossless" if self.crf == 0 else f", crf {self.crf}"
        if self.chroma != "left":
            moved += f", chroma {self.chroma}"
        fg = f"{self.foreground} {self.look}" if self.look else self.foreground
        return f"{fg} on {self.screen} ({'camera' if self.camera else 'clean'}{moved})"

    @property
    def screen_channel(self) -> int:
        """The screen's brightest channel (1 green, 2 blue): whose excess is a screen tint."""
        return int(np.argmax(screen_by_name(self.screen).rgb))

    @property
    def motion_x(self) -> float | None:
        """The direction of the subject's motion along x (+1: right), None when it is still."""
        return None if self.motion == "still" else 1.0

    @property
    def moved(self) -> bool:
        return self.hue_shift != 0.0 or self.light_scale != 1.0

    @property
    def frame_count(self) -> int:
        return self.frames

    @property
    def rate(self) -> Fraction:
        return Fraction(self.fps)


# --- the screen, spill and noise -----------------------------------------------------------------


@lru_cache(maxsize=4)
def screen_image(spec: FootageSpec) -> np.ndarray:
    """The lit screen, H×W×3 (read-only): flat when clean, unevenly lit with a hue drift on camera."""
    s = screen_by_name(spec.screen)
    s = Screen(
        s.name, s.hue + spec.hue_shift, s.sat, s.light * spec.light_scale, s.params, s.wrinkles
    )
    h, w = spec.height, spec.width
    if not spec.camera:
        out = np.broadcast_to(s.rgb, (h, w, 3)).astype(F32)
    else:
        rng = np.random.default_rng([spec.seed, 11])
        xn = ((np.arange(w) + 0.5) / w * 2 - 1)[None, :]
        yn = ((np.arange(h) + 0.5) / h * 2 - 1)[:, None]
        ph = rng.uniform(0, 2 * math.pi, 3)
        light = 1.0 + 0.10 * xn * rng.choice([-1, 1]) + 0.05 * yn - 0.10 * (xn * xn + yn * yn)
        light += 0.04 * np.sin(3.1 * xn + ph[0]) * np.cos(2.3 * yn + ph[1])
        if s.wrinkles:
            light = light * (1 + s.wrinkles * _creases(xn, yn, rng))
        hue = s.hue + 4.0 * np.sin(2.0 * xn - 1.5 * yn + ph[2])
        out = hsl_to_rgb(hue.astype(F32), F32(s.sat), (s.light * light).astype(F32))
    out = np.clip(out, 0.0, 1.0).astype(F32)
    out.flags.writeable = False
    return out


def _creases(xn: np.ndarray, yn: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Hanging fabric's folds, in −1…1: CREASES ridges of random pitch, mostly vertical, each
    |sin| sharpened to a crease (dark and narrow) between broad lit folds."""
    out = np.zeros(np.broadcast_shapes(xn.shape, yn.shape), F32)
    for _ in range(CREASES):
        ang = rng.normal(0.0, 0.35)  # radians from vertical
        freq = rng.uniform(4.0, 14.0)  # half-cycles across the frame's half-width
        phase = rng.uniform(0, 2 * math.pi)
        u = xn * math.cos(ang) + yn * math.sin(ang)
        out += 1 - 2 * np.abs(np.sin(freq * u + phase)) ** 0.5
    return (out / CREASES).astype(F32)


CREASES = 6
SPILL = 0.18  # share of the screen light the subject reflects at its very edge (camera only)
SPILL_REACH = 6  # pixels: the spill fades over this distance into the subject
NOISE = 2.0 / 255  # sensor noise, per channel (camera only)
# The "hair spill" look: a strand or a wisp stands in the screen's light, which it reflects and
# scatters in proportion to how much screen is right around it: k = HAIR_SPILL × (1 − the mean
# α over a (2·HAIR_REACH + 1)² box) on every subject pixel, the larger of that and the
# camera's edge spill. Partial pixels get most (≈ HAIR_SPILL × (1 − α)), the solid hair just
# inside the edge some: the green rim and olive strands of issue 23.
HAIR_SPILL = 0.35
HAIR_REACH = 2
SLIDE_PX = 3.0  # the "slide" motion: pixels a frame to the right


def _box(a: np.ndarray, r: int) -> np.ndarray:
    c = np.cumsum(np.pad(a, r, mode="edge"), axis=0, dtype=np.float64)
    c = np.vstack([np.zeros((1, c.shape[1])), c])
    a = (c[2 * r + 1 :] - c[: -2 * r - 1]) / (2 * r + 1)
    c = np.cumsum(a, axis=1)
    c = np.hstack([np.zeros((c.shape[0], 1)), c])
    return ((c[:, 2 * r + 1 :] - c[:, : -2 * r - 1]) / (2 * r + 1)).astype(F32)


def render_truth(spec: FootageSpec, i: int) -> TruthFrame:
    """Frame ``i``: observed = α·(F + k·S) + (1 − α)·S (+ noise), with its exact truth."""
    w, h = spec.width, spec.height
    if spec.foreground == "strands":
        layer = strands(w, h, spec.seed)
        x, y = 0.35 * i, 0.0
        prem = _place(layer, w, h, x, y)
    else:
        layer = cutout(spec.foreground, w, h, "pale" if spec.look == "pale" else "")
        lh, lw = layer.shape[:2]
        # A slow sub-pixel drift and bob: 0.37 px/frame sideways, ±1.5 px vertically; the
        # cutout's bottom (where the photograph ended) stays below the frame.
        x = 0.5 * (w - lw) + 0.37 * i - 0.37 * spec.frames / 2
        y = h - lh + 3.0 + 1.5 * math.sin(2 * math.pi * i / max(spec.frames, 1))
        if spec.motion == "still":
            x, y = 0.5 * (w - lw), h - lh + 3.0
        elif spec.motion == "slide":
            x, y = 0.5 * (w - lw) + SLIDE_PX * (i - spec.frames / 2), h - lh + 3.0
        prem = _place(layer, w, h, x, y)
    alpha = np.clip(prem[..., 3], 0.0, 1.0)
    fg = straight(prem[..., :3], alpha)
    screen = screen_image(spec)
    spill = np.zeros_like(alpha)
    if spec.camera:
        # Screen light reaches the subject where the screen is near: (1 − local coverage).
        spill = (F32(SPILL) * (1 - _box(alpha, SPILL_REACH)) * (alpha > 0)).astype(F32)
    if spec.look == "hair spill":
        wrap = F32(HAIR_SPILL) * (1 - _box(alpha, HAIR_REACH)) * (alpha > 0)
        spill = np.maximum(spill, wrap).astype(F32)
    a3 = alpha[..., None]
    observed = a3 * (fg + spill[..., None] * screen) + (1 - a3) * screen
    if spec.camera:
        rng = np.random.default_rng([spec.seed, 13, i])
        observed = observed + rng.standard_normal(observed.shape, dtype=F32) * F32(NOISE)
    observed = np.clip(observed, 0.0, 1.0).astype(F32)
    return TruthFrame(i, i / spec.fps, observed, alpha.astype(F32), fg * (a3 > 0), spill)


# --- the clips ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FootageClip:
    path: Path
    spec: FootageSpec

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def motion_x(self) -> float | None:
        return self.spec.motion_x

    @property
    def screen_channel(self) -> int:
        return self.spec.screen_channel

    def truth(self, i: int) -> TruthFrame:
        return render_truth(self.spec, i)


def swscale_yuv420p(rgb: np.ndarray) -> np.ndarray:
    """H×W×3 float RGB → a BT.709 limited-range yuv420p buffer as FFmpeg converts it: 8-bit
    RGB through swscale (PyAV's reformat), chroma centred on each 2×2 block."""
    import av

    rgb8 = (np.clip(rgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    frame = av.VideoFrame.from_ndarray(rgb8, format="rgb24")
    out = frame.reformat(format="yuv420p", dst_colorspace="ITU709", dst_color_range="MPEG")
    result: np.ndarray = out.to_ndarray()
    return result


def encode(path: Path, spec: FootageSpec) -> Path:
    """The observed frames → H.264 yuv420p (BT.709 limited, the spec's crf, its chroma
    siting), under a temporary name."""
    import av

    tmp = path.with_name(f".{path.stem}.partial{path.suffix}")
    with av.open(str(tmp), "w", format="mp4") as container:
        vs = container.add_stream("libx264", rate=spec.rate)
        vs.width, vs.height, vs.pix_fmt = spec.width, spec.height, "yuv420p"
        cc = vs.codec_context
        cc.time_base = 1 / spec.rate
        cc.colorspace = cc.color_range = cc.color_primaries = cc.color_trc = 1
        cc.options = {"preset": "veryfast", "crf": str(spec.crf)}
        convert = swscale_yuv420p if spec.chroma == "center" else rgb_to_yuv420p
        for i in range(spec.frames):
            yuv = convert(render_truth(spec, i).observed)
            container.mux(vs.encode(bt709_frame(yuv, i, spec.rate)))
        container.mux(vs.encode(None))
    os.replace(tmp, path)
    return path


def all_specs(frames: int = 24, width: int = 1280, height: int = 720) -> list[FootageSpec]:
    """Every screen, clean and on camera; the cutouts take turns, and strands go on each screen."""
    specs = []
    k = 0
    for screen in SCREENS:
        for camera in (False, True):
            specs.append(
                FootageSpec(CUTOUTS[k % len(CUTOUTS)], screen, camera, width, height, frames)
            )
            k += 1
        specs.append(FootageSpec("strands", screen, False, width, height, frames))
    return specs + issue23_specs(frames, width, height)


def issue23_specs(frames: int = 24, width: int = 1280, height: int = 720) -> list[FootageSpec]:
    """Issue 23's cases: the pale shadowed shirt on a pale muslin, hair with spill on a studio
    green, a still subject (flicker), the presenter on #008000 and the same sliding (lag), and
    a camera's grain that no codec smoothed (lossless) on a muslin."""
    return [
        FootageSpec("girl-3", "pale muslin", True, width, height, frames, look="pale"),
        FootageSpec("girl-3", "studio", True, width, height, frames, look="hair spill"),
        FootageSpec("girl-1", "studio", True, width, height, frames, motion="still"),
        FootageSpec("girl-3", "avatar", False, width, height, frames),
        FootageSpec("girl-3", "avatar", False, width, height, frames, motion="slide"),
        FootageSpec("girl-2", "muslin", True, width, height, frames, crf=0),
    ]


def make_clips(folder: str | Path, specs: list[FootageSpec]) -> list[FootageClip]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    clips = []
    for s in specs:
        kind = "camera" if s.camera else "clean"
        moved = f"_h{s.hue_shift:+g}_l{s.light_scale:g}" if s.moved else ""
        moved += f"_{s.look.replace(' ', '-')}" if s.look else ""
        moved += f"_{s.motion}" if s.motion != "drift" else ""
        moved += f"_crf{s.crf}" if s.crf != CRF else ""
        moved += f"_chroma-{s.chroma}" if s.chroma != "left" else ""
        screen = s.screen.replace(" ", "-")
        path = folder / (
            f"footage_v{TRUTH_VERSION}_{s.foreground}_{screen}_{kind}{moved}_"
            f"{s.width}x{s.height}_{s.frames}f.mp4"
        )
        if not path.exists():
            encode(path, s)
        clips.append(FootageClip(path, s))
    return clips


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--out", default="/tmp/chromakey-footage")
    p.add_argument("--frames", type=int, default=24)
    a = p.parse_args(argv)
    for c in make_clips(a.out, all_specs(a.frames)):
        print(f"{c.name}: {c.path} ({c.path.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
