"""Publish to a WHIP endpoint with FFmpeg's own WebRTC stack: PyAV's ``whip`` muxer.

``python3 tests/webrtc_ffmpeg_whip.py SOURCE URL [--seconds S] [--gnutls-cert] [--stamps]
[--start N] [-v]`` encodes SOURCE — a clip (its video and audio), or ``synthetic:WxH``, a
green-screen picture with the frame counter of tests/webrtc_page.py and a 440 Hz tone — to
H.264 (no B-frames, zero latency) and Opus, the codecs the muxer takes, and writes them to
URL at real time. ``--stamps`` prints ``drew N MS`` (wall clock, ms) as each frame goes to
the encoder; ``--start`` is the first frame number. FFmpeg's log goes to standard error.
The muxer gets a P-256 certificate unless ``--gnutls-cert`` (see :func:`p256_identity`).
"""

from __future__ import annotations

import argparse
import datetime
import logging
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def p256_identity(folder: Path) -> dict[str, str]:
    """A self-signed ECDSA P-256 certificate and key for the muxer's DTLS (``cert_file``,
    ``key_file``): without them FFmpeg's GnuTLS backend makes a P-224 one, which OpenSSL
    peers (aiortc) refuse with illegal_parameter, P-224 being outside their groups."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ffmpeg-whip")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "whip-cert.pem", folder / "whip-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return {"cert_file": str(cert_file), "key_file": str(key_file)}


def _synthetic(width: int, height: int, seconds: float, start: int):  # noqa: ANN202
    """(time, frame) pairs: the page's avatar layout on #008000, counter in the top row."""
    from webrtc_page import BARCODE_BITS, BARCODE_CELL

    base = np.zeros((height, width, 3), np.uint8)
    base[:] = (0, 128, 0)
    base[int(height * 0.62) :, int(width * 0.3) : int(width * 0.7)] = (0x30, 0x50, 0xA0)
    yy, xx = np.mgrid[:height, :width]
    face = (xx - width / 2) ** 2 + (yy - height * 0.42) ** 2 < (height * 0.2) ** 2
    base[face] = (0xD9, 0xA0, 0x66)
    rate = 48000
    tone = (0.3 * 32767 * np.sin(2 * np.pi * 440 * np.arange(960) / rate)).astype(np.int16)
    n, samples = 0, 0
    while n / 30 < seconds:
        while samples / rate <= n / 30:
            chunk = np.repeat(tone.reshape(1, -1), 2, axis=0).T.reshape(1, -1)
            f = av.AudioFrame.from_ndarray(chunk, format="s16", layout="stereo")
            f.sample_rate = rate
            yield samples / rate, f
            samples += 960
        rgb = base.copy()
        for b in range(BARCODE_BITS):
            on = ((n + start) >> b) & 1
            rgb[:BARCODE_CELL, b * BARCODE_CELL : (b + 1) * BARCODE_CELL] = 255 if on else 0
        yield n / 30, av.VideoFrame.from_ndarray(rgb, format="rgb24")
        n += 1


def _clip(path: str, seconds: float):  # noqa: ANN202
    src = av.open(path)
    for frame in src.decode(src.streams.video[0], *src.streams.audio[:1]):
        t = float(frame.time or 0)
        if t > seconds:
            break
        yield t, frame


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("source")
    parser.add_argument("url")
    parser.add_argument("--seconds", type=float, default=1e9)
    parser.add_argument("--gnutls-cert", action="store_true")
    parser.add_argument("--stamps", action="store_true")
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("-v", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
    av.logging.set_level(av.logging.DEBUG if args.v else av.logging.VERBOSE)
    if args.source.startswith("synthetic:"):
        width, height = (int(x) for x in args.source.split(":", 1)[1].split("x"))
        frames = _synthetic(width, height, args.seconds, args.start)
    else:
        with av.open(args.source) as probe:
            ctx = probe.streams.video[0].codec_context
            width, height = ctx.width, ctx.height
        frames = _clip(args.source, args.seconds)
    options = {"handshake_timeout": "10000"}
    if not args.gnutls_cert:
        options |= p256_identity(Path(tempfile.mkdtemp(prefix="whip-")))
    out = av.open(args.url, "w", format="whip", options=options)
    v = out.add_stream("libx264", rate=30)
    v.width, v.height, v.pix_fmt = width, height, "yuv420p"
    v.options = {"tune": "zerolatency", "preset": "ultrafast", "bf": "0", "g": "30"}
    v.codec_context.time_base = Fraction(1, 30)
    a = out.add_stream("libopus", rate=48000)
    a.layout = "stereo"
    resampler = av.AudioResampler(format="s16", layout="stereo", rate=48000)
    out.start_encoding()  # the WHIP exchange, ICE and DTLS: before the clock starts
    start = time.monotonic()
    n = 0
    for t, frame in frames:
        ahead = t - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)
        if isinstance(frame, av.VideoFrame):
            frame.pts, frame.time_base = n, Fraction(1, 30)
            if args.stamps:
                print(f"drew {n + args.start} {time.time() * 1000:.1f}", flush=True)
            n += 1
            for p in v.encode(frame.reformat(format="yuv420p")):
                out.mux(p)
        else:
            frame.pts = None
            for f in resampler.resample(frame):
                for p in a.encode(f):
                    out.mux(p)
    for p in [*v.encode(None), *a.encode(None)]:
        out.mux(p)
    out.close()
    print(f"published {n} frames", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
