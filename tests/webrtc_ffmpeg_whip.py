"""Publish a clip to a WHIP endpoint with FFmpeg's own WebRTC stack: PyAV's ``whip`` muxer.

``python3 tests/webrtc_ffmpeg_whip.py CLIP URL [SECONDS]`` re-encodes CLIP's video to H.264
(baseline-like: no B-frames, zero latency) and its audio to Opus, the codecs the muxer
takes, and writes them to URL at real time. FFmpeg's log goes to standard error.
"""

from __future__ import annotations

import datetime
import logging
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av


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


def main(clip: str, url: str, seconds: float = 1e9, p256: bool = True) -> int:
    logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
    av.logging.set_level(av.logging.DEBUG if "-v" in sys.argv else av.logging.VERBOSE)
    src = av.open(clip)
    vin, ain = src.streams.video[0], src.streams.audio[0]
    options = {"handshake_timeout": "10000"}
    if p256:
        options |= p256_identity(Path(tempfile.mkdtemp(prefix="whip-")))
    out = av.open(url, "w", format="whip", options=options)
    v = out.add_stream("libx264", rate=30)
    v.width, v.height, v.pix_fmt = vin.codec_context.width, vin.codec_context.height, "yuv420p"
    v.options = {"tune": "zerolatency", "preset": "ultrafast", "bf": "0", "g": "30"}
    v.codec_context.time_base = Fraction(1, 30)
    a = out.add_stream("libopus", rate=48000)
    a.layout = "stereo"
    resampler = av.AudioResampler(format="s16", layout="stereo", rate=48000)
    start = time.monotonic()
    n = 0
    for frame in src.decode(vin, ain):
        t = float(frame.time or 0)
        if t > seconds:
            break
        ahead = t - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)
        if isinstance(frame, av.VideoFrame):
            frame.pts, frame.time_base = n, Fraction(1, 30)
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
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    seconds = float(args[2]) if len(args) > 2 else 1e9
    sys.exit(main(args[0], args[1], seconds, p256="--gnutls-cert" not in sys.argv))
