"""What the command line and the preview window share: the parser that turns argparse's
complaints into our one-line errors, the keyer options, the exit statuses."""

from __future__ import annotations

import argparse
import dataclasses
from typing import NoReturn

from ..core.color import CHROMA_SITINGS, MATRICES, RANGES, InputColour
from ..core.errors import ParameterError
from ..core.params import INTEGER_FIELDS, SCREEN_FAMILIES, KeyerParams

EXIT_INTERNAL = 70  # EX_SOFTWARE (sysexits.h): a bug of ours, not the user's input
BACKEND_CHOICES = ("auto", "cpu", "gpu")


class Parser(argparse.ArgumentParser):
    """argparse with its errors raised as ParameterError (one line, exit status 2)."""

    def error(self, message: str) -> NoReturn:
        raise ParameterError(f"{message} (see '{self.prog} --help')")


def add_keyer_options(p: argparse.ArgumentParser) -> None:
    """One option per KeyerParams field, ``--hue-min`` for ``hue_min``, with its help text."""
    g = p.add_argument_group("keyer", "how the screen is found and removed (defaults in brackets)")
    for f in dataclasses.fields(KeyerParams):
        flag = "--" + f.name.replace("_", "-")
        if f.name == "screen_color":
            g.add_argument(
                flag,
                metavar="#RRGGBB",
                help="screen colour to key (its hue and saturation set the window); "
                "default: measured from the frames",
            )
            continue
        if f.name == "screen":
            g.add_argument(
                flag,
                choices=sorted(SCREEN_FAMILIES),
                help=f"{KeyerParams.help(f.name)}; the window is then measured within it [green]",
            )
            continue
        if f.name in ("auto_hue", "auto_sat"):
            continue  # set by giving the window's own options (keyer_params)
        kind = int if f.name in INTEGER_FIELDS else float
        g.add_argument(
            flag, type=kind, metavar="N", help=f"{KeyerParams.help(f.name)} [{f.default}]"
        )


def add_colour_options(p: argparse.ArgumentParser) -> None:
    """``--input-matrix``, ``--input-range`` and ``--input-chroma-siting``: what the input's YUV
    numbers mean, over its tags."""
    g = p.add_argument_group(
        "input colour", "override what the input's tags (or their absence) say"
    )
    g.add_argument(
        "--input-matrix",
        choices=MATRICES,
        help="the YUV matrix of the input [its tag; untagged: BT.709 for HD files, BT.601 "
        "below, BT.709 for WebRTC publishers]",
    )
    g.add_argument(
        "--input-range",
        choices=RANGES,
        help="the YUV range of the input [its tag; untagged: limited for files, full for "
        "WebRTC publishers]",
    )
    g.add_argument(
        "--input-chroma-siting",
        choices=CHROMA_SITINGS,
        help="where the input's subsampled chroma sits across: left, H.264's (co-sited with "
        "even columns), or center, as FFmpeg's swscale and libyuv convert RGB [left; WebRTC: "
        "center]",
    )


def input_colour(args: argparse.Namespace) -> InputColour:
    return InputColour.parse(
        getattr(args, "input_matrix", None),
        getattr(args, "input_range", None),
        getattr(args, "input_chroma_siting", None),
    )


def keyer_params(args: argparse.Namespace) -> KeyerParams:
    """The KeyerParams the given options ask for; defaults for the rest."""
    given = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(KeyerParams)
        if getattr(args, f.name, None) is not None
    }
    return KeyerParams.given(given)
