"""PNG output: a numbered sequence (published together at the end) and single pictures (the
preview's screenshot), both written under partial names first."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from ...core import signals
from ...core.errors import OutputError, ParameterError
from ...core.frames import YuvImage
from ..media import writing
from .base import Sink, rgb_image
from .partial import (
    Warn,
    check_folder,
    clear_stale,
    create_partial,
    discard,
    partial_name,
    publish,
)


def _encoder(width: int, height: int, fmt: str) -> Any:
    codec = av.CodecContext.create("png", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, fmt
    codec.time_base = Fraction(1, 1000)
    return codec


def _png_bytes(codec: Any, image: np.ndarray, fmt: str) -> bytes:
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format=fmt)
    return b"".join(bytes(p) for p in [*codec.encode(frame)])


class PngSequenceSink(Sink):
    """Numbered PNGs (RGB, or straight RGBA when transparent), published together at the end."""

    def __init__(
        self,
        pattern: str | os.PathLike[str],
        *,
        alpha: bool,
        start: int = 1,
        warn: Warn | None = None,
    ) -> None:
        self.pattern = str(pattern)
        try:
            self.pattern % 1
        except (TypeError, ValueError) as exc:
            raise ParameterError(
                f"{self.pattern}: a PNG sequence needs one %d-style number, like out/%05d.png"
            ) from exc
        self.folder = Path(self.pattern).parent
        parent = self.folder.parent if str(self.folder) not in ("", ".") else Path(".")
        if not parent.is_dir():
            raise OutputError(
                f"{self.pattern}: the folder {parent} does not exist; create it first",
                path=self.pattern,
            )
        if self.folder.exists() and not self.folder.is_dir():
            raise OutputError(
                f"{self.pattern}: {self.folder} is a file, not a folder", path=self.pattern
            )
        self.pixel_format = "rgba" if alpha else "rgb24"
        self.index = start
        prefix = f".{self.folder.name or 'frames'}"
        clear_stale(parent / "x", prefix=prefix, suffix="", warn=warn)
        self.tmpdir = parent / partial_name(parent / "x", prefix=prefix, suffix="")
        signals.track(self.tmpdir)  # before it exists: no instant where it is there, unknown
        with writing(self.pattern, self.tmpdir):
            self.tmpdir.mkdir()
        self._codec: Any = None
        self.written: list[str] = []

    def write(self, image: np.ndarray | YuvImage, time: float) -> None:
        image = rgb_image(image)
        fmt = "rgba" if image.shape[2] == 4 else "rgb24"
        h, w = image.shape[:2]
        codec = self._codec
        if codec is None or (codec.width, codec.height, codec.pix_fmt) != (w, h, fmt):
            codec = self._codec = _encoder(w, h, fmt)
        name = Path(self.pattern % self.index).name
        target = self.tmpdir / name
        with writing(self.pattern, target), open(target, "wb") as fh:
            fh.write(_png_bytes(codec, image, fmt))
        self.written.append(name)
        self.index += 1

    def close(self) -> None:
        try:
            with writing(self.pattern, self.folder / "x"):
                self.folder.mkdir(exist_ok=True)
                for name in self.written:
                    os.replace(self.tmpdir / name, self.folder / name)
        finally:
            discard(self.tmpdir)

    def abort(self) -> None:
        discard(self.tmpdir)


def write_png(path: str | os.PathLike[str], rgb: np.ndarray, *, warn: Warn | None = None) -> Path:
    """An RGB(A) uint8 image to one PNG through PyAV, under a partial name until complete."""
    path = Path(path)
    check_folder(path)
    fmt = "rgba" if rgb.ndim == 3 and rgb.shape[2] == 4 else "rgb24"
    codec = _encoder(rgb.shape[1], rgb.shape[0], fmt)
    data = _png_bytes(codec, rgb, fmt) + b"".join(bytes(p) for p in codec.encode(None))
    tmp = create_partial(path, warn=warn)
    try:
        with writing(str(path), path), open(tmp, "wb") as fh:
            fh.write(data)
    except BaseException:
        discard(tmp)
        raise
    publish(tmp, path)
    return path
